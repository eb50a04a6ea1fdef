"""The namesake correction: people carrying a full name are counted by their dates of birth."""

from __future__ import annotations

import duckdb
import pytest

from joinedup.linkage import namesakes
from joinedup.linkage.names import register_variants
from joinedup.linkage.prepare import prepare_sql


def _prepared(rows: list[tuple[str, str, str, str | None]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    register_variants(con)
    con.execute(
        "CREATE TABLE raw (record_key VARCHAR, given_name VARCHAR, family_name VARCHAR, "
        "date_of_birth DATE)"
    )
    con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?)", rows)
    columns = ["record_key", "given_name", "family_name", "date_of_birth"]
    con.execute(f"CREATE TABLE records AS {prepare_sql('raw', columns)}")
    return con


def test_a_full_name_several_people_carry_is_lowered_and_one_persons_slips_are_not() -> None:
    rows = [
        # three people named KA ZHOU (dates of birth no slip explains), one record without
        ("1", "KA", "ZHOU", "1980-01-01"),
        ("2", "KA", "ZHOU", "1991-06-15"),
        ("3", "KA", "ZHOU", "2003-11-30"),
        ("4", "KA", "ZHOU", None),
        # one WEI ZHOU, recorded three times with slips in the date (one digit, transposed)
        ("5", "WEI", "ZHOU", "1975-03-04"),
        ("6", "WEI", "ZHOU", "1975-03-05"),
        ("7", "WEI", "ZHOU", "1975-04-03"),
    ]
    rows += [(str(10 + i), f"GIVEN{i}", f"FAMILY{i}", None) for i in range(40)]
    con = _prepared(rows)
    lookup = dict(con.execute(namesakes.lookup_sql(["records"])).fetchall())
    assert set(lookup) == {"KA ZHOU"}
    # people: 3 KA ZHOU + 1 WEI ZHOU + 40 others; given KA 4 of 47 records, ZHOU 7 of 47
    people, share_ka, share_zhou = 44, 4 / 47, 7 / 47
    assert lookup["KA ZHOU"] == pytest.approx((2 / people) / (share_ka * share_zhou))


def test_the_level_applies_only_without_dates_of_birth_at_other_addresses() -> None:
    level = namesakes.comparison()["comparison_levels"][1]
    assert level["label_for_charts"] == namesakes.LABEL
    condition = level["sql_condition"]
    assert "dob_l IS NULL OR dob_r IS NULL" in condition
    assert "postcode_l = postcode_r" in condition
    assert level["m_probability"] == level["u_probability"]  # no weight but the lookup's
