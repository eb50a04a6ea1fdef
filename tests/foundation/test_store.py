import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Snapshot
from joinedup.config import Settings
from joinedup.home import init_home
from joinedup.store import SnapshotStore, duckdb_session


def _table(n: int = 1000) -> pa.Table:
    return pa.table({"id": list(range(n)), "name": [f"person {i}" for i in range(n)]})


def _snapshot_count(settings: Settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(Snapshot)) or 0


def test_snapshot_records_rows_hash_and_schema(db_settings: Settings) -> None:
    store = SnapshotStore(db_settings)
    with session_scope(db_settings) as session, store.writer(session) as writer:
        snapshot = writer.write_table(_table())
        session.commit()
    path = db_settings.home / snapshot.path
    assert snapshot.row_count == 1000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == snapshot.sha256
    assert [c["name"] for c in snapshot.schema_json] == ["id", "name"]
    assert snapshot.schema_json[0]["type"] == "int64"
    assert path.name == f"{snapshot.sha256}.parquet"
    assert not any(db_settings.tmp_dir.glob(".tmp-*"))


def test_identical_content_is_stored_once(home_settings: Settings) -> None:
    store = SnapshotStore(home_settings)
    with session_scope(home_settings) as session, store.writer(session) as writer:
        first = writer.write_table(_table())
        second = writer.write_table(_table())
        session.commit()
    assert first.sha256 == second.sha256
    assert _snapshot_count(home_settings) == 1
    assert len(list(home_settings.snapshots_dir.glob("*/*.parquet"))) == 1


def test_snapshots_are_read_through_duckdb(home_settings: Settings) -> None:
    store = SnapshotStore(home_settings)
    with session_scope(home_settings) as session, store.writer(session) as writer:
        with duckdb_session(home_settings) as con:
            snapshot = writer.write_query(con, "SELECT range AS n FROM range(10)")
        session.commit()
    with duckdb_session(home_settings) as con:
        total = con.execute(f"SELECT SUM(n) FROM {store.sql_source(snapshot.sha256)}").fetchone()
    assert total == (45,)


def test_failed_unit_of_work_leaves_no_snapshot(home_settings: Settings) -> None:
    store = SnapshotStore(home_settings)
    with (
        pytest.raises(RuntimeError),
        session_scope(home_settings) as session,
        store.writer(session) as writer,
    ):
        writer.write_table(_table())
        raise RuntimeError("validation failed after writing")
    assert _snapshot_count(home_settings) == 0
    assert list(home_settings.snapshots_dir.glob("*/*.parquet")) == []
    assert list(home_settings.tmp_dir.glob(".tmp-*")) == []


def test_verify_detects_a_changed_file(home_settings: Settings) -> None:
    store = SnapshotStore(home_settings)
    with session_scope(home_settings) as session, store.writer(session) as writer:
        snapshot = writer.write_table(_table())
        session.commit()
    assert store.verify(snapshot)
    path = home_settings.home / snapshot.path
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    assert not store.verify(snapshot)


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pyarrow as pa, pyarrow.parquet as pq
    from joinedup.catalog.db import session_scope
    from joinedup.config import Settings
    from joinedup.store import SnapshotStore

    settings = Settings(home=Path(sys.argv[1]))
    store = SnapshotStore(settings)
    batch = pa.table({"id": list(range(50_000)), "v": ["x" * 20] * 50_000})
    with session_scope(settings) as session, store.writer(session) as writer:
        tmp = writer.temp_path()
        with pq.ParquetWriter(tmp, batch.schema) as out:
            for i in range(10_000):
                out.write_table(batch)
                if i == 2:
                    print("writing", flush=True)
                time.sleep(0.01)
        writer.publish_file(tmp)
        session.commit()
    """
)


def test_killed_snapshot_write_leaves_no_partial_snapshot(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(settings.home)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert list(settings.snapshots_dir.rglob("*.parquet")) == []
    assert _snapshot_count(settings) == 0
    leftovers = list(settings.tmp_dir.glob(".tmp-*"))
    assert leftovers, "the killed writer's temporary file should be there to clean up"
    report = init_home(settings)
    assert report.stale_temp_removed == len(leftovers)
    assert list(settings.tmp_dir.glob(".tmp-*")) == []


CRASH_AFTER_RENAME = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import pyarrow as pa
    from joinedup.catalog.db import session_scope
    from joinedup.config import Settings
    from joinedup.store import SnapshotStore

    settings = Settings(home=Path(sys.argv[1]))
    with session_scope(settings) as session:
        SnapshotStore(settings).writer(session).write_table(pa.table({"a": [1, 2, 3]}))
        os._exit(9)  # dies after the rename, before the catalogue commit
    """
)


