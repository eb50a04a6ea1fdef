"""Data plane: immutable, content-addressed Parquet snapshots read through DuckDB."""

from joinedup.store.duck import duckdb_session
from joinedup.store.snapshots import SnapshotStore, SnapshotWriter

__all__ = ["SnapshotStore", "SnapshotWriter", "duckdb_session"]
