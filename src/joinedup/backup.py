"""Consistent backup and restore of both planes: the catalogue and the snapshots it points to.

A backup is a tar archive::

    joinedup-backup.json        manifest: format, Alembic revision, row counts, file hashes
    catalogue/<table>.jsonl     every control-plane row, one JSON object per line
    snapshots/<ab>/<sha>.parquet

The catalogue is read from one consistent point in time (SQLite's online-backup API, or a
repeatable-read transaction on PostgreSQL). Snapshots are immutable, so copying the files the
catalogue names afterwards is consistent too. Restore goes into an empty home only, checks
every file's hash before anything becomes visible, and loads the rows in one transaction.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url

from joinedup import __version__
from joinedup.catalog import migrate
from joinedup.catalog.db import dispose_engines, get_engine, normalise_url
from joinedup.catalog.models import Base, Snapshot
from joinedup.catalog.types import UTCDateTime, utcnow
from joinedup.config import Settings
from joinedup.store.hashing import file_sha256

FORMAT = "joinedup-backup/1"
MANIFEST = "joinedup-backup.json"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    tables: dict[str, int]
    snapshots: int
    bytes: int


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@contextmanager
def _consistent_connection(settings: Settings) -> Iterator[Connection]:
    """A read-only connection that sees one point in time."""
    url = normalise_url(settings.resolved_database_url)
    if url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(dir=settings.tmp_dir) as tmp:
            copy = Path(tmp) / "catalogue.db"
            source = get_engine(settings).raw_connection()
            try:
                with sqlite3.connect(copy) as dest:
                    source.driver_connection.backup(dest)  # type: ignore[union-attr]
            finally:
                source.close()
            engine = create_engine(f"sqlite:///{copy}")
            try:
                with engine.connect() as conn:
                    yield conn
            finally:
                engine.dispose()
        return
    engine = get_engine(settings).execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        yield conn


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    tar.addfile(info, io.BytesIO(data))


def backup(settings: Settings, target: Path) -> BackupSummary:
    """Write a backup archive of this home to ``target`` (atomically: temp file then rename)."""
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    revision = migrate.current_revision(settings)
    if revision is None:
        raise BackupError("the database has not been initialised; run `joinedup init` first")
    tables: dict[str, int] = {}
    files: list[dict[str, Any]] = []
    total = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with tarfile.open(partial, "w") as tar, _consistent_connection(settings) as conn:
            for table in _tables():
                lines = [
                    json.dumps({k: _encode(v) for k, v in row._mapping.items()}, sort_keys=True)
                    for row in conn.execute(select(table))
                ]
                tables[table.name] = len(lines)
                data = ("\n".join(lines) + ("\n" if lines else "")).encode()
                _add_bytes(tar, f"catalogue/{table.name}.jsonl", data)
            snapshots = conn.execute(select(Snapshot.sha256, Snapshot.path)).all()
            for sha, rel in snapshots:
                source = settings.home / rel
                if not source.exists():
                    raise BackupError(f"snapshot {sha} is in the catalogue but its file is missing")
                tar.add(source, arcname=rel)
                size = source.stat().st_size
                total += size
                files.append({"sha256": sha, "path": rel, "size": size})
            manifest = {
                "format": FORMAT,
                "created_at": utcnow().isoformat(),
                "joinedup_version": __version__,
                "alembic_revision": revision,
                "tables": tables,
                "snapshots": files,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(target, tables, len(files), total)


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"backup member {name!r} has an unsafe path")
    return path


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError(f"not a joinedup backup: {MANIFEST} is missing") from None
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError(f"{MANIFEST} is not a regular file")
    manifest: dict[str, Any] = json.load(handle)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    return manifest


def _home_is_empty(settings: Settings) -> bool:
    if settings.snapshots_dir.exists() and any(settings.snapshots_dir.rglob("*.parquet")):
        return False
    with get_engine(settings).connect() as conn:
        for table in _tables():
            count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if count:
                return False
    return True


def _decode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(row)
    for column in table.columns:
        value = decoded.get(column.name)
        if value is not None and isinstance(column.type, UTCDateTime):
            decoded[column.name] = datetime.fromisoformat(value)
    return decoded


def _reset_sequences(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and column.type.python_type is int
            ):
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:t, :c), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    ),
                    {"t": table.name, "c": column.name},
                )


def restore(settings: Settings, source: Path) -> BackupSummary:
    """Restore a backup into an empty home, then migrate it to the current schema."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    try:
        tar = tarfile.open(source, "r")  # noqa: SIM115 - closed by the with-block below
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{source}: not a readable backup archive ({exc})") from None
    placed: list[Path] = []
    with tar:
        manifest = _read_manifest(tar)
        revision = manifest["alembic_revision"]
        for member in tar.getmembers():
            _safe_member(member.name)
        settings.home.mkdir(parents=True, exist_ok=True)
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        migrate.upgrade(settings, revision)
        if not _home_is_empty(settings):
            raise BackupError(f"{settings.home} already holds data; restore needs an empty home")
        try:
            for entry in manifest["snapshots"]:
                rel = _safe_member(entry["path"])
                member = tar.getmember(str(rel))
                handle = tar.extractfile(member)
                if handle is None:
                    raise BackupError(f"backup member {rel} is not a regular file")
                final = settings.home / rel
                final.parent.mkdir(parents=True, exist_ok=True)
                tmp = settings.tmp_dir / f".restore-{entry['sha256']}.parquet"
                with tmp.open("wb") as out:
                    shutil.copyfileobj(handle, out)
                if file_sha256(tmp) != entry["sha256"]:
                    tmp.unlink()
                    raise BackupError(f"snapshot {entry['sha256']} is corrupt in the backup")
                tmp.replace(final)
                placed.append(final)
            with get_engine(settings).begin() as conn:
                for table in _tables():
                    handle = tar.extractfile(f"catalogue/{table.name}.jsonl")
                    if handle is None:
                        raise BackupError(f"catalogue/{table.name}.jsonl is missing")
                    rows = [_decode_row(table, json.loads(line)) for line in handle if line.strip()]
                    if len(rows) != manifest["tables"].get(table.name, 0):
                        raise BackupError(f"catalogue/{table.name}.jsonl has the wrong row count")
                    if rows:
                        conn.execute(table.insert(), rows)
                _reset_sequences(conn)
        except BaseException:
            for path in placed:
                path.unlink(missing_ok=True)
            raise
    dispose_engines()
    migrate.upgrade(settings)
    total = sum(int(e["size"]) for e in manifest["snapshots"])
    return BackupSummary(source, dict(manifest["tables"]), len(manifest["snapshots"]), total)


def describe_database(settings: Settings) -> str:
    """The database URL without any password, for messages."""
    return make_url(normalise_url(settings.resolved_database_url)).render_as_string(
        hide_password=True
    )
