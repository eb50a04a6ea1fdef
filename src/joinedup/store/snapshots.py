"""Immutable, content-addressed Parquet snapshots, written atomically.

A snapshot is written to a temporary file in ``<home>/tmp`` (same filesystem), fsynced, hashed,
then renamed to ``<home>/snapshots/<sha[:2]>/<sha>.parquet`` and recorded in the catalogue. A
snapshot is *visible* only once its catalogue row is committed, and the file is in place before
that row exists, so a crash at any point leaves either nothing visible or a complete snapshot.
Files orphaned by a crash between rename and commit are removed by :meth:`SnapshotStore.gc`.
"""

from __future__ import annotations

import os
import re
import uuid
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

    def publish(self, tmp_path: Path, session: Session) -> tuple[Snapshot, bool]:
        """Move a finished temporary Parquet file into place and add its catalogue row.

        Returns the snapshot and whether a new file was created (``False`` when identical
        content was already stored: the temporary file is discarded).
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

    def gc(self, session: Session, min_age: timedelta = timedelta(hours=1)) -> list[str]:
        """Remove snapshot files that no catalogue row points at and are older than ``min_age``."""
        known = set(session.scalars(select(Snapshot.sha256)))
        cutoff = datetime.now(UTC) - min_age
        removed: list[str] = []
        if not self.root.exists():
            return removed
        for file in self.root.glob("*/*.parquet"):
            sha = file.stem
            mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
            if sha not in known and mtime < cutoff:
                file.unlink()
                removed.append(sha)
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

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        for tmp in self._temps:
            tmp.unlink(missing_ok=True)
        if exc_type is not None:
            for path in self.created:
                path.unlink(missing_ok=True)

    def _publish(self, tmp: Path) -> Snapshot:
        snapshot, created = self.store.publish(tmp, self.session)
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
