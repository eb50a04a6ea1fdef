"""What a read may do (:class:`ReadOptions`) and what it found (:class:`SourceInfo`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Format = Literal["csv", "xlsx", "json", "ndjson", "parquet"]
Nested = Literal["reject", "json"]

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(frozen=True)
class ReadOptions:
    """Choices and limits for one read. The defaults suit council exports.

    ``None`` means "detect": the format from the extension (confirmed by the content), the
    encoding from the bytes, the delimiter from the first lines, the first worksheet.
    """

    format: Format | None = None
    encoding: str | None = None
    """Text encoding of CSV/JSON. ``None`` detects it; a given encoding is applied strictly."""
    delimiter: str | None = None
    """CSV delimiter. ``None`` sniffs among ``,`` ``;`` tab and ``|``."""
    sheet: str | None = None
    """XLSX sheet name. ``None`` reads the first worksheet."""
    nested: Nested = "reject"
    """JSON values / Parquet columns that are objects or arrays: ``reject`` the file
    (``json_not_flat`` / ``nested_column``) or keep them as compact JSON text (``json``)."""

    max_file_bytes: int = 1 * GIB
    max_cell_chars: int = 32_768
    max_columns: int = 500
    max_rows: int | None = None
    max_sheets: int = 50
    max_uncompressed_bytes: int = 1 * GIB
    """XLSX: the sum of the uncompressed sizes of the ZIP members."""
    max_compression_ratio: float = 100.0
    """XLSX: uncompressed/compressed size of any member larger than 1 MiB, and of the whole."""
    max_json_depth: int = 20
    """JSON nesting depth, counting the record object as depth 1."""


@dataclass
class SourceInfo:
    """What :func:`read_source` read. ``columns`` excludes ``_row``."""

    format: Format
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    columns: list[str]
    row_count: int
    sha256: str
    size_bytes: int
    warnings: list[str] = field(default_factory=list)
