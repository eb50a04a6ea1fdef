"""Immutable, content-addressed Parquet snapshots, written atomically.

A snapshot is written to a temporary file in ``<home>/tmp`` (same filesystem), fsynced, hashed,
then renamed to ``<home>/snapshots/<sha[:2]>/<sha>.parquet`` and recorded in the catalogue. A
snapshot is *visible* only once its catalogue row is committed, and the file is in place before
that row exists, so a crash at any point leaves either nothing visible or a complete snapshot.
Files orphaned by a crash between rename and commit are removed by :meth:`SnapshotStore.gc`:
before the rename a writer leaves a *pending marker*
``<home>/tmp/.pending-<sha>-<pid>-<id>@<host>`` and removes it only once its unit of work has
committed or rolled back. An unreferenced file with a marker whose process is gone is an
abandoned write and goes at once; one with a live marker (or another host's) is a write in
flight and stays; one with no marker (a crash that lost the marker) goes after ``min_age``.
Renames and gc's decisions are serialised by ``flock`` on ``<home>/tmp/.publish.lock``
(writers shared, gc exclusive), so gc never removes a file between a writer's marker check and
its rename.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.models import Snapshot
from joinedup.config import Settings
from joinedup.processes import pid_alive
from joinedup.store.hashing import file_sha256, stream_sha256

_TMP_NAME = re.compile(r"^\.tmp-(\d+)-[0-9a-f]+\.(parquet|csv|json)$")
_PENDING_NAME = re.compile(r"^\.pending-([0-9a-f]{64})-(\d+)-[0-9a-f]{32}@(.+)$")


def _host() -> str:
    """This host's name as it appears in pending markers (the home may be shared by hosts)."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "localhost"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hash_and_sync(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, after forcing its bytes to disk."""
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())
        return stream_sha256(fh)


def arrow_schema_json(schema: pa.Schema) -> list[dict[str, Any]]:
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


class SnapshotStore:
    """Snapshots of one joinedup home."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.snapshots_dir
        self.tmp = settings.tmp_dir

    def ensure_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def relative_path(self, sha256: str) -> str:
        return f"snapshots/{sha256[:2]}/{sha256}.parquet"

    def path_of(self, sha256: str) -> Path:
        return self.settings.home / self.relative_path(sha256)

    def temp_path(self) -> Path:
        """A fresh temporary path that :meth:`remove_stale_temp` can attribute to this process."""
        self.ensure_dirs()
        return self.tmp / f".tmp-{os.getpid()}-{uuid.uuid4().hex}.parquet"

    @contextmanager
    def _publish_lock(self, exclusive: bool) -> Iterator[None]:
        """Writers rename under a shared lock; :meth:`gc` decides under an exclusive one."""
        self.ensure_dirs()
        fd = os.open(self.tmp / ".publish.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def publish(
        self, tmp_path: Path, session: Session, pending: list[Path]
    ) -> tuple[Snapshot, bool]:
        """Move a finished temporary Parquet file into place and add its catalogue row.

        Appends the pending marker it leaves to ``pending``; the caller removes it once the
        session has committed or rolled back. Returns the snapshot and whether a new file was
        created (``False`` when identical content was already stored: the temporary file is
        discarded).
        """
        sha, size = hash_and_sync(tmp_path)
        existing = session.get(Snapshot, sha)
        final = self.path_of(sha)
        if existing is not None and final.exists():
            tmp_path.unlink()
            return existing, False
        meta = pq.read_metadata(tmp_path)
        schema = meta.schema.to_arrow_schema()
        final.parent.mkdir(parents=True, exist_ok=True)
        with self._publish_lock(exclusive=False):
            marker = self.tmp / f".pending-{sha}-{os.getpid()}-{uuid.uuid4().hex}@{_host()}"
            marker.touch()
            pending.append(marker)
            created = not final.exists()
            os.replace(tmp_path, final)
        _fsync_dir(final.parent)
        if existing is not None:
            return existing, created
        snapshot = Snapshot(
            sha256=sha,
            path=self.relative_path(sha),
            row_count=meta.num_rows,
            size_bytes=size,
            schema_json=arrow_schema_json(schema),
        )
        session.add(snapshot)
        session.flush()
        return snapshot, created

    def remove_stale_temp(self) -> int:
        """Delete temporary files left by processes that no longer run. Returns the count."""
        if not self.tmp.exists():
            return 0
        removed = 0
        for entry in self.tmp.iterdir():
            match = _TMP_NAME.match(entry.name)
            if match and not pid_alive(int(match.group(1))):
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def _pending(self) -> tuple[set[str], list[tuple[str, Path]]]:
        """Shas with a write in flight, and the markers of writers that are gone. A marker
        from another host sharing the home counts as in flight: only that host can tell."""
        live: set[str] = set()
        dead: list[tuple[str, Path]] = []
        host = _host()
        for entry in self.tmp.iterdir() if self.tmp.exists() else ():
            match = _PENDING_NAME.match(entry.name)
            if match is None:
                continue
            if match.group(3) != host or pid_alive(int(match.group(2))):
                live.add(match.group(1))
            else:
                dead.append((match.group(1), entry))
        return live, dead

    def gc(self, session: Session, min_age: timedelta = timedelta(hours=1)) -> list[str]:
        """Remove snapshot files that no catalogue row points at: at once when their writer
        died before committing (its pending marker says so), otherwise once older than
        ``min_age``. Never a file whose writer still runs."""
        cutoff = datetime.now(UTC) - min_age
        removed: list[str] = []
        with self._publish_lock(exclusive=True):
            live, dead = self._pending()
            # Read after the markers: a writer removes its marker only after its commit.
            known = set(session.scalars(select(Snapshot.sha256)))
            abandoned = {sha for sha, _ in dead}
            files = list(self.root.glob("*/*.parquet")) if self.root.exists() else []
            for file in files:
                sha = file.stem
                if sha in known or sha in live:
                    continue
                mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
                if sha in abandoned or mtime < cutoff:
                    file.unlink()
                    removed.append(sha)
            for _, marker in dead:
                marker.unlink(missing_ok=True)
        return removed

    def verify(self, snapshot: Snapshot) -> bool:
        """True when the file exists and its bytes still hash to the recorded sha256."""
        path = self.settings.home / snapshot.path
        return path.exists() and file_sha256(path) == snapshot.sha256

    def sql_source(self, sha256: str, row_numbers: bool = False) -> str:
        """A DuckDB table expression reading one snapshot: ``SELECT * FROM {source}``;
        ``row_numbers`` adds each row's position in the file (``file_row_number``)."""
        path = str(self.path_of(sha256)).replace("'", "''")
        options = ", file_row_number = true" if row_numbers else ""
        return f"read_parquet('{path}'{options})"

    def writer(self, session: Session) -> SnapshotWriter:
        return SnapshotWriter(self, session)