def test_crash_between_rename_and_commit_leaves_nothing_visible(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    result = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_RENAME, str(settings.home)], check=False
    )
    assert result.returncode == 9
    assert _snapshot_count(settings) == 0
    orphans = list(settings.snapshots_dir.rglob("*.parquet"))
    assert len(orphans) == 1
    with session_scope(settings) as session:
        assert SnapshotStore(settings).gc(session, min_age=timedelta(0)) == [orphans[0].stem]
    assert list(settings.snapshots_dir.rglob("*.parquet")) == []


def test_init_sweeps_temp_files_of_dead_readers_and_writers(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    dead = [settings.tmp_dir / f".tmp-999999-ab{i}.{ext}" for i, ext in enumerate(["csv", "json"])]
    alive = settings.tmp_dir / f".tmp-{os.getpid()}-cd.csv"
    for path in [*dead, alive]:
        path.write_text("x")
    assert init_home(settings).stale_temp_removed == 2
    assert not any(p.exists() for p in dead)
    assert alive.exists()


WRITE_AND_WAIT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pyarrow as pa
    from joinedup.catalog.db import session_scope
    from joinedup.config import Settings
    from joinedup.store import SnapshotStore

    settings = Settings(home=Path(sys.argv[1]))
    with session_scope(settings) as session:
        with SnapshotStore(settings).writer(session) as writer:
            writer.write_table(pa.table({"a": [int(sys.argv[2])]}))
            print("renamed", flush=True)  # the file is in place, its row not yet committed
            time.sleep(600)
            session.commit()
    """
)


def _start_writer(settings: Settings, value: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITE_AND_WAIT, str(settings.home), str(value)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "renamed"
    return proc


def test_gc_removes_a_killed_writers_orphan_at_once_but_not_a_write_in_flight(
    tmp_path: Path,
) -> None:
    """Issue 15, finding 8: a writer killed after the rename but before its commit left a file
    that gc kept for an hour; a writer still running must keep its file whatever its age."""
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    killed = _start_writer(settings, 1)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    (orphan,) = settings.snapshots_dir.rglob("*.parquet")  # fresh: a minute old at most
    in_flight = _start_writer(settings, 2)  # after: SQLite has one writer at a time
    try:
        (writing,) = set(settings.snapshots_dir.rglob("*.parquet")) - {orphan}
        os.utime(writing, (10**9, 10**9))  # 2001: older than any grace period
        with session_scope(settings) as session:
            removed = SnapshotStore(settings).gc(session)  # the default hour's grace
        assert removed == [orphan.stem]
        assert not orphan.exists()
        assert writing.exists()  # its writer still runs, so it stays whatever its age
        markers = [p.name for p in settings.tmp_dir.glob(".pending-*")]
        assert [m.split("-")[2] for m in markers] == [str(in_flight.pid)]
    finally:
        in_flight.kill()
        in_flight.wait(timeout=30)
    assert _snapshot_count(settings) == 0


def test_a_committed_write_leaves_no_marker_and_gc_keeps_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    store = SnapshotStore(settings)
    with session_scope(settings) as session, store.writer(session) as writer:
        snapshot = writer.write_table(_table(10))
        session.commit()
    assert list(settings.tmp_dir.glob(".pending-*")) == []
    with session_scope(settings) as session:
        assert store.gc(session, min_age=timedelta(0)) == []
        row = session.get(Snapshot, snapshot.sha256)
        assert row is not None and store.verify(row)


def test_gc_leaves_a_write_another_host_marked_pending(tmp_path: Path) -> None:
    """Hosts sharing a home cannot see each other's processes: only the writer's host decides."""
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    sha = hashlib.sha256(b"elsewhere").hexdigest()
    orphan = settings.home / SnapshotStore(settings).relative_path(sha)
    orphan.parent.mkdir(parents=True)
    pq.write_table(_table(3), orphan)
    (settings.tmp_dir / f".pending-{sha}-999999-{'0' * 32}@another-host").touch()
    with session_scope(settings) as session:
        assert SnapshotStore(settings).gc(session, min_age=timedelta(0)) == []
    assert orphan.exists()
