"""Data plane: immutable, content-addressed Parquet snapshots read through DuckDB.

The names are imported on first use, so that a module needing only
:mod:`joinedup.store.sql` does not load the catalogue (SQLAlchemy) with the snapshots."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from joinedup.store.duck import duckdb_reader, duckdb_session
    from joinedup.store.snapshots import SnapshotStore, SnapshotWriter

__all__ = ["SnapshotStore", "SnapshotWriter", "duckdb_reader", "duckdb_session"]

_WHERE = {
    "SnapshotStore": "joinedup.store.snapshots",
    "SnapshotWriter": "joinedup.store.snapshots",
    "duckdb_session": "joinedup.store.duck",
    "duckdb_reader": "joinedup.store.duck",
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