@dataclass
class SnapshotWriter:
    """Writes snapshots inside one unit of work and undoes new files if the work fails.

    Commit the session *inside* the ``with`` block, so that a failed commit also removes the
    files it would have made visible::

        with store.writer(session) as writer:
            snapshot = writer.write_table(table)
            session.add(DatasetVersion(..., snapshot_sha256=snapshot.sha256))
            session.commit()
    """

    store: SnapshotStore
    session: Session
    created: list[Path] = field(default_factory=list)
    _temps: list[Path] = field(default_factory=list)
    _pending: list[Path] = field(default_factory=list)

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        for tmp in self._temps:
            tmp.unlink(missing_ok=True)
        if exc_type is not None:
            for path in self.created:
                path.unlink(missing_ok=True)
        for marker in self._pending:  # last: the unit of work has committed or rolled back
            marker.unlink(missing_ok=True)

    def _publish(self, tmp: Path) -> Snapshot:
        snapshot, created = self.store.publish(tmp, self.session, self._pending)
        if created:
            self.created.append(self.store.path_of(snapshot.sha256))
        return snapshot

    def temp_path(self) -> Path:
        tmp = self.store.temp_path()
        self._temps.append(tmp)
        return tmp

    def write_table(self, table: pa.Table) -> Snapshot:
        """Write an Arrow table as a snapshot (zstd-compressed Parquet)."""
        tmp = self.temp_path()
        pq.write_table(table, tmp, compression="zstd")
        return self._publish(tmp)

    def write_query(self, con: duckdb.DuckDBPyConnection, sql: str) -> Snapshot:
        """Write the result of a DuckDB query as a snapshot without going through Python."""
        tmp = self.temp_path()
        target = str(tmp).replace("'", "''")
        con.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
        return self._publish(tmp)

    def publish_file(self, tmp: Path) -> Snapshot:
        """Publish a Parquet file the caller wrote to a path from :meth:`temp_path`."""
        return self._publish(tmp)
