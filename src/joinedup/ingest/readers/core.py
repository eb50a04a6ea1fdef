"""``read_source``: any council export into a DuckDB table of raw text columns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from joinedup.ingest.readers.context import ReadContext
from joinedup.ingest.readers.delimited import read_delimited
from joinedup.ingest.readers.detect import detect_format
from joinedup.ingest.readers.json_records import read_json
from joinedup.ingest.readers.options import ReadOptions, SourceInfo
from joinedup.ingest.readers.parquet import read_parquet
from joinedup.ingest.readers.text import scan_file


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM (SELECT table_name AS n FROM duckdb_tables() "
        "UNION ALL SELECT view_name FROM duckdb_views()) WHERE lower(n) = lower(?)",
        [table],
    ).fetchone()
    return bool(row and row[0])


def _keep_insertion_order(con: duckdb.DuckDBPyConnection) -> Callable[[], None]:
    """Row numbers from ``rowid`` need insertion order preserved; restore the setting after."""
    row = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    if row and row[0] in (True, "true", "True", 1):
        return lambda: None
    con.execute("SET preserve_insertion_order = true")

    def restore() -> None:
        con.execute("SET preserve_insertion_order = false")

    return restore


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    options: ReadOptions | None = None,
    *,
    tmp_dir: Path | None = None,
    name: str | None = None,
) -> SourceInfo:
    """Read ``path`` into a new DuckDB table ``table`` and describe what was read.

    The table has every source column as VARCHAR, named by its trimmed header, in file order,
    plus ``_row`` (BIGINT, first): the row number a person sees in the file — for CSV the record
    number counting the header as row 1, for XLSX the sheet row, for JSON arrays the record's
    position, for NDJSON the line, for Parquet the row's position.

    Raises :class:`joinedup.ingest.errors.IngestError` (naming file, row and rule, never cell
    values) and leaves neither the table nor any temporary file behind. Temporary files are
    written to ``tmp_dir`` (give the home's ``settings.tmp_dir``) as ``.tmp-<pid>-<hex>.csv``
    or ``.json``. ``name`` is the file's name as the user knows it (an upload stored under
    another name): errors show it, and its extension chooses the reader. ``ValueError`` if
    ``table`` already exists.
    """
    options = options or ReadOptions()
    path = Path(path)
    ctx = ReadContext(con=con, path=path, options=options, tmp_dir=tmp_dir, display_name=name)
    if not path.is_file():
        raise ctx.error("not_found", "the file does not exist or is not a regular file")
    if _table_exists(con, table):
        raise ValueError(f"table {table!r} already exists")
    restore = _keep_insertion_order(con)
    try:
        fmt = detect_format(ctx)
        encoding = delimiter = sheet = None
        if fmt == "csv":
            columns, rows, delimiter, encoding = read_delimited(ctx, table)
        elif fmt in ("json", "ndjson"):
            columns, rows, encoding = read_json(ctx, table, fmt)
        else:
            scan = scan_file(path, text=False)
            ctx.sha256, ctx.size = scan.sha256, scan.size
            if fmt == "xlsx":
                from joinedup.ingest.readers.xlsx import read_xlsx  # openpyxl: only when used

                columns, rows, sheet = read_xlsx(ctx, table)
            else:
                columns, rows = read_parquet(ctx, table)
        return SourceInfo(
            format=fmt,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
            columns=columns,
            row_count=rows,
            sha256=ctx.sha256,
            size_bytes=ctx.size,
            warnings=list(ctx.warnings),
        )
    finally:
        ctx.cleanup()
        restore()
