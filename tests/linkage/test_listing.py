"""One source listing, two people; and the register's attainer dates.

A source that lists each person once (one assessment of a benefit claim, one publication of an
electoral register) says by itself that two of its entries are two people: such a pair is a
hard cannot-link. An elector without an attainer date is 18 on the register's date.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pytest

from joinedup.linkage import comparisons as c
from joinedup.linkage.cluster import cannot_link_sql
from joinedup.linkage.inputs import _adult_by_sql, _listing_sql, fields_for


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def test_listing_keys_name_one_assessment_or_one_publication(con) -> None:
    rows = {
        "_standard": [
            "benefit_claim",
            "benefit_claim",
            "benefit_claim",
            "electoral_register",
            "school_census",
        ],
        "_organisation": ["lambeth"] * 5,
        "_dataset": ["benefit-claims"] * 3 + ["electoral-register", "school-census"],
        "household_ref": ["HB1", "HB1", "HB1", None, "F1"],
        "assessment_start_date": [date(2025, 4, 5), date(2025, 4, 5), None, None, None],
        "assessment_end_date": [date(2025, 5, 31), None, None, None, None],
        "register_date": [None, None, None, date(2025, 12, 1), None],
    }
    con.register("t", pa.table(rows))
    columns = set(rows)
    keys = [r[0] for r in con.execute(f"SELECT {_listing_sql(columns)} FROM t").fetchall()]
    assert keys == [
        "lambeth/benefit-claims/HB1/2025-04-05/2025-05-31",
        "lambeth/benefit-claims/HB1/2025-04-05/",  # the current assessment has no end
        None,  # no assessment dates (a 1.0.0 file): no listing, no constraint
        "lambeth/electoral-register/2025-12-01",
        None,  # a standard without a listing
    ]
    # without the fields (an older reader's columns) nothing has a listing
    assert _listing_sql({"_standard"}) == "CAST(NULL AS VARCHAR)"
    assert "assessment_end_date" in fields_for("benefit_claim")
    assert "attainer_date" in fields_for("electoral_register")


def _gammas(**changes: int) -> str:
    given, middle, dob = c.given_name(), c.middle_names(), c.date_of_birth()
    values = {
        "gamma_given_name": c.gamma(given, "exact"),
        "gamma_middle_names": c.gamma(middle, "exact"),
        "gamma_date_of_birth": c.gamma(dob, "exact"),
        "gamma_sex": c.gamma(c.sex(), "same"),
        "gamma_source": c.gamma(c.source(), "different datasets"),
        **changes,
    }
    return ", ".join(f"{v} AS {k}" for k, v in values.items())


def test_two_people_of_one_listing_never_link_whatever_the_probability(con) -> None:
    same = c.gamma(c.source(), c.SAME_LISTING)

    def refused(gammas: str, with_source: bool = True) -> bool:
        condition = cannot_link_sql(0.9, with_source=with_source)
        scored = f"SELECT 0.999 AS match_probability, 25.0 AS match_weight, {gammas}"
        sql = f"SELECT {condition} FROM ({scored})"
        return bool(con.execute(sql).fetchall()[0][0])

    assert refused(_gammas(gamma_source=same))
    assert not refused(_gammas())
    # the standalone commands' model has no source comparison
    assert "gamma_source" not in cannot_link_sql(0.9, with_source=False)
    level = next(
        lv for lv in c.source()["comparison_levels"] if lv["label_for_charts"] == c.SAME_LISTING
    )
    assert level["m_probability"] < level["u_probability"]  # evidence against, in the waterfall
    assert level["fix_m_probability"] and level["fix_u_probability"]


def test_an_elector_without_an_attainer_date_is_an_adult(con) -> None:
    rows = {
        "_standard": ["electoral_register"] * 3 + ["electoral_register", "council_tax"],
        "_organisation": ["lambeth"] * 3 + ["lewisham", "lambeth"],
        "_dataset": ["electoral-register"] * 4 + ["council-tax-accounts"],
        "register_date": [date(2025, 12, 1)] * 4 + [None],
        "attainer_date": [None, date(2026, 3, 14), None, None, None],
        "period": [None, None, None, None, "2025-04"],
        "n": [0, 1, 2, 3, 4],
    }
    con.register("t", pa.table(rows))
    adult_by = [
        r[0] for r in con.execute(f"SELECT {_adult_by_sql(set(rows))} FROM t ORDER BY n").fetchall()
    ]
    assert adult_by == [
        date(2007, 12, 1),  # on the register without an attainer date: 18
        date(2009, 3, 14),  # an attainer, 18 on 14 March 2026 (a year's leeway for slips)
        date(2007, 12, 1),
        date(2009, 12, 1),  # a register that prints no attainer dates at all: 16
        date(2007, 4, 1),  # a council tax payer: 18
    ]
