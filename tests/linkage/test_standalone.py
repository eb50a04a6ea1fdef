"""`joinedup match` and `joinedup dedupe` on small CSVs with odd headers and dd/mm/yyyy dates."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.linkage import model as m
from joinedup.linkage.names import register_variants
from joinedup.linkage.prepare import prepare_sql

LEFT = """Client Ref,Forename,Surname,D.O.B,Post Code,Gender
A1,Robert,Smith,01/02/1980,SW1A 1AA,M
A2,Elizabeth,Jones,15/07/1975,SE1 7PB,F
A3,Mohammed,Khan,03/03/2001,E1 6AN,M
A4,Anna,Nowak,21/11/2013,SE22 7AJ,F
"""
RIGHT = """id,first_name,last_name,dob,postcode,sex
B1,Bob,Smith,19800201,sw1a1aa,Male
B2,Liz,Jones,1975-07-15,SE1 7PB,Female
B3,Muhammad,Khan,2001-03-03,E1 6AN,Male
B9,John,Brown,1990-01-01,N1 1AA,Male
"""
DUPES = """Ref No,Name (first),FAMILY,Birth Date,PCODE
1,Oliver,Jones,19/04/2020,SE21 4LY
2,Ollie,Jones,19/04/2020,SE21 4LY
3,Amelia,Jones,03/08/2017,SE21 4LY
4,Amelia,Jones,08/03/2017,SE21 4LY
5,Grace,Taylor,01/01/1950,N1 1AA
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_match_links_nicknames_and_formats(tmp_path: Path) -> None:
    left, right, out = tmp_path / "left.csv", tmp_path / "right.csv", tmp_path / "pairs.csv"
    left.write_text(LEFT)
    right.write_text(RIGHT)
    result = CliRunner().invoke(
        app, ["match", str(left), str(right), "--out", str(out), "--threshold", "0.9"]
    )
    assert result.exit_code == 0, result.output
    pairs = {(r["left_id"], r["right_id"]) for r in _rows(out)}
    assert pairs == {("A1", "B1"), ("A2", "B2"), ("A3", "B3")}
    assert list(_rows(out)[0]) == ["left_id", "right_id", "match_probability"]


def test_dedupe_with_a_map_override(tmp_path: Path) -> None:
    file, out = tmp_path / "people.csv", tmp_path / "clusters.csv"
    file.write_text(DUPES)
    result = CliRunner().invoke(
        app,
        [
            "dedupe",
            str(file),
            "--out",
            str(out),
            "--id",
            "Ref No",
            "--map",
            "Name (first)=given_name",
            "--map",
            "FAMILY=family_name",
        ],
    )
    assert result.exit_code == 0, result.output
    clusters = {r["record_id"]: r["cluster_id"] for r in _rows(out)}
    assert clusters["1"] == clusters["2"] == "1"  # Oliver / Ollie
    assert clusters["3"] == clusters["4"] == "3"  # day and month transposed
    assert clusters["5"] == "5"
    assert clusters["1"] != clusters["3"]


def test_a_bad_map_is_a_clear_error(tmp_path: Path) -> None:
    file = tmp_path / "people.csv"
    file.write_text(DUPES)
    result = CliRunner().invoke(
        app, ["dedupe", str(file), "--out", str(tmp_path / "o.csv"), "--map", "FAMILY=surname"]
    )
    assert result.exit_code == 1
    assert "unknown field 'surname'" in result.output


def _prepared(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str]]) -> str:
    """A prepared linkage table of (given name, family name, date of birth) rows."""
    con.execute(
        "CREATE TABLE raw (record_key VARCHAR, given_name VARCHAR, family_name VARCHAR, "
        "date_of_birth DATE)"
    )
    con.executemany(
        "INSERT INTO raw VALUES (?, ?, ?, ?)", [(str(i), *r) for i, r in enumerate(rows)]
    )
    columns = ["record_key", "given_name", "family_name", "date_of_birth"]
    con.execute(f"CREATE TABLE people AS {prepare_sql('raw', columns)}")
    return "people"


