"""Throughput sanity: 200,000 CSV rows on each CSV path, well inside the time budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from joinedup.ingest.readers import read_source
from joinedup.store import duckdb_session
from tests.support import make_settings

ROWS = 200_000
BUDGET_SECONDS = 10.0


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb_session(make_settings(tmp_path / "home")) as con:
        yield con


def _write(path: Path, encoding: str = "utf-8", blank_line: bool = False) -> None:
    header = "record_id,given_name,family_name,date_of_birth,postcode,address,uprn,amount,note\n"
    lines = [
        f"R{i:07d},Siân,O'Brien,19{i % 90 + 10}-0{i % 9 + 1}-1{i % 9},SW1A {i % 9}AA,"
        f'"{i % 300} High Street, Flat {i % 7}",{100000000000 + i},£{i % 1000}.{i % 100:02d},'
        f"note {i}\n"
        for i in range(ROWS)
    ]
    if blank_line:
        lines.insert(ROWS // 2, "\n")
    path.write_bytes((header + "".join(lines)).encode(encoding))


@pytest.mark.parametrize(
    ("encoding", "blank_line", "path_taken"),
    [
        ("utf-8", False, "DuckDB read_csv"),
        ("cp1252", False, "transcode, then DuckDB read_csv"),
        ("utf-8", True, "empty line: Python csv pass, DuckDB load, ASOF renumbering"),
    ],
)
def test_200k_rows_read_fast(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    encoding: str,
    blank_line: bool,
    path_taken: str,
) -> None:
    path = tmp_path / "big.csv"
    _write(path, encoding, blank_line)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    started = time.perf_counter()
    info = read_source(con, path, "src", tmp_dir=scratch)
    elapsed = time.perf_counter() - started
    print(f"{path_taken}: {ROWS:,} rows in {elapsed:.2f}s")
    assert elapsed < BUDGET_SECONDS
    assert info.row_count == ROWS
    last = ROWS + (2 if blank_line else 1)
    row = con.execute("SELECT _row, record_id, amount FROM src ORDER BY _row DESC LIMIT 1")
    assert row.fetchone() == (last, f"R{ROWS - 1:07d}", "£999.99")
    assert con.execute("SELECT count(DISTINCT _row) FROM src").fetchone() == (ROWS,)
    assert list(scratch.iterdir()) == []


def test_parallel_fast_path_agrees_with_the_python_parser_at_scale(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB splits big files between threads; multi-line quoted cells must not confuse it."""
    from joinedup.ingest.readers import delimited

    path = tmp_path / "notes.csv"
    lines = ["case_id,note,officer\r\n"]
    for i in range(100_000):
        note = f'visit {i}\nsaid ""fine, thanks""\n' if i % 3 == 0 else f"call {i}"
        lines.append(f'C{i},"{note}",{"" if i % 5 == 0 else "Officer " + str(i % 40)}\r\n')
    path.write_text("".join(lines), encoding="utf-8", newline="")
    read_source(con, path, "fast")
    monkeypatch.setattr(delimited, "_fast_load", lambda *a, **k: False)
    read_source(con, path, "slow")
    diff = con.execute(
        "SELECT count(*) FROM (SELECT * FROM fast EXCEPT ALL SELECT * FROM slow)"
    ).fetchone()
    assert diff == (0,)
    assert con.execute("SELECT count(*), max(_row) FROM fast").fetchone() == (100_000, 100_001)
    assert con.execute("SELECT note FROM fast WHERE _row = 2").fetchone() == (
        'visit 0\nsaid "fine, thanks"\n',
    )
