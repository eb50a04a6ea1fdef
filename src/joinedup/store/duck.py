"""DuckDB sessions configured for this machine and this home (spill directory, limits)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import duckdb

from joinedup.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


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


def out_of_memory(exc: BaseException) -> bool:
    """Whether DuckDB ran out of memory under ``exc`` (raised directly, or as the cause of
    a library's own exception, as Splink wraps every failed query)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, duckdb.OutOfMemoryException):
            return True
        seen = seen.__cause__
    return False


def with_memory_to_spare(con: duckdb.DuckDBPyConnection, step: Callable[[], T]) -> T:
    """Run ``step``; if DuckDB runs out of memory under the session's own limit (a build's
    limit keeps a region's peak low: ``linkage.build.BUILD_MEMORY_LIMIT``), lift the limit to
    DuckDB's default (80% of the machine's memory) and run it once more. What a query
    holds at once grows with the data, so a fixed limit that suits one region fails a
    larger one; the second attempt costs only the failed step, not the whole run."""
    try:
        return step()
    except Exception as exc:
        if not out_of_memory(exc):
            raise
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute("RESET memory_limit")
    raised = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    log.warning("DuckDB ran out of memory at %s; running the step again at %s", limit, raised)
    return step()


_readers: dict[tuple[int, str, str], duckdb.DuckDBPyConnection] = {}
_readers_lock = threading.Lock()


@contextmanager
def duckdb_reader(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on an in-memory DuckDB database that this process opens once per home, for
    short read-only queries of snapshots on a request's path (opening a database costs 15 ms
    or more, a cursor well under one). The cursors share the database's catalogue, so create
    no tables or views: Arrow tables registered on the cursor stay its own. Closed on exit."""
    key = (os.getpid(), str(settings.tmp_dir), os.environ.get("JOINEDUP_DUCKDB_MEMORY", ""))
    with _readers_lock:
        database = _readers.get(key)
        if database is None:
            config = duckdb_config(settings)
            spill = settings.tmp_dir / "duckdb-readers" / str(os.getpid())  # its own spill
            spill.mkdir(parents=True, exist_ok=True)
            database = duckdb.connect(":memory:", config={**config, "temp_directory": str(spill)})
            database.execute("SET enable_progress_bar = false")
            _readers[key] = database
        con = database.cursor()
    try:
        yield con
    finally:
        con.close()
