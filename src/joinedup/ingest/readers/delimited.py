"""CSV and other delimited text.

Fast path: DuckDB's ``read_csv`` with every dialect option set explicitly (delimiter, ``"``
quote and escape, no comments, no skipping, strict mode, all VARCHAR) loads the whole file in
parallel; ``_row`` is the staging table's ``rowid`` + 2. That numbering is exact because the
fast path is only taken when the byte scan found no empty line before the last content (DuckDB
skips empty lines).

Slow path: Python's ``csv`` module (C) feeding Arrow batches, numbering records itself. It is
taken for files with empty lines, and whenever DuckDB rejects a file: it then either reads the
file (DuckDB is stricter about some limits, such as line length) or raises the precise error,
naming the first bad row — DuckDB's own messages quote the offending line, so they are never
passed on.

Row numbers count records, not physical lines: the header is row 1, the first data record row
2, and a record whose quoted value spans several lines is still one row — the row number a
spreadsheet shows when it opens the file. Empty lines are skipped but keep their number.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb

from joinedup.ingest.errors import IngestError
from joinedup.ingest.readers.context import ReadContext
from joinedup.ingest.readers.table import (
    BatchSink,
    Header,
    check_headers,
    drop_table,
    finish,
    new_stage_name,
    q,
)
from joinedup.ingest.readers.text import Prepared, prepare_text

DELIMITERS = (",", ";", "\t", "|")
SNIFF_CHARS = 256 * 1024
SNIFF_RECORDS = 100
FIELD_LIMIT = 64 * 1024 * 1024
"""The Python parser's per-field ceiling. Cells longer than ``max_cell_chars`` but below this
are loaded and then named by the SQL cell check (with their column); beyond it the parser
stops, and the error is ``cell_too_large`` or ``unterminated_quote``."""
DUCKDB_MAX_LINE = 64 * 1024 * 1024


def _raise_field_limit() -> None:
    limit = min(FIELD_LIMIT, sys.maxsize)
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def sniff_delimiter(sample: str, truncated: bool) -> str:
    """The candidate whose header has more than one field and whose records agree with it best."""
    best: tuple[float, int] | None = None
    choice = ","
    for delim in DELIMITERS:
        widths: list[int] = []
        exhausted = True
        try:
            for row in csv.reader(io.StringIO(sample), delimiter=delim, quotechar='"'):
                if row:
                    widths.append(len(row))
                if len(widths) > SNIFF_RECORDS:
                    exhausted = False
                    break
        except csv.Error:
            pass
        if truncated and exhausted and len(widths) > 1:
            widths.pop()  # the sample may end inside the last record
        if not widths or widths[0] < 2:
            continue
        data = widths[1:]
        agree = sum(1 for w in data if w == widths[0]) / len(data) if data else 1.0
        key = (agree, widths[0])
        if best is None or key > best:
            best, choice = key, delim
    return choice


def _describe(delim: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delim, repr(delim))


def read_delimited(ctx: ReadContext, table: str) -> tuple[list[str], int, str, str]:
    """Read a delimited file into ``table``; returns (columns, rows, delimiter, encoding)."""
    _raise_field_limit()
    prepared = prepare_text(ctx, normalise_newlines=True, suffix=".csv")
    delim = ctx.options.delimiter
    if delim is None:
        with prepared.path.open("r", encoding=prepared.codec, errors="replace", newline="") as fh:
            sample = fh.read(SNIFF_CHARS)
        delim = sniff_delimiter(sample, truncated=len(sample) == SNIFF_CHARS)
    elif len(delim) != 1 or delim in '"\r\n':
        raise ctx.error("unsupported_format", f"the delimiter {delim!r} cannot be used")

    stage = new_stage_name()
    try:
        if not prepared.scan.interior_blank_line:
            header = _fast_header(ctx, prepared, delim)
            if header is not None and _fast_load(ctx, prepared, delim, header, stage):
                rows = finish(ctx, stage, table, header, "rowid + 2")
            else:
                rows, header = _slow(ctx, prepared, delim, stage, table)
        else:
            rows, header = _with_blank_lines(ctx, prepared, delim, stage, table)
    finally:
        drop_table(ctx, stage)
    kept = [n for i, n in enumerate(header.names) if i not in set(header.unnamed)]
    return kept, rows, delim, prepared.encoding


def _slow(
    ctx: ReadContext, prepared: Prepared, delim: str, stage: str, table: str
) -> tuple[int, Header]:
    drop_table(ctx, stage)
    parsed = _parse(ctx, prepared, delim, stage)
    _warn_blanks(ctx, parsed)
    return finish(ctx, stage, table, parsed.header, "_row", empty_as_null=True), parsed.header


def _with_blank_lines(
    ctx: ReadContext, prepared: Prepared, delim: str, stage: str, table: str
) -> tuple[int, Header]:
    """Empty lines, which DuckDB skips: find them (and any error) with one pass of the Python
    parser, let DuckDB load the rows, and renumber them with an ASOF join on the gaps."""
    parsed = _parse(ctx, prepared, delim, None)
    if parsed.header_record != 1 or not _fast_load(ctx, prepared, delim, parsed.header, stage):
        return _slow(ctx, prepared, delim, stage, table)
    loaded = ctx.con.execute(f"SELECT count(*) FROM {q(stage)}").fetchone()
    if not loaded or loaded[0] != parsed.data_rows:  # e.g. one-column files keep empty lines
        return _slow(ctx, prepared, delim, stage, table)
    if not parsed.blanks:  # the empty lines were inside quoted values
        return finish(ctx, stage, table, parsed.header, "rowid + 2"), parsed.header
    # blank j (0-based) follows ``record - 2 - j`` data rows; rows at or after it shift by j + 1
    shifts: dict[int, int] = {}
    for j, record in enumerate(parsed.blanks):
        shifts[record - 2 - j] = j + 1
    gaps = new_stage_name()
    numbered = new_stage_name()
    con = ctx.con
    try:
        con.execute(f"CREATE TABLE {q(gaps)} (a BIGINT, n BIGINT)")
        con.executemany(f"INSERT INTO {q(gaps)} VALUES (?, ?)", list(shifts.items()))
        con.execute(
            f"CREATE TABLE {q(numbered)} AS SELECT s.rowid + 2 + coalesce(g.n, 0) AS _row, s.* "
            f"FROM {q(stage)} s ASOF LEFT JOIN {q(gaps)} g ON s.rowid >= g.a ORDER BY s.rowid"
        )
        drop_table(ctx, stage)
        _warn_blanks(ctx, parsed)
        return finish(ctx, numbered, table, parsed.header, "_row"), parsed.header
    finally:
        drop_table(ctx, gaps)
        drop_table(ctx, numbered)


def _reader(fh: TextIO, delim: str) -> Iterator[list[str]]:
    return csv.reader(fh, delimiter=delim, quotechar='"', doublequote=True, strict=True)


def _fast_header(ctx: ReadContext, prepared: Prepared, delim: str) -> Header | None:
    """The header, when the first record parses cleanly (else the slow path explains)."""
    with prepared.path.open("r", encoding=prepared.codec, newline="") as fh:
        try:
            first = next(_reader(fh, delim), None)
        except csv.Error:
            return None
    if not first:
        return None
    return check_headers(ctx, first, 1, allow_unnamed_trailing=True)


def _fast_load(
    ctx: ReadContext, prepared: Prepared, delim: str, header: Header, stage: str
) -> bool:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header.names))) + "}"
    sql = (
        f"CREATE TABLE {q(stage)} AS SELECT * FROM read_csv(?, columns={columns}, header=true, "
        "delim=?, quote='\"', escape='\"', strict_mode=true, auto_detect=false, "
        "null_padding=false, ignore_errors=false, comment='', skip=0, encoding='utf-8', "
        "max_line_size=?, parallel=true)"
    )
    try:
        ctx.con.execute(sql, [str(prepared.path), delim, DUCKDB_MAX_LINE])
    except duckdb.Error:
        return False  # the slow path names the problem (DuckDB's message quotes the data)
    return True


@dataclass
class _Parsed:
    header: Header
    header_record: int
    data_rows: int
    blanks: list[int]
    """Record numbers of empty lines between the header and the last data row."""


def _parse(ctx: ReadContext, prepared: Prepared, delim: str, stage: str | None) -> _Parsed:
    """One pass of Python's csv module: every rule checked, naming the first bad row; the rows
    go to ``stage`` through Arrow batches when it is given."""
    header: Header | None = None
    header_record = 0
    sink: BatchSink | None = None
    record = data_rows = width = 0
    blanks: list[int] = []
    pending: list[int] = []
    with prepared.path.open("r", encoding=prepared.codec, newline="") as fh:
        rows = iter(_reader(fh, delim))
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _csv_error(ctx, prepared.path, exc, record + 1) from None
            record += 1
            if not row:
                pending.append(record)
                continue
            if header is None:
                header = check_headers(ctx, row, record, allow_unnamed_trailing=True)
                header_record = record
                width = len(header.names)
                pending.clear()
                if stage is not None:
                    sink = BatchSink(ctx, stage, width)
                continue
            if pending:
                blanks += pending
                pending.clear()
            if len(row) != width:
                raise ctx.error(
                    "ragged_row",
                    f"the row has {len(row)} field{'s' if len(row) != 1 else ''} but the "
                    f"header has {width} ({_describe(delim)}-separated)",
                    record,
                )
            data_rows += 1
            if sink is not None:
                sink.add(record, row)
    if header is None:
        raise ctx.error("empty_file", "the file is empty or holds only whitespace")
    if sink is not None:
        sink.flush()
    return _Parsed(header, header_record, data_rows, blanks)


def _warn_blanks(ctx: ReadContext, parsed: _Parsed) -> None:
    if parsed.blanks:
        ctx.warn(
            "blank_lines",
            f"{len(parsed.blanks)} empty line(s) were skipped (first at row {parsed.blanks[0]}); "
            "row numbers still count them",
        )


def _quote_count_is_odd(path: Path) -> bool:
    odd = 0
    with path.open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            odd ^= chunk.count(b'"') & 1
    return bool(odd)


def _csv_error(ctx: ReadContext, path: Path, exc: csv.Error, record: int) -> IngestError:
    text = str(exc)
    if "field larger than field limit" in text:
        if _quote_count_is_odd(path):
            return ctx.error(
                "unterminated_quote",
                "a quoted value that starts in this row is never closed",
                record,
            )
        return ctx.error(
            "cell_too_large",
            f"a value in this row is longer than {ctx.options.max_cell_chars:,} characters",
            record,
        )
    if "unexpected end of data" in text:
        return ctx.error(
            "unterminated_quote", "a quoted value that starts in this row is never closed", record
        )
    if "expected after" in text:
        return ctx.error(
            "bad_quote",
            "a closing quote is followed by other characters before the delimiter "
            '(a quote inside a quoted value must be doubled: "")',
            record,
        )
    if "NUL" in text:
        return ctx.error("binary_content", "the row holds a NUL character", record)
    return ctx.error("malformed_csv", "the row cannot be parsed as CSV", record)
