"""Read synthetic source files back, and export their person records as plain CSV.

:func:`read_source` reads any synthetic file (CSV in its encoding and delimiter, XLSX, JSON) as
a table of strings. :func:`person_records` turns the person records of chosen files into one
plain table with the same columns whatever each file's layout (names split from full names,
dates of birth as ISO dates, sex as M/F, the address on one line) plus the true ``person_id``
from the ground truth, for evaluating linkage tools that take plain files (``joinedup match``,
``joinedup dedupe``, Splink) on a synthetic region or profile.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .layouts import (
    DMONY,
    DMY,
    FORENAME_FIRST,
    ISO,
    RECORD_ID_FIELD,
    SERIAL,
    SURNAME_FIRST,
    Layout,
)
from .manifest import FileEntry, Manifest


def read_source(root: Path, entry: FileEntry) -> pa.Table:
    path = root / entry.path
    if entry.format == "csv":
        text = path.read_bytes().decode(entry.encoding)
        delimiter = entry.delimiter or ","
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
        return pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    if entry.format == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
        header = [str(h) for h in rows[0]]
        rows = [tuple(r) + (None,) * (len(header) - len(r)) for r in rows]
        columns = list(zip(*rows[1:], strict=True)) if len(rows) > 1 else [()] * len(header)
        return pa.table(
            {
                name: pa.array([None if v is None else str(v) for v in col], pa.string())
                for name, col in zip(header, columns, strict=True)
            }
        )
    if entry.format == "json":
        rows = json.loads(path.read_text(encoding=entry.encoding))
        if not rows:
            return pa.table({})
        return pa.table(
            {
                name: pa.array(
                    [None if r[name] is None else str(r[name]) for r in rows], pa.string()
                )
                for name in rows[0]
            }
        )
    raise ValueError(f"{entry.path}: unknown format {entry.format!r}")


PERSON_COLUMNS = (
    "record_id",
    "given_name",
    "middle_name",
    "family_name",
    "dob",
    "sex",
    "address",
    "postcode",
    "uprn",
    "nhs_number",
    "ni_number",
    "upn",
)
_PY_DATE = {DMY: "%d/%m/%Y", ISO: "%Y-%m-%d", DMONY: "%d-%b-%Y"}
_EXCEL_EPOCH = date(1899, 12, 30)


def _iso_date(value: str | None, fmt: str) -> str | None:
    if value is None or value == "":
        return None
    if fmt == SERIAL:
        return (_EXCEL_EPOCH + timedelta(days=int(float(value)))).isoformat()
    if fmt in _PY_DATE:
        return datetime.strptime(value, _PY_DATE[fmt]).date().isoformat()
    return value[:10]  # a native XLSX date cell, read back as "YYYY-MM-DD 00:00:00"


def _sex(value: str | None) -> str | None:
    if not value:
        return None
    first = value.strip()[:1].upper()
    return {"M": "M", "1": "M", "F": "F", "2": "F"}.get(first)


def _split_name(value: str | None, style: str) -> tuple[str | None, str | None, str | None]:
    """(given, middle, family) from a one-column name written in ``style``."""
    if not value:
        return None, None, None
    if style == SURNAME_FIRST and "," in value:
        family, _, rest = value.partition(",")
        parts = rest.split()
        given = parts[0] if parts else None
        return given, " ".join(parts[1:]) or None, family.strip() or None
    parts = value.split()
    if len(parts) == 1:
        return None, None, parts[0]
    return parts[0], " ".join(parts[1:-1]) or None, parts[-1]


def _column(table: pa.Table, layout: Layout, field: str) -> list[Any] | None:
    for column in layout.columns:
        if column.field == field and column.name in table.column_names:
            return table.column(column.name).to_pylist()
    return None


def person_table(root: Path, entry: FileEntry, layout: Layout) -> pa.Table:
    """One file's person records in :data:`PERSON_COLUMNS` (record ids as ``path#id``)."""
    table = read_source(root, entry)
    n = table.num_rows
    blank: list[Any] = [None] * n
    ids = _column(table, layout, RECORD_ID_FIELD[entry.dataset])
    if ids is None:
        raise ValueError(f"{entry.path}: no record id column ({RECORD_ID_FIELD[entry.dataset]})")
    given = _column(table, layout, "given_name")
    family = _column(table, layout, "family_name")
    middle = _column(table, layout, "middle_name") or blank
    full = _column(table, layout, "full_name")
    if (given is None or family is None) and full is not None:
        style = layout.name_style if layout.name_style != "separate" else FORENAME_FIRST
        split = [_split_name(v, style) for v in full]
        given = [s[0] for s in split]
        middle = [s[1] for s in split]
        family = [s[2] for s in split]
    lines = [
        _column(table, layout, f)
        for f in ("address_line1", "address_line2", "address_line3", "address")
    ]
    present = [line for line in lines if line is not None]
    address = (
        [", ".join(str(p) for p in parts if p) or None for parts in zip(*present, strict=True)]
        if present
        else blank
    )
    dob = _column(table, layout, "dob")
    sex = _column(table, layout, "sex")
    cols: dict[str, list[Any]] = {
        "record_id": [f"{entry.path}#{v}" for v in ids],
        "given_name": given or blank,
        "middle_name": middle,
        "family_name": family or blank,
        "dob": [_iso_date(v, layout.date_format) for v in dob] if dob else blank,
        "sex": [_sex(v) for v in sex] if sex else blank,
        "address": address,
    }
    for f in ("postcode", "uprn", "nhs_number", "ni_number", "upn"):
        values = _column(table, layout, f)
        cols[f] = (
            [
                None
                if v in (None, "")
                else str(v).replace(" ", "")
                if f == "nhs_number"
                else str(v)
                for v in values
            ]
            if values
            else blank
        )
    out = pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()})
    return out.append_column("source_record_id", pa.array([str(v) for v in ids], pa.string()))


