"""Rule loading, validation errors and compilation to DuckDB SQL (on real DuckDB tables)."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from joinedup.insight.compile import Context, compile_rule
from joinedup.insight.rules import RuleError, load_rule, load_rules, parse_rule, shipped_rules_dir

STARTER = {
    "fsm-eligible-not-registered",
    "school-outside-home-borough",
    "rent-arrears-with-children",
    "asc-alone-council-tax-arrears",
    "foodbank-claim-ending",
    "spd-other-adults",
    "csc-sibling-moved-borough",
}


def fsm_doc() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (shipped_rules_dir() / "fsm-eligible-not-registered.yaml").read_text()
    )
    return data


def test_the_starter_set_loads_and_validates() -> None:
    rules = {r.id: r for r in load_rules()}
    assert set(rules) == STARTER
    fsm = rules["fsm-eligible-not-registered"]
    assert fsm.purpose == "fsm" and fsm.severity == "high"
    assert [v.version for v in fsm.versions] == ["fsm-2018", "fsm-2026"]
    assert fsm.version_at(date(2026, 8, 31)).version == "fsm-2018"  # type: ignore[union-attr]
    assert fsm.version_at(date(2026, 9, 1)).version == "fsm-2026"  # type: ignore[union-attr]
    assert fsm.version_at(date(2017, 1, 1)) is None
    assert {r.purpose for r in rules.values()} == {"fsm", "early-help", "fraud-prevention"}


def _error(doc: dict[str, Any]) -> str:
    with pytest.raises(RuleError) as caught:
        parse_rule(doc, "my-rule.yaml")
    return str(caught.value)


def test_unknown_fields_are_named_with_the_file() -> None:
    doc = fsm_doc()
    doc["sources"]["claim"]["fields"].append("incom")
    assert _error(doc) == (
        "my-rule.yaml: sources.claim.fields: unknown field 'incom' of standard benefit_claim"
    )

    doc = fsm_doc()
    doc["colour"] = "red"
    assert _error(doc).startswith("my-rule.yaml: colour: unknown field (expected one of")

    doc = fsm_doc()
    doc["sources"]["pupil"]["filter"] = "x"
    assert _error(doc).startswith("my-rule.yaml: sources.pupil.filter: unknown field")

    doc = fsm_doc()
    doc["versions"][1]["where"] = ["claim.universal_credit AND claim.wealth > 0"]
    message = _error(doc)
    assert message.startswith("my-rule.yaml: versions[1].where[0]: unknown field 'claim.wealth'")
    assert "declare it in sources.claim.fields" in message


def test_expressions_are_checked() -> None:
    doc = fsm_doc()
    doc["where"] = ["nobody.x = 1"]
    assert "unknown source 'nobody'" in _error(doc)

    doc = fsm_doc()
    doc["where"] = ["fsm_eligible"]
    assert "where[0]: unknown name 'fsm_eligible': write alias.field" in _error(doc)

    doc = fsm_doc()
    doc["where"] = ["(SELECT 1)"]
    assert "must be an expression, not a query" in _error(doc)

    doc = fsm_doc()
    doc["where"] = ["pupil.fsm_eligible = = 1"]
    assert "where[0]: is not a valid SQL expression" in _error(doc)

    # an absent source cannot be used outside itself
    doc = fsm_doc()
    doc["where"] = ["registered.fsm_eligible"]
    assert "unknown source 'registered'" in _error(doc)

    doc = fsm_doc()
    doc["sources"]["pupil"]["where"] = ["count(*) > 1"]
    assert "may not aggregate" in _error(doc)


def test_structure_is_checked() -> None:
    doc = fsm_doc()
    doc["format"] = "joinedup-rule/9"
    assert _error(doc) == "my-rule.yaml: format: must be joinedup-rule/1"
    doc = fsm_doc()
    doc["severity"] = "urgent"
    assert "severity: must be one of high, low, medium" in _error(doc)
    doc = fsm_doc()
    doc["subject"] = "child"
    assert "subject: unknown source 'child'" in _error(doc)
    doc = fsm_doc()
    del doc["sources"]["claim"]["link"]
    assert "sources.claim.link: must be one of household, resident" in _error(doc)
    doc = fsm_doc()
    doc["sources"]["claim"]["standard"] = "payroll"
    assert "sources.claim.standard: must be one of" in _error(doc)
    doc = fsm_doc()
    doc["versions"] = list(reversed(doc["versions"]))
    assert "versions: must be in order of effective_from" in _error(doc)
    doc = fsm_doc()
    doc["versions"][0]["effective_from"] = "April 2018"
    assert "versions[0].effective_from: must be a date" in _error(doc)
    doc = fsm_doc()
    doc["reasons"] = ["claim.nothing"]
    assert "reasons[0]: unknown field 'claim.nothing'" in _error(doc)


def test_files_name_themselves(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("format: [unclosed\n")
    with pytest.raises(RuleError, match=r"^broken.yaml: is not valid YAML at line"):
        load_rule(bad)
    one = tmp_path / "one.yaml"
    two = tmp_path / "two.yaml"
    text = (shipped_rules_dir() / "spd-other-adults.yaml").read_text()
    one.write_text(text)
    two.write_text(text)
    with pytest.raises(RuleError, match=r"two.yaml: id: 'spd-other-adults' is also the id"):
        load_rules([tmp_path / "one.yaml", tmp_path / "two.yaml"])


# --- compilation, on real DuckDB tables -------------------------------------------------------

PROVENANCE = "_organisation VARCHAR, _dataset VARCHAR, _version INTEGER, _date DATE, _row BIGINT"
LINKED = "resident_id VARCHAR, household_id VARCHAR, household_residents BIGINT"


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    con.execute(
        f"""CREATE TABLE pupils (source_record_id VARCHAR, given_name VARCHAR,
            family_name VARCHAR, date_of_birth DATE, school_urn VARCHAR, school_la_code VARCHAR,
            census_date DATE, nc_year_group VARCHAR, fsm_eligible BOOLEAN, {LINKED},
            {PROVENANCE})"""
    )
    con.execute(
        f"""CREATE TABLE claims (source_record_id VARCHAR, claim_ref VARCHAR, role VARCHAR,
            benefit_type VARCHAR, universal_credit BOOLEAN, legacy_benefit VARCHAR,
            weekly_income DOUBLE, annual_income DOUBLE, claim_start_date DATE,
            claim_end_date DATE, assessment_start_date DATE, assessment_end_date DATE,
            {LINKED}, {PROVENANCE})"""
    )
    return {"pupil": "pupils", "registered": "pupils", "claim": "claims"}


def _pupil(con: duckdb.DuckDBPyConnection, rid: str, hh: str, census: str, fsm: bool) -> None:
    con.execute(
        "INSERT INTO pupils VALUES (?, 'A', 'B', '2015-01-01', '900001', 'E09000028', ?, '5', ?, "
        "?, ?, 3, 'southwark', 'school-census', 1, ?, 0)",
        [f"p-{rid}", census, fsm, rid, hh, census],
    )


def _claim(
    con: duckdb.DuckDBPyConnection,
    hh: str,
    ref: str,
    weekly: float | None,
    *,
    uc: bool = True,
    legacy: str | None = "none",
    row: int = 0,
    end: str | None = None,
    assessed: tuple[str | None, str | None] = (None, None),
) -> None:
    """A claimant's row; ``assessed`` is the assessment's (start, end), blank by default."""
    con.execute(
        "INSERT INTO claims VALUES (?, ?, 'claimant', 'council_tax_reduction', ?, ?, ?, NULL, "
        "'2024-01-01', ?, ?, ?, ?, ?, 3, 'lambeth', 'benefit-claims', 1, '2024-01-01', ?)",
        [f"{ref}/{row}", ref, uc, legacy, weekly, end, *assessed, f"adult-{hh}", hh, row],
    )


def _flags(con: duckdb.DuckDBPyConnection, tables: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    rule = parse_rule(fsm_doc(), "fsm.yaml")
    sql = compile_rule(rule, tables, Context(date(2026, 12, 1), "E09000022", "lambeth"))
    rows = con.execute(f'SELECT resident_id, rule_version, records, "values" FROM ({sql})')
    return {r[0]: r[1:] for r in rows.fetchall()}


def test_the_fsm_rule_follows_the_version_in_force() -> None:
    con = duckdb.connect()
    tables = _tables(con)
    # UC with £10,000 a year earned: eligible only from September 2026
    _claim(con, "h1", "C1", 10000 / 52)
    _pupil(con, "r-may", "h1", "2026-05-21", False)
    _pupil(con, "r-oct", "h1", "2026-10-15", False)
    # UC under £7,400: eligible under both; this child is registered (no flag)
    _claim(con, "h2", "C2", 100.0)
    _pupil(con, "r-reg", "h2", "2026-05-21", True)
    # legacy benefit not named (NULL) with income over the CTC limit: not eligible
    _claim(con, "h3", "C3", 20000 / 52, uc=False, legacy=None)
    _pupil(con, "r-legacy", "h3", "2026-10-15", False)
    # income support: eligible whatever the income
    _claim(con, "h4", "C4", 500.0, uc=False, legacy="income_support")
    _pupil(con, "r-is", "h4", "2026-05-21", False)
    # a claim that ended before the census: no flag
    _claim(con, "h5", "C5", 10.0, end="2026-01-31")
    _pupil(con, "r-ended", "h5", "2026-05-21", False)
    flags = _flags(con, tables)
    assert set(flags) == {"r-oct", "r-is"}
    assert flags["r-oct"][0] == "fsm-2026"
    assert flags["r-is"][0] == "fsm-2018"
    records = {r["alias"]: r for r in flags["r-oct"][1]}
    assert set(records) == {"pupil", "claim"}  # the absent source fires no record
    assert records["pupil"]["organisation"] == "southwark"
    assert records["claim"]["source_record_id"] == "C1/0"
    values = {(v["alias"], v["field"]): v for v in flags["r-oct"][2]}
    assert values[("claim", "annual_earned_income")]["value"] == "10000.0"
    assert values[("claim", "annual_earned_income")]["needs"] == ["annual_income", "weekly_income"]
    assert values[("pupil", "given_name")]["kind"] == "identity"


def test_latest_assessment_wins_and_a_registration_elsewhere_counts() -> None:
    con = duckdb.connect()
    tables = _tables(con)
    # two assessments of one claim: the later (higher row) says £20,000 → not eligible in May
    _claim(con, "h1", "C1", 100.0, row=1)
    _claim(con, "h1", "C1", 20000 / 52, row=2)
    _pupil(con, "r-1", "h1", "2026-05-21", False)
    # registered at another school (a second census record of the same child): no flag
    _claim(con, "h2", "C2", 100.0)
    _pupil(con, "r-2", "h2", "2026-05-21", False)
    _pupil(con, "r-2", "h2", "2026-05-21", True)
    assert _flags(con, tables) == {}


def test_the_assessment_in_force_at_the_census_decides_not_a_later_one() -> None:
    con = duckdb.connect()
    tables = _tables(con)
    # earnings fell in July 2026: the May census is judged on the assessment then in force
    # (£20,000, not eligible), although the claim's latest assessment (£1,000) is eligible
    _claim(con, "h1", "C1", 20000 / 52, row=1, assessed=("2024-01-01", "2026-06-30"))
    _claim(con, "h1", "C1", 1000 / 52, row=2, assessed=("2026-07-01", None))
    _pupil(con, "r-may", "h1", "2026-05-21", False)
    _pupil(con, "r-jan", "h1", "2026-01-15", False)
    # the other way round: eligible in May, earnings rose in July (the claim goes on)
    _claim(con, "h2", "C2", 1000 / 52, row=3, assessed=("2024-01-01", "2026-06-30"))
    _claim(con, "h2", "C2", 20000 / 52, row=4, assessed=("2026-07-01", None))
    _pupil(con, "r-2", "h2", "2026-05-21", False)
    # an assessment that ended before the census, with no later one in force: no claim then
    _claim(con, "h3", "C3", 100.0, row=5, assessed=("2024-01-01", "2026-03-31"))
    _pupil(con, "r-3", "h3", "2026-05-21", False)
    # one that starts after the census is not known at it
    _claim(con, "h4", "C4", 100.0, row=6, assessed=("2026-06-01", None))
    _pupil(con, "r-4", "h4", "2026-05-21", False)
    flags = _flags(con, tables)
    assert set(flags) == {"r-2"}
    records = {r["alias"]: r for r in flags["r-2"][1]}
    assert records["claim"]["source_record_id"] == "C2/3"
    values = {(v["alias"], v["field"]): v for v in flags["r-2"][2]}
    assert values[("claim", "annual_earned_income")]["value"] == "1000.0"


def test_an_unchanged_rule_document_is_not_mutated() -> None:
    doc = fsm_doc()
    before = copy.deepcopy(doc)
    parse_rule(doc, "fsm.yaml")
    assert doc == before
