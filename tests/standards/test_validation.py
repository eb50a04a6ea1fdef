"""Frictionless validation of small CSVs of standard records: good rows pass, bad rows fail
with the right error type on the right field."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import frictionless
import pytest

from joinedup.standards import field_names
from joinedup.standards.validation import (
    CustomCheckError,
    CustomRowCheckError,
    frictionless_checks,
    validate_file,
)
from tests.standards.samples import GOOD_ROWS

TODAY = dt.date(2025, 6, 1)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def errors_of(report: frictionless.Report) -> list[tuple[int | None, str | None, str]]:
    return [tuple(e) for e in report.flatten(["rowNumber", "fieldName", "type"])]


@pytest.mark.parametrize("name", sorted(GOOD_ROWS))
def test_sample_covers_every_field(name: str) -> None:
    assert list(GOOD_ROWS[name]) == field_names(name)


@pytest.mark.parametrize("name", sorted(GOOD_ROWS))
def test_good_row_passes(tmp_path: Path, name: str) -> None:
    path = write_csv(tmp_path / f"{name}.csv", [GOOD_ROWS[name]])
    report = validate_file(path, name, today=TODAY)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.tasks[0].stats["rows"] == 1


# (standard, field, bad value, error type, words in the note)
BAD_CELLS = [
    ("person", "postcode", "ABC 123", "constraint-error", "pattern"),
    ("person", "postcode", "sw1a 1aa", "constraint-error", "pattern"),  # not canonical
    ("person", "uprn", "1000212345678", "constraint-error", "maximum"),  # 13 digits
    ("person", "uprn", "0", "constraint-error", "minimum"),
    ("person", "uprn", "12A", "type-error", "integer"),
    ("person", "sex", "male", "constraint-error", "enum"),
    ("person", "date_of_birth", "2015-02-30", "type-error", "date"),
    ("person", "date_of_birth", "02/03/2015", "type-error", "date"),  # ISO dates only
    ("person", "date_of_birth", "1899-12-31", "constraint-error", "minimum"),
    ("person", "date_of_birth", "2030-01-01", "joinedup-check", "not_in_future"),
    ("person", "nhs_number", "9434765918", "joinedup-check", "nhs_mod11"),
    ("person", "nhs_number", "943 476 5919", "constraint-error", "pattern"),
    ("person", "upn", "A801200005001", "joinedup-check", "upn_check_letter"),
    ("person", "upn", "B80120000500A", "constraint-error", "pattern"),
    ("person", "ni_number", "BG123456C", "constraint-error", "pattern"),
    ("person", "ni_number", "AO123456C", "constraint-error", "pattern"),
    ("person", "phone", "07700 900123", "constraint-error", "pattern"),
    ("person", "email", "not-an-email", "type-error", "email"),
    ("school_census", "school_la_code", "E05000022", "constraint-error", "pattern"),  # ward
    ("school_census", "school_la_code", "E0900002", "constraint-error", "pattern"),
    ("school_census", "school_urn", "10001", "constraint-error", "pattern"),
    ("school_census", "census_term", "winter", "constraint-error", "enum"),
    ("school_census", "fsm_eligible", "maybe", "type-error", "boolean"),
    ("school_census", "fsm_end_date", "2023-08-31", "joinedup-row-check", "date_order"),
    ("council_tax", "band", "I", "constraint-error", "enum"),  # Welsh band, not English
    ("council_tax", "liability_start_date", "1990-04-01", "constraint-error", "minimum"),
    ("council_tax", "period", "2025-13", "constraint-error", "pattern"),
    ("council_tax", "period", "", "constraint-error", "required"),
    ("council_tax", "balance", "£12", "type-error", "number"),
    ("council_tax", "exemption_class", "A", "constraint-error", "enum"),
    ("benefit_claim", "role", "lodger", "constraint-error", "enum"),
    ("benefit_claim", "annual_income", "-1", "constraint-error", "minimum"),
    ("benefit_claim", "legacy_benefit", "working_tax_credit", "constraint-error", "enum"),
    ("tenancy", "weekly_rent", "-5", "constraint-error", "minimum"),
    ("adult_social_care", "service_type", "massage", "constraint-error", "enum"),
    ("childrens_social_care", "episode_type", "CLA", "constraint-error", "enum"),
    ("childrens_social_care", "reason_code", "N10", "constraint-error", "enum"),
    ("electoral_register", "polling_district", "la1", "constraint-error", "pattern"),
    ("referral", "voucher_count", "101", "constraint-error", "maximum"),
    ("referral", "referral_date", "2025-06-02", "joinedup-check", "not_in_future"),
    ("address", "uprn", "1000000000000", "constraint-error", "maximum"),
    ("address", "ward_code", "E09000022", "constraint-error", "pattern"),
    ("address", "lsoa_code", "E1003013", "constraint-error", "pattern"),
    ("address", "local_authority_code", "E05014001", "constraint-error", "pattern"),
    ("address", "local_authority_code", "", "constraint-error", "required"),
    ("address", "latitude", "40.1", "constraint-error", "minimum"),
    ("spend", "body_code", "Lambeth", "constraint-error", "pattern"),
    ("spend", "payment_date", "2026-01-01", "joinedup-check", "not_in_future"),
    ("spend", "net_amount", "", "constraint-error", "required"),
    ("spend", "supplier_vat_number", "GB12345", "constraint-error", "pattern"),
    ("spend", "capital_revenue", "Capital", "constraint-error", "enum"),
]


@pytest.mark.parametrize(
    ("name", "field_name", "value", "error_type", "note"),
    BAD_CELLS,
    ids=[f"{n}.{f}={v!r}" for n, f, v, _, _ in BAD_CELLS],
)
def test_bad_cell_fails(
    tmp_path: Path, name: str, field_name: str, value: str, error_type: str, note: str
) -> None:
    good = GOOD_ROWS[name]
    bad = {**good, **_distinct_key(name, good), field_name: value}
    path = write_csv(tmp_path / "data.csv", [good, bad])
    report = validate_file(path, name, today=TODAY)
    errors = report.flatten(["rowNumber", "fieldName", "type", "note"])
    # exactly one error, on the bad row (row 3: header is row 1), field and rule named
    assert [e[:3] for e in errors] == [[3, field_name, error_type]], errors
    assert note in errors[0][3]


def _distinct_key(name: str, good: dict[str, str]) -> dict[str, str]:
    """Key fields changed so the second row is not a primary-key duplicate of the first."""
    if name == "address":
        return {"uprn": "100021234568"}
    if name == "spend":
        return {}
    return {"source_record_id": good["source_record_id"] + "-2"}


def test_address_duplicate_uprn_is_a_primary_key_error(tmp_path: Path) -> None:
    row = GOOD_ROWS["address"]
    path = write_csv(tmp_path / "address.csv", [row, {**row, "address_line_1": "Flat 2"}])
    errors = errors_of(validate_file(path, "address", today=TODAY))
    assert (3, None, "primary-key") in errors
    assert (3, "uprn", "unique-error") in errors


def test_duplicate_composite_primary_key(tmp_path: Path) -> None:
    row = GOOD_ROWS["school_census"]
    other_census = {**row, "census_date": "2025-01-16", "census_term": "spring"}
    path = write_csv(tmp_path / "census.csv", [row, other_census, row])
    errors = errors_of(validate_file(path, "school_census", today=TODAY))
    assert errors == [(4, None, "primary-key")]  # same pupil, two censuses: fine; repeat: not


@pytest.mark.parametrize("marker", ["", "NULL", "N/A", "#N/A"])
def test_missing_value_markers(tmp_path: Path, marker: str) -> None:
    row = {**GOOD_ROWS["person"], "nhs_number": marker, "date_of_birth": marker}
    path = write_csv(tmp_path / "p.csv", [row])
    assert validate_file(path, "person", today=TODAY).valid
    path = write_csv(tmp_path / "q.csv", [{**row, "source_record_id": marker}])
    errors = errors_of(validate_file(path, "person", today=TODAY))
    # required, and Frictionless also reports a primary key whose cells are all missing
    assert errors == [(2, "source_record_id", "constraint-error"), (2, None, "primary-key")]


def test_missing_part_of_a_composite_key_is_caught_by_required(tmp_path: Path) -> None:
    # Frictionless ignores a composite key with *some* null cells; "required" catches it.
    row = {**GOOD_ROWS["council_tax"], "account_ref": ""}
    errors = errors_of(
        validate_file(write_csv(tmp_path / "c.csv", [row]), "council_tax", today=TODAY)
    )
    assert errors == [(2, "account_ref", "constraint-error")]


def test_na_is_a_value_not_missing(tmp_path: Path) -> None:
    row = {**GOOD_ROWS["person"], "family_name": "NA"}
    path = write_csv(tmp_path / "p.csv", [row])
    report = validate_file(path, "person", today=TODAY)
    assert report.valid
    path = write_csv(tmp_path / "q.csv", [{**row, "postcode": "NA"}])
    assert errors_of(validate_file(path, "person", today=TODAY)) == [
        (2, "postcode", "constraint-error")
    ]


def test_category_of_abuse_only_on_child_protection(tmp_path: Path) -> None:
    row = {**GOOD_ROWS["childrens_social_care"], "episode_type": "CIN"}
    path = write_csv(tmp_path / "csc.csv", [row])
    errors = errors_of(validate_file(path, "childrens_social_care", today=TODAY))
    assert errors == [(2, "category_of_abuse", "joinedup-row-check")]
    path = write_csv(tmp_path / "ok.csv", [{**row, "category_of_abuse": ""}])
    assert validate_file(path, "childrens_social_care", today=TODAY).valid


def test_many_errors_in_one_file(tmp_path: Path) -> None:
    good = GOOD_ROWS["person"]
    rows = [
        good,
        {**good, "source_record_id": "P-2", "postcode": "ABC 123", "uprn": "1000212345678"},
        {**good, "source_record_id": "P-3", "nhs_number": "9434765918", "sex": "Q"},
    ]
    errors = errors_of(validate_file(write_csv(tmp_path / "p.csv", rows), "person", today=TODAY))
    assert sorted(errors, key=str) == sorted(
        [
            (3, "postcode", "constraint-error"),
            (3, "uprn", "constraint-error"),
            (4, "sex", "constraint-error"),
            (4, "nhs_number", "joinedup-check"),
        ],
        key=str,
    )


def test_checks_plug_into_frictionless_directly(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [{"upn": "A801200005001", "date_of_birth": "2030-01-01"}])
    resource = frictionless.Resource(
        path=path.name,
        basepath=str(tmp_path),
        schema=frictionless.Schema.from_descriptor(
            {
                "fields": [
                    {"name": "upn", "type": "string"},
                    {"name": "date_of_birth", "type": "date"},
                ]
            }
        ),
    )
    checklist = frictionless.Checklist(checks=frictionless_checks("person", today=TODAY))
    report = frictionless.validate(resource, checklist=checklist)
    found = {(e.field_name, e.cell, type(e)) for e in report.tasks[0].errors}
    assert found == {
        ("date_of_birth", "2030-01-01", CustomCheckError),
        ("upn", "A801200005001", CustomCheckError),
    }
    assert issubclass(CustomRowCheckError, frictionless.errors.CellError)


def test_a_cell_failing_its_pattern_is_not_also_checked(tmp_path: Path) -> None:
    row = {**GOOD_ROWS["person"], "upn": "a801200005001"}  # lower case: pattern fails first
    errors = errors_of(validate_file(write_csv(tmp_path / "p.csv", [row]), "person", today=TODAY))
    assert errors == [(2, "upn", "constraint-error")]


def test_row_check_skipped_when_its_field_is_invalid(tmp_path: Path) -> None:
    row = {**GOOD_ROWS["childrens_social_care"], "episode_end_date": "2023-02-30"}
    path = write_csv(tmp_path / "c.csv", [row])
    errors = errors_of(validate_file(path, "childrens_social_care", today=TODAY))
    assert errors == [(2, "episode_end_date", "type-error")]


def test_columns_are_matched_by_name(tmp_path: Path) -> None:
    row = GOOD_ROWS["person"]
    shuffled = dict(reversed(list(row.items())))
    assert validate_file(write_csv(tmp_path / "p.csv", [shuffled]), "person", today=TODAY).valid


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    row = {k: v for k, v in GOOD_ROWS["person"].items() if k != "email"}
    path = write_csv(tmp_path / "p.csv", [row])
    assert not validate_file(path, "person", today=TODAY).valid
    assert validate_file(path, "person", today=TODAY, fields_match="superset").valid
    path = write_csv(tmp_path / "q.csv", [{**row, "shoe_size": "9"}])
    assert not validate_file(path, "person", today=TODAY, fields_match="superset").valid