def person_records(root: Path, paths: list[str], *, distinct: bool = True) -> pa.Table:
    """The person records of the region's files at ``paths`` (relative to ``root``), in
    :data:`PERSON_COLUMNS` plus ``person_id`` from the truth (records naming two people keep
    the first). ``distinct`` keeps one of rows repeated within a file. Files without person
    records are refused."""
    from .systems.base import LAYOUTS

    root = Path(root)
    manifest = Manifest.load(root)
    entries = {e.path: e for e in manifest.files}
    truth = pq.read_table(
        root / "truth" / "records.parquet", columns=["file", "record_id", "person_id"]
    )
    parts = []
    for path in paths:
        if path not in entries:
            raise ValueError(f"{path} is not a file of the region in {root}")
        entry = entries[path]
        if entry.dataset not in RECORD_ID_FIELD:
            raise ValueError(f"{path} holds no person records ({entry.dataset})")
        table = person_table(root, entry, LAYOUTS[(entry.dataset, entry.organisation)])
        mine = truth.filter(pc.equal(truth.column("file"), path))
        lookup = dict(
            zip(
                mine.column("record_id").to_pylist(),
                mine.column("person_id").to_pylist(),
                strict=True,
            )
        )
        person = [lookup.get(v) for v in table.column("source_record_id").to_pylist()]
        table = table.drop(["source_record_id"]).append_column(
            "person_id", pa.array(person, pa.int64())
        )
        parts.append(_first_of_repeats(table) if distinct else table)
    return pa.concat_tables(parts)


def _first_of_repeats(table: pa.Table) -> pa.Table:
    """Keep the first of rows that repeat every person column within one file (a claim's
    monthly rows, a pupil in every census), as anyone preparing a file for linkage would."""
    seen: set[tuple[Any, ...]] = set()
    keep = []
    columns = [table.column(c).to_pylist() for c in PERSON_COLUMNS[1:]]
    for i, row in enumerate(zip(*columns, strict=True)):
        if row not in seen:
            seen.add(row)
            keep.append(i)
    return table.take(pa.array(keep, pa.int64()))


def write_person_csv(table: pa.Table, path: Path) -> None:
    """Write :func:`person_records` output as a plain UTF-8 CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.column_names)
        for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
            writer.writerow(["" if v is None else v for v in row])
