"""XLSX workbooks, read with openpyxl in read-only (streaming) mode.

Before any XML is parsed the ZIP directory is checked: the sum of the members' uncompressed
sizes and their compression ratios (zip bombs), and that it is a workbook at all. openpyxl then
streams the chosen sheet row by row into Arrow batches. Cell values become text the way a
person reads them in Excel:

* date/time cells (a number with a date format) → ISO 8601 (``2020-02-29``, or
  ``2020-02-29T10:30:00`` when there is a time of day);
* numbers → the shortest text, without float noise: ``12`` not ``12.0``, ``0.3`` not
  ``0.30000000000000004`` (15 significant digits, as Excel shows); a number with a plain number
  format stays a number even if it looks like an Excel date serial (``43831``);
* booleans → ``TRUE``/``FALSE``; error values (``#N/A``) and text → as stored, verbatim;
* formulas → the value Excel last calculated (a file never opened in Excel may have none).

The header is the first non-empty row. ``_row`` is the sheet row number. Empty rows are skipped
(their numbers are not reused); a value in a column without a header is an error.
"""

from __future__ import annotations

import warnings
import zipfile
import zlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from joinedup.ingest.readers.context import ReadContext
from joinedup.ingest.readers.options import MIB
from joinedup.ingest.readers.table import (
    BatchSink,
    Header,
    check_headers,
    column_label,
    drop_table,
    finish,
    new_stage_name,
)

RATIO_FLOOR = 1 * MIB
"""Members smaller than this are not judged by their compression ratio."""
MAX_MEMBERS = 10_000


def number_text(value: float) -> str:
    """Excel's 15 significant digits, without a trailing ``.0`` or an exponent."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(value, ".15g")
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def cell_text(value: Any) -> str | None:
    """One cell as the text a person sees (``None`` for empty)."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value or None
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is float:
        return number_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def check_zip(ctx: ReadContext) -> None:
    """Reject truncated archives, zip bombs and ZIPs that are not workbooks — before parsing."""
    opts = ctx.options
    try:
        with zipfile.ZipFile(ctx.path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise ctx.error(
            "truncated",
            "the workbook's ZIP directory is missing or damaged (the file may be cut short)",
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise ctx.error("zip_bomb", f"the workbook holds {len(infos):,} parts; too many")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > opts.max_uncompressed_bytes:
        raise ctx.error(
            "zip_bomb",
            f"the workbook would expand to {total:,} bytes; the limit is "
            f"{opts.max_uncompressed_bytes:,}",
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise ctx.error("encrypted_xlsx", "the workbook's parts are encrypted")
        if info.file_size > RATIO_FLOOR and info.file_size > opts.max_compression_ratio * max(
            info.compress_size, 1
        ):
            raise ctx.error(
                "zip_bomb",
                f"a part of the workbook is compressed "
                f"{info.file_size / max(info.compress_size, 1):,.0f} times; the limit is "
                f"{opts.max_compression_ratio:,.0f}",
            )
    if total > RATIO_FLOOR and total > opts.max_compression_ratio * max(packed, 1):
        raise ctx.error(
            "zip_bomb",
            f"the workbook is compressed {total / max(packed, 1):,.0f} times; the limit is "
            f"{opts.max_compression_ratio:,.0f}",
        )
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise ctx.error("not_xlsx", "the file is a ZIP archive but not an Excel workbook")
    if "xl/workbook.bin" in names:
        raise ctx.error(
            "unsupported_format", "the file is an Excel binary workbook (.xlsb); save it as .xlsx"
        )


def read_xlsx(ctx: ReadContext, table: str) -> tuple[list[str], int, str]:
    """Read one sheet into ``table``; returns (columns, rows, sheet name)."""
    check_zip(ctx)
    opts = ctx.options
    try:
        with warnings.catch_warnings():  # openpyxl warns about unsupported extensions, styles
            warnings.simplefilter("ignore", UserWarning)
            wb = load_workbook(ctx.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise ctx.error("truncated", "the workbook is cut short or damaged") from None
    except Exception:  # openpyxl raises many types for malformed parts
        raise ctx.error("corrupt", "the workbook's structure cannot be read") from None
    try:
        names = list(wb.sheetnames)
        if len(names) > opts.max_sheets:
            raise ctx.error(
                "too_many_sheets",
                f"the workbook has {len(names)} sheets; the limit is {opts.max_sheets}",
            )
        worksheets = [ws for ws in wb.worksheets if isinstance(ws, ReadOnlyWorksheet)]
        if opts.sheet is not None:
            if opts.sheet not in names:
                raise ctx.error(
                    "sheet_not_found",
                    f"there is no sheet named '{opts.sheet}'; the sheets are: "
                    + ", ".join(f"'{n}'" for n in names),
                )
            ws = wb[opts.sheet]
            if not isinstance(ws, ReadOnlyWorksheet):
                raise ctx.error("sheet_not_found", f"'{opts.sheet}' is a chart, not a worksheet")
        elif worksheets:
            ws = worksheets[0]
            if len(worksheets) > 1:
                ctx.warn(
                    "sheet",
                    f"read the first sheet '{ws.title}' of {len(worksheets)}; "
                    "choose another with the sheet option",
                )
        else:
            raise ctx.error("empty_file", "the workbook has no worksheets")
        stage = new_stage_name()
        try:
            header = _load_sheet(ctx, ws, stage)
            rows = finish(ctx, stage, table, header, "_row", letters=True)
        finally:
            drop_table(ctx, stage)
        return header.names, rows, ws.title
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise ctx.error("truncated", "the workbook is cut short or damaged") from None
    finally:
        wb.close()


def _load_sheet(ctx: ReadContext, ws: ReadOnlyWorksheet, stage: str) -> Header:
    ws.reset_dimensions()
    header: Header | None = None
    sink: BatchSink | None = None
    width = 0
    skipped = 0
    number = 0
    try:
        rows = ws.iter_rows(values_only=True)
        for number, raw in enumerate(rows, start=1):
            values = [cell_text(v) for v in raw]
            if header is None:
                if not any(v is not None for v in values):
                    continue
                header = check_headers(
                    ctx, values, number, letters=True, allow_unnamed_trailing=True
                )
                width = len(header.names) - len(header.unnamed)
                header.names, header.unnamed = header.names[:width], []
                sink = BatchSink(ctx, stage, width)
                if number > 1:
                    ctx.warn(
                        "header_row", f"the header is on row {number}; rows above it are empty"
                    )
                continue
            if not any(v is not None for v in values):
                skipped += 1
                continue
            for i in range(width, len(values)):
                if values[i] is not None:
                    raise ctx.error(
                        "empty_header",
                        f"{column_label(i, True)} has a value but no header",
                        number,
                    )
            if len(values) < width:
                values += [None] * (width - len(values))
            assert sink is not None
            sink.add(number, values[:width])
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise ctx.error("truncated", "the sheet is cut short or damaged") from None
    except (ParseError, KeyError, ValueError, TypeError, IndexError):
        read = f" after row {number}" if number else ""
        raise ctx.error("corrupt", f"the sheet's XML is damaged{read}") from None
    if header is None or sink is None:
        raise ctx.error("empty_file", f"the sheet '{ws.title}' is empty")
    sink.flush()
    if skipped:
        ctx.warn("empty_rows", f"{skipped} empty row(s) were skipped")
    return header
