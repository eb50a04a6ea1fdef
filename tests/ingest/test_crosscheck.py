"""The DuckDB validator agrees with the Frictionless reference validator, row by row."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest

from joinedup.ingest.compile import compile_ingest_sql
from joinedup.ingest.mapping import identity_mapping
from joinedup.standards import field_names
from joinedup.standards.validation import validate_file

TODAY = date(2026, 11, 23)

# Already-normalised values (the reference validator checks normalised records).
PERSON_ROWS: list[dict[str, str]] = [
    {
        "source_record_id": "P1",
        "family_name": "SMITH",
        "date_of_birth": "1980-02-01",
        "postcode": "SW1A 1AA",
        "nhs_number": "9434765919",
        "sex": "M",
    },
    {"source_record_id": "P2", "nhs_number": "9434765918"},  # bad check digit
    {"source_record_id": "P3", "upn": "B801200005001"},  # good UPN
    {"source_record_id": "P4", "upn": "A801200005001"},  # bad check letter
    {"source_record_id": "P5", "date_of_birth": "2030-01-01"},  # in the future
    {"source_record_id": "P6", "date_of_birth": "1850-01-01"},  # before the minimum
    {"source_record_id": "P7", "postcode": "NOT A PC"},
    {"source_record_id": "P8", "sex": "Q"},
    {"source_record_id": "P9", "uprn": "1234567890123"},  # 13 digits
    {"source_record_id": "P10", "uprn": "abc"},
    {"source_record_id": "P11", "ni_number": "QQ123456C"},  # Q never in the prefix
    {"source_record_id": "P12", "ni_number": "AB123456C"},
    {"source_record_id": ""},  # required field missing
    {"source_record_id": "P1"},  # duplicate primary key with the first row
    {"source_record_id": "P13", "email": "a@example.org", "phone": "+442079460000"},
]

CSC_ROWS: list[dict[str, str]] = [
    {
        "source_record_id": "C1",
        "episode_type": "CP",
        "episode_start_date": "2025-01-01",
        "category_of_abuse": "NEG",
        "reason_code": "N1",
    },
    {
        "source_record_id": "C2",
        "episode_type": "CIN",
        "episode_start_date": "2025-01-01",
        "category_of_abuse": "NEG",
    },  # abuse category only on CP episodes
    {
        "source_record_id": "C3",
        "episode_type": "LAC",
        "episode_start_date": "2025-03-01",
        "episode_end_date": "2025-02-01",
    },  # ends before it starts
    {"source_record_id": "C4", "episode_type": "XX", "episode_start_date": "2025-03-01"},
    {
        "source_record_id": "C5",
        "episode_type": "CIN",
        "episode_start_date": "2025-03-01",
        "reason_code": "N99",
    },
    {"source_record_id": "C6", "episode_type": "CIN"},  # start date missing
    {"source_record_id": "C7", "episode_type": "CIN", "episode_start_date": "2025-13-01"},
]
COUNCIL_TAX_ROWS: list[dict[str, str]] = [
    {
        "source_record_id": "T1",
        "account_ref": "A1",
        "period": "2026-10",
        "band": "C",
        "single_person_discount": "true",
        "balance": "-12.5",
    },
    {"source_record_id": "T1", "account_ref": "A1", "period": "2026-11", "band": "I"},
    {"source_record_id": "T2", "account_ref": "A2", "period": "2026-13"},
    {
        "source_record_id": "T3",
        "account_ref": "A3",
        "period": "2026-10",
        "liability_start_date": "2024-01-01",
        "liability_end_date": "2023-01-01",
    },
    {"source_record_id": "T4", "account_ref": "A4", "period": "2026-10", "balance": "lots"},
    {
        "source_record_id": "T5",
        "account_ref": "A5",
        "period": "2026-10",
        "single_person_discount": "maybe",
    },
    {"source_record_id": "T6", "account_ref": "A6", "period": "2026-10", "property_uprn": "0"},
]


def _write(path: Path, standard: str, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=field_names(standard))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)


def _reference_bad_rows(path: Path, standard: str) -> set[int]:
    report = validate_file(path, standard, today=TODAY)
    rows = set()
    for error in report.flatten(["rowNumber", "type"]):
        row_number, kind = error
        assert row_number is not None, f"file-level error {kind}"
        rows.add(int(row_number))
    return rows


def _duckdb_bad_rows(path: Path, standard: str) -> set[int]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE src AS SELECT row_number() OVER () + 1 AS _row, * "
        f"FROM read_csv('{path}', all_varchar=true, header=true)"
    )
    mapping = identity_mapping(standard, field_names(standard))
    sql = compile_ingest_sql(mapping, "src", TODAY.isoformat())
    return {
        r[0] for r in con.execute(f"SELECT _row FROM ({sql}) WHERE len(_reasons) > 0").fetchall()
    }


@pytest.mark.parametrize(
    ("standard", "rows", "expected"),
    [
        ("person", PERSON_ROWS, {3, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15}),
        ("childrens_social_care", CSC_ROWS, {3, 4, 5, 6, 7, 8}),
        ("council_tax", COUNCIL_TAX_ROWS, {3, 4, 5, 6, 7, 8}),
    ],
)
def test_both_validators_reject_the_same_rows(
    standard: str, rows: list[dict[str, str]], expected: set[int], tmp_path: Path
) -> None:
    path = tmp_path / f"{standard}.csv"
    _write(path, standard, rows)
    reference = _reference_bad_rows(path, standard)
    ours = _duckdb_bad_rows(path, standard)
    assert reference == expected
    assert ours == reference