def test_loose_blocking_rules_are_used_only_within_the_pair_budget() -> None:
    # 40 records sharing a given name and nothing else: only a given-name rule compares them
    con = duckdb.connect()
    register_variants(con)
    rows = [("Amelia", f"Family{i}", f"19{50 + i}-01-0{1 + i % 9}") for i in range(40)]
    table = _prepared(con, rows)
    rules, pairs = m.blocking_rules_for(con, [table], "dedupe_only")
    assert "l.given_name = r.given_name" in rules and pairs >= 40 * 39 // 2
    rules, pairs = m.blocking_rules_for(con, [table], "dedupe_only", budget=100)
    assert rules == list(m.BLOCKING_RULES) and pairs < 100


def test_pairs_are_counted_as_splinks_blocking_analysis_counts_them() -> None:
    # names, dates and postcodes from small pools, so that every kind of rule makes pairs
    # and later rules find pairs earlier ones made; some values missing
    import random

    rng = random.Random(14)
    given = ["Amelia", "Oliver", "Jones", "Grace", None]
    family = ["Jones", "Smith", "Amelia", "Khan", None]
    dates = ["1980-02-01", "1975-07-15", "2001-03-03", None]
    postcodes = ["SE21 4LY", "SE21 4LZ", "N1 1AA", None]
    pools = [(d, p) for d in dates for p in postcodes]
    con = duckdb.connect()
    register_variants(con)
    for name in ("raw_a", "raw_b"):
        con.execute(
            f"CREATE TABLE {name} (record_key VARCHAR, given_name VARCHAR, "
            "family_name VARCHAR, date_of_birth DATE, postcode VARCHAR)"
        )
        rows = [
            (f"{name}{i}", rng.choice(given), rng.choice(family), *rng.choice(pools))
            for i in range(60)
        ]
        con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?)", rows)
        columns = ["record_key", "given_name", "family_name", "date_of_birth", "postcode"]
        con.execute(f"CREATE TABLE {name[4:]} AS {prepare_sql(name, columns)}")
    for tables, link_type in ((["a"], "dedupe_only"), (["a", "b"], "link_only")):
        everything = m.blocking_rules_for(con, tables, link_type, budget=10**9)
        assert everything == m._blocking_rules_by_splink(con, tables, link_type, 10**9)
        assert everything[0] == [*m.BLOCKING_RULES, *m.LOOSE_RULES] and everything[1] > 0
        # a budget that stops within the loose rules stops both at the same rule
        strict = m.blocking_rules_for(con, tables, link_type, budget=0)[1]
        budget = (strict + everything[1]) // 2
        cut = m.blocking_rules_for(con, tables, link_type, budget=budget)
        assert cut == m._blocking_rules_by_splink(con, tables, link_type, budget)
        assert strict <= cut[1] <= budget and len(cut[0]) < len(everything[0])


def test_lazy_levels_run_splinks_queries_without_the_pass_and_put_the_setting_back() -> None:
    from joinedup.linkage.splink_speed import FastDuckDBAPI

    con = duckdb.connect()
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    setting = "SELECT current_setting('disabled_optimizers') AS s"
    FastDuckDBAPI(con, lazy_levels=True)._execute_sql_against_backend(
        f"CREATE TABLE lazy AS {setting}"
    )
    FastDuckDBAPI(con)._execute_sql_against_backend(f"CREATE TABLE eager AS {setting}")
    assert con.execute("SELECT s FROM lazy").fetchall() == [
        ("filter_pushdown,common_subexpressions",)
    ]
    assert con.execute("SELECT s FROM eager").fetchall() == [("filter_pushdown",)]
    assert con.execute(setting).fetchall() == [("filter_pushdown",)]
