"""Namesakes: how often two different people share a *full* name, measured on the full name.

The given-name and family-name comparisons each weigh an exact agreement by how common the
value is (term frequencies), and Fellegi-Sunter adds the two as if independent: the chance
that two different people share KA ZHOU is taken as the chance of sharing KA times the
chance of sharing ZHOU. Given and family names are not independent (both follow a family's
origin), so that product can be far smaller than the share of people who really carry the
full name. Where the dates of birth cannot tell (one record has none), names decide, and a
full name that several people in the file carry then links a person to a namesake.

This comparison corrects the product where the file shows it is wrong. The people carrying
a full name are counted by their distinguishable dates of birth (dates that are not equal,
transposed or one slip from an earlier one: the date-of-birth comparison's own test), so that
one person's repeated records count once. With ``k`` such people among ``N`` in the file,
the chance that another person shares the name is ``(k - 1) / N``; where that is larger than
the product of the two names' frequencies, the pair's weight is lowered by the ratio (a
term-frequency adjustment on the level "same full name, no date of birth to compare"). It
never raises a weight, applies only where the records are at different addresses (at one
address the household levels weigh a namesake), and a full name one person carries
(``k = 1``) is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from joinedup.linkage.comparisons import DOB_COMPATIBLE

COLUMN = "full_name"
LABEL = "same full name, no date of birth to compare, other addresses"
#: The prepared column the level's term-frequency lookup is keyed on.
FULL_NAME_SQL = "s_given || ' ' || s_family"  # NULL where either is

_SAME_PLACE = (
    "coalesce(postcode_l = postcode_r, FALSE) OR coalesce(uprn_l = uprn_r, FALSE) "
    "OR coalesce(address_l = address_r, FALSE)"
)


def comparison() -> dict[str, Any]:
    """The comparison: its one weighted level has m = u (no weight of its own) and a
    term-frequency adjustment read from :func:`lookup_sql`'s table."""
    level = {
        "sql_condition": " ".join(
            f"""given_name_l = given_name_r AND family_name_l = family_name_r
            AND (dob_l IS NULL OR dob_r IS NULL) AND NOT ({_SAME_PLACE})""".split()
        ),
        "label_for_charts": LABEL,
        "m_probability": 1.0,
        "u_probability": 1.0,
        "fix_m_probability": True,
        "fix_u_probability": True,
        "tf_adjustment_column": COLUMN,
        "tf_adjustment_weight": 1.0,
        "disable_tf_exact_match_detection": True,
        "tf_minimum_u_value": 1.0,
    }
    return {
        "output_column_name": COLUMN,
        "comparison_description": "Full name carried by several people (namesakes)",
        "comparison_levels": [
            {
                "sql_condition": "full_name_l IS NULL OR full_name_r IS NULL",
                "label_for_charts": "missing",
                "is_null_level": True,
            },
            level,
            {
                "sql_condition": "ELSE",
                "label_for_charts": "other",
                "m_probability": 1.0,
                "u_probability": 1.0,
                "fix_m_probability": True,
                "fix_u_probability": True,
            },
        ],
    }


def lookup_sql(tables: Sequence[str]) -> str:
    """SELECT ``full_name, tf_full_name``: for each full name that more people carry than its
    parts' frequencies imply, that ratio (at least 1); the level's weight is minus its log2."""
    union = " UNION ALL ".join(
        f"SELECT given_name, family_name, full_name, dob, dob_str, dob_year, dob_month, dob_day "
        f"FROM {t}"
        for t in tables
    )
    dob_l_r = DOB_COMPATIBLE
    return f"""
    WITH r AS ({union}),
    given AS (
        SELECT given_name, count(*) / sum(count(*)) OVER () AS tf
        FROM r WHERE given_name IS NOT NULL GROUP BY ALL),
    family AS (
        SELECT family_name, count(*) / sum(count(*)) OVER () AS tf
        FROM r WHERE family_name IS NOT NULL GROUP BY ALL),
    dobs AS (
        SELECT DISTINCT full_name, dob, dob_str, dob_year, dob_month, dob_day
        FROM r WHERE full_name IS NOT NULL AND dob IS NOT NULL),
    later AS (
        -- a date of birth that an earlier one of the same name explains (a slip) is no new
        -- person
        SELECT DISTINCT r_.full_name, r_.dob
        FROM dobs l_ JOIN dobs r_ ON l_.full_name = r_.full_name AND l_.dob < r_.dob
        WHERE {_aliased(dob_l_r)}),
    people AS (
        SELECT n.full_name, n.given_name, n.family_name,
               greatest(1, coalesce(d.n, 0) - coalesce(x.n, 0)) AS k
        FROM (SELECT full_name, any_value(given_name) AS given_name,
                     any_value(family_name) AS family_name
              FROM r WHERE full_name IS NOT NULL GROUP BY full_name) n
        LEFT JOIN (SELECT full_name, count(*) AS n FROM dobs GROUP BY ALL) d USING (full_name)
        LEFT JOIN (SELECT full_name, count(*) AS n FROM later GROUP BY ALL) x
            USING (full_name)),
    total AS (SELECT sum(k) AS n FROM people)
    SELECT p.full_name, ((p.k - 1) / total.n) / (g.tf * f.tf) AS tf_full_name
    FROM people p
    CROSS JOIN total
    JOIN given g ON g.given_name = p.given_name
    JOIN family f ON f.family_name = p.family_name
    WHERE p.k > 1 AND ((p.k - 1) / total.n) > g.tf * f.tf"""


def _aliased(sql: str) -> str:
    """``DOB_COMPATIBLE`` (written over ``_l``/``_r`` columns) over the aliases ``l_``, ``r_``."""
    for column in ("dob_str", "dob_year", "dob_month", "dob_day", "dob"):
        sql = sql.replace(f"{column}_l", f"l_.{column}").replace(f"{column}_r", f"r_.{column}")
    return sql


def register(
    con: duckdb.DuckDBPyConnection,
    linker: Any,
    tables: Sequence[str],
    handover: Callable[[str], Any] | None = None,
) -> int:
    """Compute the lookup over ``tables`` and register it with ``linker`` (a Splink linker
    whose settings hold :func:`comparison`); returns the number of full names it lowers.
    ``handover`` gives the lookup to a linker on another engine (Spark: ADR 0038); the lookup
    itself is computed in DuckDB, from the prepared records."""
    con.execute(f"CREATE OR REPLACE TABLE __jd_tf_full_name AS {lookup_sql(tables)}")
    source = handover("__jd_tf_full_name") if handover else "__jd_tf_full_name"
    frame = linker._db_api.register(source, table_name="__jd_tf_full_name_in")
    linker.table_management.register_term_frequency_lookup(frame, COLUMN)
    return int(con.execute("SELECT count(*) FROM __jd_tf_full_name").fetchall()[0][0])
