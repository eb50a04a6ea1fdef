"""u probabilities fixed from the values themselves rather than sampled: identifiers
(same, or two characters transposed), exact-match fields, and household fields among pairs
of one household (random sampling rarely sees any of these). Used by :mod:`.model`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from joinedup.linkage.comparisons import GIVEN_COMPATIBLE

IDENTIFIERS = ("nhs_number", "ni_number", "upn")
#: Compared for equality like the identifiers, but a source's own id: records of one person
#: in different systems usually differ, so no prior says "different" is evidence against.
EXACT_IDS = (*IDENTIFIERS, "other_id")


SAME, TRANSPOSED = "same", "two characters transposed"


def identifier_u(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str]
) -> dict[str, dict[str, float]]:
    """u for "same identifier" and "two characters transposed": the chance two random records
    that both hold one hold the same, or one keyed with two neighbouring characters swapped,
    from the values' frequencies (random sampling rarely sees either)."""
    union = " UNION ALL ".join(f"SELECT {', '.join(EXACT_IDS)} FROM {t}" for t in tables)
    out: dict[str, dict[str, float]] = {}
    for column in EXACT_IDS:
        row = con.execute(
            f"""WITH v AS (SELECT {column} AS v FROM ({union}) WHERE {column} IS NOT NULL),
            f AS (SELECT v, count(*) AS n FROM v GROUP BY v),
            swapped AS (
                SELECT f.n, left(f.v, i - 1) || substr(f.v, i + 1, 1) || substr(f.v, i, 1)
                       || substr(f.v, i + 2) AS w
                FROM f, range(1, length(f.v)) t(i)
                WHERE substr(f.v, i, 1) <> substr(f.v, i + 1, 1))
            SELECT (SELECT sum(n * n) FROM f), (SELECT sum(n) FROM f),
                   (SELECT sum(s.n * f.n) FROM swapped s JOIN f ON f.v = s.w)"""
        ).fetchall()[0]
        squares, total, transposed = row
        if not total:
            out[column] = {SAME: 1e-9, TRANSPOSED: 1e-9}
            continue
        out[column] = {
            SAME: max(float(squares) / float(total) ** 2, 1e-12),
            TRANSPOSED: max(float(transposed or 0) / float(total) ** 2, 1e-12),
        }
    return out


#: Comparisons whose "exact" level is plain equality of one column: its u is the chance two
#: random records share the value, computed from the values' frequencies rather than
#: sampled (random sampling sees a shared date of birth a few times in a million pairs).
EXACT_COLUMNS = {
    "given_name": "given_name",
    "family_name": "family_name",
    "date_of_birth": "dob",
    "email": "email",
}


def exact_u(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, float]:
    """u of the "exact" level of :data:`EXACT_COLUMNS`, from value frequencies: among pairs
    of records (within the one table of a dedupe, across the tables of a link) that both
    hold a value, the share holding the same."""
    out: dict[str, float] = {}
    for name, column in EXACT_COLUMNS.items():
        counts = [
            f"SELECT CAST({column} AS VARCHAR) AS v, count(*) AS n FROM {t} "
            f"WHERE {column} IS NOT NULL GROUP BY ALL"
            for t in tables
        ]
        if len(tables) == 1:
            row = con.execute(f"SELECT sum(n * (n - 1)), sum(n) FROM ({counts[0]})").fetchall()[0]
            same, total = float(row[0] or 0), float(row[1] or 0)
            pairs = total * (total - 1)
        else:
            joins = " JOIN ".join(
                f"({c}) c{i}" + (" USING (v)" if i else "") for i, c in enumerate(counts)
            )
            product = " * ".join(f"c{i}.n" for i in range(len(tables)))
            same = float(con.execute(f"SELECT sum({product}) FROM {joins}").fetchall()[0][0] or 0)
            pairs = 1.0
            for c in counts:
                pairs *= float(con.execute(f"SELECT sum(n) FROM ({c})").fetchall()[0][0] or 0)
        if pairs > 0 and same > 0:
            out[name] = same / pairs
    return out


def with_exact_u(settings: dict[str, Any], u_known: dict[str, float]) -> dict[str, Any]:
    """Settings with the "exact" levels' u fixed from :func:`exact_u`."""
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        if name not in u_known:
            continue
        for level in comparison["comparison_levels"]:
            if level.get("label_for_charts") == "exact":
                level.update(u_probability=u_known[name], fix_u_probability=True)
    return settings


