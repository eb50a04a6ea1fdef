"""Redaction the standard can express: spend's supplier, as the Transparency Code allows."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.ingest.compile import redacted_expression
from joinedup.ingest.mapping import parse_mapping
from joinedup.ingest.pipeline import IngestRequest, ingest
from joinedup.ingest.suggest import suggest_for_file
from joinedup.standards import (
    REDACTION_MARKERS_KEY,
    REDACTION_PATTERN,
    StandardDefinitionError,
    load_schema,
    marker_key,
    redactable_fields,
    redaction_markers,
)
from joinedup.standards.registry import _check_definition
from joinedup.store import SnapshotStore

SPEND = """Service Area,Expenditure Catergory,Paid Date,Trans No,Amount,Supplier Name,Type
Adults,Care Fees,01/04/2026,T1,"1,250.00",Acme Care Ltd,Revenue
Adults,Care Fees,02/04/2026,T2,600.00,,Revenue
Adults,Care Fees,02/04/2026,T3,700.00,REDACTED,Revenue
Housing,Repairs,03/04/2026,T4,900.00,Redacted - personal data,Capital
Housing,Repairs,03/04/2026,T5,950.00,Private Individual,Capital
Housing,Repairs,04/04/2026,T6,1000.00,Builders Ltd,Capital
"""


@pytest.mark.parametrize(
    "value",
    ["REDACTED", "Redacted - personal data", "redacted (personal data)", "Withheld", "GDPR"],
)
def test_redaction_markers(value: str) -> None:
    assert re.fullmatch(REDACTION_PATTERN, value)


@pytest.mark.parametrize("value", ["Acme Ltd", "Individual Care Services Ltd", "Removals R Us"])
def test_supplier_names_are_not_markers(value: str) -> None:
    assert not re.fullmatch(REDACTION_PATTERN, value)


def test_only_string_fields_can_be_redactable() -> None:
    assert redactable_fields("spend") == ["supplier_name"]
    bad = {
        "fields": [
            {
                "name": "n",
                "type": "number",
                "title": "N",
                "description": "d",
                "x-joinedup-personal": False,
                "x-joinedup-redactable": True,
            }
        ]
    }
    with pytest.raises(StandardDefinitionError, match="redactable"):
        _check_definition("x", bad)


def test_redacted_suppliers_are_accepted_counted_and_published_as_redacted(
    db_settings: Settings, tmp_path: Path
) -> None:
    with session_scope(db_settings) as session:
        session.add(Organisation(code="lambeth", name="Lambeth", gss_code="E09000022"))
    source = tmp_path / "spend-2026-04.csv"
    source.write_text(SPEND)
    draft = suggest_for_file(db_settings, source, "spend").draft  # unedited
    result = ingest(
        db_settings,
        IngestRequest(
            "lambeth", "spend", source, mapping=parse_mapping(draft), today=date(2026, 12, 1)
        ),
    )
    assert (result.rows, result.accepted, result.rejected) == (6, 6, 0)
    assert result.report["redacted"] == {"supplier_name": 4}
    with session_scope(db_settings) as session:
        version = session.scalars(select(DatasetVersion)).one()
        assert version.details["report"]["redacted"] == {"supplier_name": 4}
        accepted = SnapshotStore(db_settings).sql_source(version.snapshot_sha256)
    names = (
        duckdb.connect()
        .execute(f"SELECT supplier_name, capital_revenue FROM {accepted} ORDER BY _source_row")
        .fetchall()
    )
    assert [n for n, _ in names] == [
        "Acme Care Ltd",
        "Redacted",
        "Redacted",
        "Redacted",
        "Redacted",
        "Builders Ltd",
    ]
    assert {c for _, c in names} == {"revenue", "capital"}


def test_a_field_names_its_own_markers_in_any_case_and_punctuation() -> None:
    spec = load_schema("spend")["fields"]
    supplier = next(f for f in spec if f["name"] == "supplier_name")
    markers = redaction_markers(supplier)
    assert markers is not None and "" in markers and "redacted personal data" in markers
    assert marker_key(" REDACTED – Personal  Data ") == marker_key("Redacted (personal data)")
    assert redaction_markers({"name": "n", "type": "string"}) is None  # not redactable


@pytest.mark.parametrize(
    "item",
    [
        {REDACTION_MARKERS_KEY: ["REDACTED"]},  # not redactable
        {"x-joinedup-redactable": True, REDACTION_MARKERS_KEY: "REDACTED"},
        {"x-joinedup-redactable": True, REDACTION_MARKERS_KEY: []},
        {"x-joinedup-redactable": True, REDACTION_MARKERS_KEY: ["REDACTED", 1]},
    ],
)
def test_markers_are_a_list_of_strings_on_a_redactable_field(item: dict[str, object]) -> None:
    field = {"name": "n", "type": "string", "title": "N", "description": "d",
             "x-joinedup-personal": False, **item}  # fmt: skip
    with pytest.raises(StandardDefinitionError, match="redaction-markers"):
        _check_definition("x", {"fields": [field]})


def test_declared_markers_decide_what_is_redacted_in_duckdb() -> None:
    rows = [None, "REDACTED", "redacted - Personal Data", "Removed", "Acme Ltd"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in rows])

    def run(markers: tuple[str, ...] | None) -> list[object]:
        sql = f"SELECT {redacted_expression('v', markers)} FROM t ORDER BY rowid"
        return [r[0] for r in con.execute(sql).fetchall()]

    declared = ("redacted", "redacted personal data")  # blank is not declared here
    assert run(declared) == [None, "Redacted", "Redacted", "Removed", "Acme Ltd"]
    assert run(("", *declared))[0] == "Redacted"
    # Without declared markers: blank and the default pattern ("Removed" matches it).
    assert run(None) == ["Redacted", "Redacted", "Redacted", "Redacted", "Acme Ltd"]


def test_only_the_declared_markers_of_spend_are_redacted(
    db_settings: Settings, tmp_path: Path
) -> None:
    with session_scope(db_settings) as session:
        session.add(Organisation(code="lambeth", name="Lambeth", gss_code="E09000022"))
    source = tmp_path / "spend-2026-05.csv"
    source.write_text(
        SPEND.replace("Private Individual", "REDACTED (Personal Data)").replace(
            "Builders Ltd", "Removed"
        )
    )
    draft = suggest_for_file(db_settings, source, "spend").draft
    result = ingest(
        db_settings,
        IngestRequest(
            "lambeth", "spend", source, mapping=parse_mapping(draft), today=date(2026, 12, 1)
        ),
    )
    # blank, REDACTED, "Redacted - personal data" and "REDACTED (Personal Data)": declared;
    # "Removed" matches the default pattern, but spend does not declare it: a value.
    assert result.report["redacted"] == {"supplier_name": 4}
    assert result.accepted == 6
    assert re.fullmatch(REDACTION_PATTERN, "Removed")
