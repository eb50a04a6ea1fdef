"""DuckDB sessions configured for this machine and this home (spill directory, limits)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from joinedup.config import Settings


def duckdb_config(
    settings: Settings, memory_limit: str | None = None
) -> dict[str, str | bool | int | float | list[str]]:
    spill = settings.tmp_dir / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    return {
        "threads": str(os.cpu_count() or 1),
        "memory_limit": memory_limit or os.environ.get("JOINEDUP_DUCKDB_MEMORY", "4GB"),
        "temp_directory": str(spill),
        "autoinstall_known_extensions": False,
        "preserve_insertion_order": True,
    }


@contextmanager
def duckdb_session(
    settings: Settings, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection that spills to the home's tmp folder; closed on exit."""
    con = duckdb.connect(":memory:", config=duckdb_config(settings, memory_limit))
    con.execute("SET enable_progress_bar = false")  # never write progress to our stdout
    try:
        yield con
    finally:
        con.close()