def with_identifier_u(
    settings: dict[str, Any], u_known: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Settings with the identifiers' u fixed from their frequencies ("different" takes the
    rest)."""
    for comparison in settings["comparisons"]:
        column = comparison["output_column_name"]
        if column not in u_known:
            continue
        known = u_known[column]
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            label = level["label_for_charts"]
            u = known[label] if label in known else 1 - sum(known.values())
            level.update(u_probability=u, fix_u_probability=True)
    return settings


#: m for levels that training could not observe (documented priors): a national identifier
#: agrees on 98% of a person's records with it (the rest are typos); any other level that never
#: occurs among blocked pairs is taken as rare among matches.
MIN_HOUSEHOLD_PAIRS = 30


def household_u(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, float]:
    """u of an exact given name, middle names and date of birth between two *different people
    of one household* (same postcode and family name), estimated without labels from household
    pairs that are clearly two people:

    * given name: pairs born more than a year apart (not explained by a slip) whose middle
      names conflict or whose national identifiers differ; the share with the same given
      name (a junior and senior);
    * date of birth and middle names: pairs whose given names conflict and whose sex,
      middle names or national identifiers also conflict; the share born on the same day
      (twins), and the share with the same middle names.

    Two signs, because one is not enough: in a file of duplicates (FEBRL, a spreadsheet of
    repeated registrations) most pairs at one address with one family name are one person,
    and a mistyped given name or date of birth alone would make the same date of birth or
    given name look common among "different" people, taking the weight off the strongest
    personal evidence. A comparison with fewer than :data:`MIN_HOUSEHOLD_PAIRS` such pairs
    gets no household level. With two files (a link), households are read within each.
    """
    dob_apart = (
        "abs(date_diff('day', l.dob, r.dob)) > 366 "
        "AND damerau_levenshtein(l.dob_str, r.dob_str) > 1"
    )
    given_conflict = "NOT " + GIVEN_COMPATIBLE.replace("_l", "_L").replace("_r", "_R")
    given_conflict = given_conflict.replace("given_name_L", "l.given_name").replace(
        "given_name_R", "r.given_name"
    )
    for col in ("middle_first", "given_variants", "given_sound", "family_name"):
        given_conflict = given_conflict.replace(f"{col}_L", f"l.{col}").replace(
            f"{col}_R", f"r.{col}"
        )
    ids_differ = " OR ".join(f"coalesce(l.{c} <> r.{c}, FALSE)" for c in IDENTIFIERS)
    middle_conflict = (
        "coalesce(NOT list_has_any(l.middle_parts, r.middle_parts) "
        "AND left(l.middle_first, 1) <> left(r.middle_first, 1), FALSE)"
    )
    sex_conflict = "coalesce(l.sex <> r.sex, FALSE)"
    sql = f"""WITH pairs AS (
            SELECT l.given_name AS gl, r.given_name AS gr, l.dob AS dl, r.dob AS dr,
                   l.middle_names AS ml, r.middle_names AS mr,
                   coalesce({dob_apart}, FALSE) AND ({middle_conflict} OR {ids_differ}) AS apart,
                   coalesce({given_conflict}, FALSE)
                   AND ({sex_conflict} OR {middle_conflict} OR {ids_differ}) AS conflict
            FROM {{table}} l JOIN {{table}} r
              ON l.postcode = r.postcode AND l.family_compact = r.family_compact
             AND l.rid < r.rid
            WHERE l.given_name IS NOT NULL AND r.given_name IS NOT NULL
              AND l.dob IS NOT NULL AND r.dob IS NOT NULL
        )
        SELECT count(*) FILTER (WHERE apart), count(*) FILTER (WHERE apart AND gl = gr),
               count(*) FILTER (WHERE conflict), count(*) FILTER (WHERE conflict AND dl = dr),
               count(*) FILTER (WHERE conflict AND ml IS NOT NULL AND mr IS NOT NULL),
               count(*) FILTER (WHERE conflict AND ml = mr)
        FROM pairs"""
    counts = [0] * 6
    for table in tables:
        row = con.execute(sql.format(table=table)).fetchall()[0]
        counts = [a + int(b or 0) for a, b in zip(counts, row, strict=True)]
    apart, same_given, conflict, same_dob, both_middle, same_middle = counts
    # add-one smoothing keeps them away from 0 and 1 on small data
    estimates = {
        "given_name": (apart, same_given),
        "date_of_birth": (conflict, same_dob),
        "middle_names": (both_middle, same_middle),
    }
    return {
        name: (same + 1) / (pairs + 2)
        for name, (pairs, same) in estimates.items()
        if pairs >= MIN_HOUSEHOLD_PAIRS
    }
