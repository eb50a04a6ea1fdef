"""Read synthetic source files back as string tables, whatever their format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from joinedup.synth.manifest import FileEntry


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
    raise AssertionError(f"unknown format {entry.format}")
