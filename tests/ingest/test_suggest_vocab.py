"""The suggestion engine: the sector's vocabulary, fuzzy headers, value evidence, confidence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.ingest.headers import phrase_similarity
from joinedup.ingest.mapping import parse_mapping
from joinedup.ingest.suggest import suggest_mapping
from joinedup.standards import StandardDefinitionError, list_standards
from joinedup.standards.vocab import aliases, parse_vocabulary

# The issue's council export: typos, renamings, Trans No, Type for capital/revenue.
COLUMNS = [
    "Organisatonal Unit",
    "Expenditure Catergory",
    "Paid Date",
    "Trans No",
    "Amount",
    "Supplier Name",
    "Type",
    "Service Area",
]
SAMPLE = {
    "Organisatonal Unit": ["Finance", "Housing", "Adults", "Adults"],
    "Expenditure Catergory": ["Office Supplies", "Repairs", "Care Fees", "Care Fees"],
    "Paid Date": ["01/04/2023", "03/04/2023", "05/04/2023", "05/04/2023"],
    "Trans No": ["100234", "100235", "100236", "100237"],
    "Amount": ["1,250.00", "800.50", "12000", "600"],
    "Supplier Name": ["Acme Ltd", "REDACTED", "Bright Care Homes Ltd", "Taxi Co"],
    "Type": ["Revenue", "Capital", "Revenue", "Revenue"],
    "Service Area": ["Corporate", "Housing", "Adults", "Adults"],
}


def _by_field(standard: str, columns: list[str], sample: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    draft, suggestions = suggest_mapping(standard, columns, sample)
    return draft, {s.field: s for s in suggestions}


def test_every_standard_vocabulary_loads_and_person_names_are_inherited() -> None:
    for standard in list_standards():
        assert aliases(standard)
    assert "Forename" in aliases("school_census")["given_name"]
    assert "Trans No" in aliases("spend")["transaction_number"]


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"format": "x", "standard": "spend", "fields": {}}, "format"),
        (
            {"format": "joinedup-vocabulary/1", "standard": "spend", "fields": {"nope": ["A"]}},
            "no field",
        ),
        (
            {"format": "joinedup-vocabulary/1", "standard": "spend", "fields": {"purpose": []}},
            "list",
        ),
        (
            {"format": "joinedup-vocabulary/1", "standard": "spend", "fields": {"purpose": ["__"]}},
            "not a name",
        ),
    ],
)
def test_a_broken_vocabulary_names_the_file_and_rule(data: dict[str, object], rule: str) -> None:
    with pytest.raises(StandardDefinitionError, match=rule) as err:
        parse_vocabulary("spend", data)
    assert "vocab/spend.yaml" in str(err.value)


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Trans No", "Transaction Number"),
        ("TRANS_NO", "Transaction Number"),
        ("caporrev", "Capital or Revenue"),
        ("Expenditure Catergory", "Expenditure Category"),
        ("Organisatonal Unit", "Organisational Unit"),
        ("supplierName", "Supplier Name"),
        ("PD", "Polling District"),
        ("Amt", "Amount"),
    ],
)
def test_headers_tolerate_typos_abbreviations_case_and_spacing(header: str, name: str) -> None:
    assert phrase_similarity(header, name) >= 0.85


def test_unrelated_headers_score_low() -> None:
    assert phrase_similarity("Supplier Name", "Supplier VAT Number") < 0.5
    assert phrase_similarity("Name", "Date") == 0.0


def test_the_issue_export_maps_every_required_field_and_ingests_as_drafted() -> None:
    draft, got = _by_field("spend", COLUMNS, SAMPLE)
    assert got["supplier_name"].column == "Supplier Name"
    assert got["supplier_vat_number"].column is None  # company names are not VAT numbers
    assert got["expense_type"].column == "Expenditure Catergory"
    assert got["transaction_number"].column == "Trans No"
    assert got["responsible_unit"].column == "Organisatonal Unit"
    assert got["capital_revenue"].column == "Type"
    assert got["capital_revenue"].options == {"case": "lower"}
    assert got["net_amount"].options == {"number": {"currency": True}}
    assert got["payment_date"].options == {"date_formats": ["%d/%m/%Y"]}
    parse_mapping(draft, "draft")  # every required field is mapped


def test_time_only_dates_are_flagged_but_the_required_field_is_still_mapped() -> None:
    sample = dict(SAMPLE, **{"Paid Date": ["00:00:00"] * 4})
    _, got = _by_field("spend", COLUMNS, sample)
    date = got["payment_date"]
    assert date.column == "Paid Date"
    assert date.review
    assert date.problems == ["100% of values are times like 00:00:00, not dates"]


def test_a_codes_map_is_proposed_from_the_sample_values() -> None:
    columns = ["Ref", "Gender", "Cap/Rev"]
    sample = {"Ref": ["A1", "A2", "A3", "A4"], "Gender": ["Male", "Female", "Male", "Female"]}
    _, got = _by_field("person", columns, sample)
    assert got["sex"].options == {"codes": {"Female": "F", "Male": "M"}}
    _, spend = _by_field("spend", ["Cap/Rev"], {"Cap/Rev": ["Cap", "Rev", "Rev"]})
    assert spend["capital_revenue"].options == {"codes": {"Cap": "capital", "Rev": "revenue"}}


def test_low_confidence_fields_are_marked_for_review_and_required_fields_filled() -> None:
    # "Account" reads only partly like expense_type (Account Description): low, but mapped.
    columns = ["Service Area", "Date", "Value", "Payee", "Account"]
    sample = {
        "Service Area": ["Adults"] * 3,
        "Date": ["2024-01-02"] * 3,
        "Value": ["10.00", "20.00", "30.00"],
        "Payee": ["Acme Ltd"] * 3,
        "Account": ["Repairs", "Fuel", "Rent"],
    }
    draft, got = _by_field("spend", columns, sample)
    assert got["expense_type"].column == "Account"
    assert got["expense_type"].review and got["expense_type"].confidence == "low"
    assert got["service_area"].confidence == "high" and not got["service_area"].review
    parse_mapping(draft, "draft")


def test_cli_draft_marks_fields_to_check(tmp_path: Path) -> None:
    source = tmp_path / "spend.csv"
    lines = [",".join(COLUMNS)] + [",".join(f'"{SAMPLE[c][i]}"' for c in COLUMNS) for i in range(4)]
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "draft.yaml"
    result = CliRunner().invoke(
        app,
        ["mapping", "suggest", str(source), "--standard", "spend", "--out", str(out)],
        env={"JOINEDUP_HOME": str(tmp_path / "home")},
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "CHECK capital_revenue" not in text
    assert "transaction_number <- Trans No" in text
    draft = yaml.safe_load(text)
    assert draft["fields"]["capital_revenue"] == {"column": "Type", "case": "lower"}
