"""The one error type of ingest, and the stable machine codes (rules) it carries.

An :class:`IngestError` names the file (its name only, never a full path), the row when one
applies, a short stable ``rule`` code and a human message. Messages never quote cell values,
because a cell may hold personal data: they refer to columns by name or position and to rows by
number only. ``str(err)`` reads like::

    lambeth-ct.csv, row 7: ragged_row — the row has 5 fields but the header has 4
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from joinedup.errors import JoinedupError

#: Rules raised while reading a file, with a one-line description (docs and reports use these).
READ_RULES: dict[str, str] = {
    "not_found": "the file does not exist",
    "file_too_large": "the file is larger than the configured limit",
    "empty_file": "the file (or sheet) holds nothing, or only whitespace",
    "headers_only": "the file has a header but no data rows",
    "unsupported_format": "the file type is not one the hub reads",
    "format_mismatch": "the content does not match the file extension",
    "not_a_zip": "an .xlsx file that is not a ZIP archive",
    "encrypted_xlsx": "a password-protected workbook",
    "not_xlsx": "a ZIP archive that is not an Excel workbook",
    "zip_bomb": "the workbook would expand beyond the size or compression-ratio limits",
    "too_many_sheets": "the workbook has more sheets than allowed",
    "sheet_not_found": "the requested sheet is not in the workbook",
    "truncated": "the file ends early (cut off during copy or upload)",
    "corrupt": "the file's internal structure cannot be read",
    "binary_content": "the file holds binary data (NUL bytes or control characters), not text",
    "encoding": "the text encoding could not be determined or the bytes do not decode",
    "empty_header": "a column has no header",
    "duplicate_header": "two columns have the same header (ignoring case)",
    "reserved_header": "a column is named _row, which the hub uses for row numbers",
    "too_many_columns": "the file has more columns than allowed",
    "too_many_rows": "the file has more rows than allowed",
    "ragged_row": "a row has a different number of fields from the header",
    "unterminated_quote": "a quoted value is never closed",
    "bad_quote": "a closing quote is followed by other characters",
    "malformed_csv": "a row cannot be parsed as CSV",
    "cell_too_large": "a cell is longer than the configured limit",
    "record_too_large": "one JSON record is longer than the configured limit",
    "json_syntax": "the JSON is not well formed",
    "json_not_object": "a JSON record is not an object",
    "json_not_flat": "a JSON record holds a nested object or array",
    "json_too_deep": "JSON nesting is deeper than allowed",
    "nested_column": "a Parquet column has a nested type (struct, list, map)",
}


def base_name(file: str | PurePath | None) -> str:
    """The last component of a path, POSIX or Windows (``C:\\Users\\me\\a.csv`` → ``a.csv``)."""
    if not file:
        return ""
    return str(file).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


class IngestError(JoinedupError):
    """A file (or a row of it) that ingest will not accept, with a clear, data-free reason
    (422; ``str`` names the file, row and rule)."""

    def __init__(
        self,
        file: str | PurePath,
        row: int | None,
        rule: str,
        message: str,
        *,
        column: str | None = None,
    ) -> None:
        self.file = base_name(file)
        self.row = row
        self.rule = rule
        self.column = column
        super().__init__(message)

    def __str__(self) -> str:
        where = self.file or "file"
        if self.row is not None:
            where = f"{where}, row {self.row}"
        return f"{where}: {self.rule} — {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.file, self.row, self.rule, self.message, self.column))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form for reports and API responses."""
        return {
            "file": self.file,
            "row": self.row,
            "rule": self.rule,
            "column": self.column,
            "message": self.message,
        }


def _rebuild(
    file: str, row: int | None, rule: str, message: str, column: str | None
) -> IngestError:
    return IngestError(file, row, rule, message, column=column)
