"""End-to-end ingest: mapping, validation, quarantine, versions, and nothing lost on failure."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, DatasetVersion, Organisation, Snapshot
from joinedup.config import Settings
from joinedup.ingest.errors import IngestError
from joinedup.ingest.mapping import MappingError, load_mapping, parse_mapping
from joinedup.ingest.pipeline import IngestRequest, ingest
from joinedup.store import SnapshotStore

TODAY = date(2026, 11, 23)
MAPPING = """
standard: council_tax
description: test council tax export
fields:
  source_record_id: PERSON_REF
  family_name: {column: NAME, split_name: surname_comma_forenames, part: family}
  given_name: {column: NAME, split_name: surname_comma_forenames, part: given}
  middle_names: {column: NAME, split_name: surname_comma_forenames, part: middle}
  date_of_birth: {column: DOB, date_formats: ["%d/%m/%Y", excel_serial, iso]}
  sex: {column: GENDER, codes: {Male: M, Female: F}}
  band: {column: BAND, case: upper}
  balance: {column: ARREARS, number: {currency: true}}
  single_person_discount: {column: SPD}
  postcode: PC
  phone: TEL
  account_ref: ACC
  property_uprn: UPRN
  period: {constant: "2026-10"}
"""
HEADER = "PERSON_REF,NAME,DOB,GENDER,BAND,ARREARS,SPD,PC,TEL,ACC,UPRN\n"
GOOD_ROWS = [
    'P1,"SMITH, Mr John Paul",01/02/1980,Male,a,"£1,234.50",Y,sw1a1aa,020 7946 0000,A1,'
    "100023336956",
    'P2,"O\'BRIEN, Siân",44927,Female,B,(12.00),N,SE1 7PB,,A2,',
    'P3,"NGUYEN, Anh",1999-12-31,F,c,0,N,SW9  8AB,,A3,12345',
    'P4,"OKAFOR, Chidi",15/06/1975,M,D,10,Y,SE5 9QQ,,A4,',
]
BAD_ROWS = [
    'P5,"JONES, Amy",31/02/2020,F,Z,0,X,NOTAPC,,A5,abc',  # row 6: date, band, flag, postcode, uprn
]


@pytest.fixture
def org(db_settings: Settings) -> Settings:
    with session_scope(db_settings) as session:
        session.add(Organisation(code="lambeth", name="Lambeth", gss_code="E09000022"))
    return db_settings


def _write(tmp_path: Path, name: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + "\n".join(rows) + "\n").encode(encoding))
    return path


def _mapping(tmp_path: Path) -> Path:
    path = tmp_path / "ct.yaml"
    path.write_text(MAPPING)
    return path


def _request(path: Path, mapping: Path, **kw: object) -> IngestRequest:
    return IngestRequest(
        organisation="lambeth",
        dataset="council-tax",
        path=path,
        mapping=mapping,
        today=TODAY,
        **kw,  # type: ignore[arg-type]
    )


def _counts(settings: Settings) -> tuple[int, int, int]:
    with session_scope(settings) as session:
        return (
            session.scalar(select(func.count()).select_from(DatasetVersion)) or 0,
            session.scalar(select(func.count()).select_from(Snapshot)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_mapped_validated_normalised_and_quarantined(org: Settings, tmp_path: Path) -> None:
    path = _write(tmp_path, "ct.csv", GOOD_ROWS + BAD_ROWS, encoding="cp1252")
    result = ingest(org, _request(path, _mapping(tmp_path), reject_threshold=0.5))
    assert (result.status, result.version, result.rows) == ("created", 1, 5)
    assert (result.accepted, result.rejected) == (4, 1)
    rules = {(r["field"], r["rule"]) for r in result.report["rules"]}
    assert rules == {
        ("date_of_birth", "invalid_date"),
        ("band", "enum"),
        ("single_person_discount", "invalid_boolean"),
        ("postcode", "pattern"),
        ("property_uprn", "invalid_integer"),
    }
    example = result.report["rules"][0]["examples"][0]
    assert example["row"] == 6
    assert "JONES" not in str(result.report) and "NOTAPC" not in str(result.report)
    assert result.report["source"]["encoding"].lower() in {"cp1252", "windows-1252"}

    with session_scope(org) as session:
        version = session.scalars(select(DatasetVersion)).one()
        store = SnapshotStore(org)
        accepted_sql = store.sql_source(version.snapshot_sha256)
        assert version.quarantine_sha256 is not None
        quarantine_sql = store.sql_source(version.quarantine_sha256)
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT _source_row, given_name, middle_names, family_name, date_of_birth, sex, band, "
        f"balance, single_person_discount, postcode, phone, property_uprn, period "
        f"FROM {accepted_sql} ORDER BY _source_row"
    ).fetchall()
    assert rows[0] == (
        2,
        "JOHN",
        "PAUL",
        "SMITH",
        date(1980, 2, 1),
        "M",
        "A",
        1234.5,
        True,
        "SW1A 1AA",
        "+442079460000",
        100023336956,
        "2026-10",
    )
    assert rows[1][1:7] == ("SIAN", None, "OBRIEN", date(2023, 1, 1), "F", "B")
    assert rows[1][7] == -12.0
    assert rows[2][9] == "SW9 8AB"
    quarantined = con.execute(f"SELECT _source_row, len(_reasons) FROM {quarantine_sql}").fetchall()
    assert quarantined == [(6, 5)]


def test_identical_upload_creates_nothing_and_drift_is_reported(
    org: Settings, tmp_path: Path
) -> None:
    mapping = _mapping(tmp_path)
    path = _write(tmp_path, "ct.csv", GOOD_ROWS)
    assert ingest(org, _request(path, mapping)).version == 1
    before = _counts(org)
    again = ingest(org, _request(path, mapping))
    assert again.status == "unchanged" and again.version == 1
    assert _counts(org) == before

    drifted = tmp_path / "ct2.csv"
    drifted.write_text(
        HEADER.strip() + ",EXTRA\n" + "\n".join(r + ",x" for r in GOOD_ROWS[:3]) + "\n"
    )
    second = ingest(org, _request(drifted, mapping))
    assert second.version == 2
    assert any("new columns since version 1: EXTRA" in w for w in second.warnings)


def test_rejected_file_leaves_no_partial_version(org: Settings, tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    ingest(org, _request(_write(tmp_path, "good.csv", GOOD_ROWS), mapping))
    before = _counts(org)
    files_before = sorted(org.snapshots_dir.rglob("*.parquet"))
    bad = _write(tmp_path, "bad.csv", GOOD_ROWS[:1] + BAD_ROWS * 3)
    with pytest.raises(IngestError) as err:
        ingest(org, _request(bad, mapping))
    assert err.value.rule == "rejection_threshold"
    assert err.value.file == "bad.csv"
    assert err.value.row is not None
    assert "JONES" not in str(err.value)
    assert _counts(org) == before
    assert sorted(org.snapshots_dir.rglob("*.parquet")) == files_before


def test_missing_mapped_column_names_the_column(org: Settings, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text('PERSON_REF,NAME\nP1,"A, B"\n')
    with pytest.raises(IngestError, match="ARREARS") as err:
        ingest(org, _request(path, _mapping(tmp_path)))
    assert err.value.rule == "missing_column"
    assert _counts(org) == (0, 0, 0)


def test_unknown_organisation(org: Settings, tmp_path: Path) -> None:
    req = IngestRequest(
        organisation="nowhere",
        dataset="x",
        path=_write(tmp_path, "a.csv", GOOD_ROWS),
        mapping=_mapping(tmp_path),
    )
    with pytest.raises(IngestError) as err:
        ingest(org, req)
    assert err.value.rule == "unknown_organisation"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("standard: nope\nfields: {a: b}", "unknown standard 'nope'"),
        ("standard: council_tax\nfields: {shoe_size: X}", "has no field(s) ['shoe_size']"),
        ("standard: council_tax\nfields: {source_record_id: A}", "required council_tax field(s)"),
        (
            "standard: person\nfields: {source_record_id: {column: A, case: sideways}}",
            "case must be one of",
        ),
        (
            "standard: person\nfields: {source_record_id: {column: A, constant: B}}",
            "exactly one of column, columns or constant",
        ),
        (
            "standard: person\nfields: {source_record_id: {column: A, frobnicate: 1}}",
            "unknown option",
        ),
        (
            "standard: person\nfields: {source_record_id: A, "
            "date_of_birth: {column: D, date_formats: [dd/mm]}}",
            "not a strptime format",
        ),
    ],
)
def test_bad_mappings_are_explained(yaml_text: str, message: str) -> None:
    import yaml

    with pytest.raises(MappingError, match=None) as err:
        parse_mapping(yaml.safe_load(yaml_text), "m.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("m.yaml: ")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("standard: person\nfields:\n  a: [unclosed\n")
    with pytest.raises(MappingError, match=r"broken.yaml: is not valid YAML at line \d"):
        load_mapping(path)
