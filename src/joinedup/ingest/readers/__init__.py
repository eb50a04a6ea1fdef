"""Readers: CSV, XLSX, JSON/NDJSON and Parquet into a DuckDB table of raw text columns.

See :func:`read_source` and docs/adr/0005-ingest-readers.md.
"""

from joinedup.ingest.readers.core import read_source
from joinedup.ingest.readers.options import ReadOptions, SourceInfo

__all__ = ["ReadOptions", "SourceInfo", "read_source"]
