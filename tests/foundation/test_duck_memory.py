"""A DuckDB step that outgrows the session's memory limit runs again with DuckDB's default,
instead of failing a large region's build (``store.duck.with_memory_to_spare``)."""

from __future__ import annotations

import duckdb
import pytest
from splink.internals.exceptions import SplinkException

from joinedup.config import Settings
from joinedup.store.duck import duckdb_session, out_of_memory, with_memory_to_spare

#: One list of two million strings: an aggregate DuckDB cannot spill, so 16 MB is too little.
BIG_LIST = "SELECT len(list(range::VARCHAR || '-padding')) FROM range(2000000)"


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_a_step_out_of_memory_runs_again_at_the_default_limit(
    home_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with duckdb_session(home_settings, memory_limit="16MB") as con:
        tight = _limit(con)
        attempts: list[str] = []

        def step() -> list[tuple[int]]:
            attempts.append(_limit(con))
            return con.execute(BIG_LIST).fetchall()

        assert with_memory_to_spare(con, step) == [(2_000_000,)]
        assert attempts[0] == tight and len(attempts) == 2
        assert attempts[1] != tight  # the second attempt ran under DuckDB's default
    assert "ran out of memory" in caplog.text


def test_a_library_wrapping_the_error_is_seen_through() -> None:
    try:
        try:
            raise duckdb.OutOfMemoryException("Out of Memory Error")
        except duckdb.OutOfMemoryException as inner:
            raise SplinkException("Error executing the following sql") from inner
    except SplinkException as outer:
        assert out_of_memory(outer)
    assert not out_of_memory(SplinkException("a syntax error"))


def test_other_failures_are_not_retried(home_settings: Settings) -> None:
    with duckdb_session(home_settings, memory_limit="16MB") as con:
        attempts: list[int] = []

        def step() -> None:
            attempts.append(1)
            con.execute("SELECT * FROM no_such_table")

        with pytest.raises(duckdb.CatalogException):
            with_memory_to_spare(con, step)
        assert attempts == [1]
