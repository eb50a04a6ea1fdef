"""Consistent backup and restore of both planes: the catalogue and the snapshots it points to.

A backup is a tar archive::

    joinedup-backup.json        manifest: format, Alembic revision, each table's row count,
                                file hash and column encodings, every snapshot's hash and size
    catalogue/<table>.jsonl     every control-plane row, one JSON object per line
    snapshots/<ab>/<sha>.parquet
    files/<path>                the other files of the home the catalogue names (linkage
                                models, ``linkage_run.model_path``), and the audit log's
                                signed checkpoints (``audit/checkpoints.jsonl``) up to the
                                archive's last audit event, each with hash and size

Each column is encoded from its SQLAlchemy type (:data:`ENCODINGS`): dates and datetimes as ISO
8601, decimals as strings, bytes as base64, JSON columns as their JSON text (so SQL NULL and JSON
``null`` stay apart), so a round trip gives back exactly the rows it read. A column type the
backup does not know stops the backup rather than writing something restore cannot read back.

The catalogue is read from one consistent point in time (SQLite's online-backup API, or a
repeatable-read transaction on PostgreSQL). Snapshots are immutable, so copying the files the
catalogue names afterwards is consistent too. Restore goes into an empty home only, checks
every file's hash before anything becomes visible, and loads the rows in one transaction.
:func:`verify_archive` checks an archive without restoring it, including the audit chain held
in it; restore runs the same checks first.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import io
import json
import re
import shutil
import sqlite3
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Column, Connection, Table, create_engine, func, null, select, text, update
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import make_url

from joinedup import __version__
from joinedup.catalog import migrate
from joinedup.catalog.db import dispose_engines, get_engine, normalise_url
from joinedup.catalog.models import AuditEvent, Base, LinkageRun, Snapshot
from joinedup.catalog.types import UTCDateTime, utcnow
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.audit import ChainWalk
from joinedup.governance.audit_anchor import CHECKPOINTS, checkpoint_head, unverified_checkpoints
from joinedup.store.hashing import file_sha256

FORMAT = "joinedup-backup/3"
#: Archives of format 1 (datetimes only, JSON columns written raw) and 2 (no home files: a
#: home restored from one lacks its linkage models) are still read.
READABLE_FORMATS = {"joinedup-backup/1", "joinedup-backup/2", FORMAT}
#: Formats whose manifest has each table's hash and column encodings.
ENCODED_FORMATS = {"joinedup-backup/2", FORMAT}
FILES_PREFIX = "files/"
MANIFEST = "joinedup-backup.json"


class BackupError(JoinedupError):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    tables: dict[str, int]
    snapshots: int
    bytes: int
    files: int = 0
    #: Restored audit checkpoints that do not verify with the restored home's secret key.
    unverified_checkpoints: int = 0


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _iso(value: Any) -> str:
    return str(value.isoformat())


def _json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _enum_name(value: Any) -> Any:
    return value.name if isinstance(value, enum.Enum) else value


def _same(value: Any) -> Any:
    return value


def _interval(value: Any) -> Any:
    return [value.days, value.seconds, value.microseconds]


#: How each kind of column is written to and read back from the archive's JSON lines.
ENCODINGS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "plain": (_same, _same),
    "float": (float, float),
    "utc-datetime": (_iso, datetime.fromisoformat),
    "datetime": (_iso, datetime.fromisoformat),
    "date": (_iso, date.fromisoformat),
    "time": (_iso, time.fromisoformat),
    "interval": (_interval, lambda v: timedelta(days=v[0], seconds=v[1], microseconds=v[2])),
    "decimal": (str, Decimal),
    "bytes": (lambda v: base64.b64encode(bytes(v)).decode("ascii"), base64.b64decode),
    "uuid": (str, uuid.UUID),
    "enum": (_enum_name, _same),
    "json": (_json_text, json.loads),
}

# Most specific first: Float is a Numeric, Enum is a String, UTCDateTime wraps DateTime.
_TYPE_ENCODINGS: list[tuple[type[Any], str]] = [
    (UTCDateTime, "utc-datetime"),
    (sqltypes.JSON, "json"),
    (sqltypes.Enum, "enum"),
    (sqltypes.DateTime, "datetime"),
    (sqltypes.Date, "date"),
    (sqltypes.Time, "time"),
    (sqltypes.Interval, "interval"),
    (sqltypes.Float, "float"),
    (sqltypes.Numeric, "decimal"),
    (sqltypes.LargeBinary, "bytes"),
    (sqltypes.Uuid, "uuid"),
    (sqltypes.Boolean, "plain"),
    (sqltypes.Integer, "plain"),
    (sqltypes.String, "plain"),
]


def column_encoding(column: Column[Any]) -> str:
    """The archive encoding of a column, from its SQLAlchemy type."""
    for kind, name in _TYPE_ENCODINGS:
        if isinstance(column.type, kind):
            return name
    raise BackupError(
        f"column {column.table.name}.{column.name} has type {column.type!r}, "
        "which backup does not know how to write; add it to joinedup.backup"
    )


def _table_encodings(table: Table) -> dict[str, str]:
    return {column.name: column_encoding(column) for column in table.columns}


def _encode_row(row: dict[str, Any], encodings: dict[str, str]) -> dict[str, Any]:
    return {
        name: None if row[name] is None else ENCODINGS[kind][0](row[name])
        for name, kind in encodings.items()
    }


def _decode_value(kind: str, value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        return ENCODINGS[kind][1](value)
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        raise BackupError(
            f"{where}: value cannot be read as {kind} ({type(exc).__name__})"
        ) from None


_SQL_NULL = "__sql_null__"


def _dump_table(conn: Connection, table: Table) -> list[str]:
    """Every row of ``table`` as sorted-key JSON lines. A JSON column holding SQL NULL is
    written as ``null`` and one holding JSON ``null`` as the text ``"null"``."""
    encodings = _table_encodings(table)
    json_columns = [c for c in table.columns if encodings[c.name] == "json"]
    flags = [c.is_(None).label(f"{_SQL_NULL}{c.name}") for c in json_columns]
    lines = []
    for row in conn.execute(select(table, *flags)):
        values = dict(row._mapping)
        encoded = _encode_row({c.name: values[c.name] for c in table.columns}, encodings)
        for column in json_columns:
            if values[f"{_SQL_NULL}{column.name}"]:
                encoded[column.name] = None
        lines.append(json.dumps(encoded, sort_keys=True))
    return lines


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
    digests: dict[str, str] = {}
    columns = {table.name: _table_encodings(table) for table in _tables()}
    files: list[dict[str, Any]] = []
    total = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with tarfile.open(partial, "w") as tar, _consistent_connection(settings) as conn:
            for table in _tables():
                lines = _dump_table(conn, table)
                tables[table.name] = len(lines)
                data = ("\n".join(lines) + ("\n" if lines else "")).encode()
                digests[table.name] = hashlib.sha256(data).hexdigest()
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
            home_files = []
            for rel in _named_files(conn):
                source = settings.home / _safe_member(rel)
                if not source.is_file():
                    raise BackupError(f"{rel} is named by the catalogue but is missing")
                tar.add(source, arcname=f"{FILES_PREFIX}{rel}")
                size = source.stat().st_size
                total += size
                home_files.append({"path": rel, "sha256": file_sha256(source), "size": size})
            anchor = _checkpoints(settings, conn)
            if anchor is not None:
                _add_bytes(tar, f"{FILES_PREFIX}{CHECKPOINTS}", anchor)
                total += len(anchor)
                digest = hashlib.sha256(anchor).hexdigest()
                home_files.append({"path": CHECKPOINTS, "sha256": digest, "size": len(anchor)})
            manifest = {
                "format": FORMAT,
                "created_at": utcnow().isoformat(),
                "joinedup_version": __version__,
                "alembic_revision": revision,
                "tables": tables,
                "catalogue_sha256": digests,
                "columns": columns,
                "snapshots": files,
                "files": home_files,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(target, tables, len(files), total, len(home_files))


def _checkpoints(settings: Settings, conn: Connection) -> bytes | None:
    """The home's signed audit checkpoints up to the last audit event ``conn`` sees (one of a
    later event, committed after the catalogue was read, is left out; so is a line still being
    written). Lines that are not readable checkpoints are kept, for ``audit verify`` to report."""
    path = settings.home / CHECKPOINTS
    if not path.is_file():
        return None
    last = conn.execute(select(func.max(AuditEvent.id))).scalar() or 0
    kept = []
    for line in path.read_bytes().splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        head = checkpoint_head(line.decode(errors="replace"))
        if head is None or head[0] <= last:
            kept.append(line)
    return b"".join(kept)


def _named_files(conn: Connection) -> list[str]:
    """Files of the home, other than snapshots, that catalogue rows name (relative paths)."""
    paths = conn.execute(select(LinkageRun.model_path).distinct()).scalars()
    return sorted({str(p) for p in paths if p})


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"backup member {name!r} has an unsafe path")
    return path


@dataclass(frozen=True)
class ArchiveReport:
    """What :func:`verify_archive` found in a sound archive."""

    path: Path
    revision: str
    tables: dict[str, int]
    snapshots: int
    bytes: int
    audit_events: int
    files: int = 0


#: Stands for SQL NULL in a JSON column (Python ``None`` there means JSON ``null``).
_SQL_NULL_VALUE = object()
_SHA = re.compile(r"^[0-9a-f]{64}$")


class _Archive:
    """An open backup archive whose member reads report damage as :class:`BackupError`."""

    def __init__(self, source: Path, tar: tarfile.TarFile) -> None:
        self.source = source
        self.tar = tar
        self.members = {m.name: m for m in tar.getmembers()}
        for name in self.members:
            _safe_member(name)

    def _member(self, name: str) -> tarfile.TarInfo:
        member = self.members.get(name)
        if member is None:
            raise BackupError(f"{self.source}: {name} is missing from the backup")
        if not member.isfile():
            raise BackupError(f"{self.source}: {name} is not a regular file")
        return member

    def stream(self, name: str, sink: Callable[[bytes], object]) -> int:
        """Feed member ``name`` to ``sink`` in chunks; returns its size."""
        member = self._member(name)
        handle = self.tar.extractfile(member)
        assert handle is not None  # a regular file always has a handle
        size = 0
        try:
            while chunk := handle.read(1 << 20):
                sink(chunk)
                size += len(chunk)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"{self.source}: {name} is damaged or truncated ({exc})") from None
        if size != member.size:
            raise BackupError(f"{self.source}: {name} is truncated")
        return size

    def read(self, name: str) -> bytes:
        out = io.BytesIO()
        self.stream(name, out.write)
        return out.getvalue()


@contextmanager
def _open_archive(source: Path) -> Iterator[_Archive]:
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    try:
        tar = tarfile.open(source, "r")  # noqa: SIM115 - closed by the with-block below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{source}: not a readable backup archive ({exc})") from None
    with tar:
        try:
            archive = _Archive(source, tar)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"{source}: the archive is damaged or truncated ({exc})") from None
        yield archive


def _read_manifest(archive: _Archive) -> dict[str, Any]:
    where = f"{archive.source}: {MANIFEST}"
    if MANIFEST not in archive.members:
        raise BackupError(f"{archive.source}: not a joinedup backup ({MANIFEST} is missing)")
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except ValueError:
        raise BackupError(f"{where} is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise BackupError(f"{where} is not a JSON object")
    if manifest.get("format") not in READABLE_FORMATS:
        raise BackupError(f"{where}: unsupported backup format {manifest.get('format')!r}")
    required: dict[str, type[Any]] = {"alembic_revision": str, "tables": dict, "snapshots": list}
    if manifest["format"] in ENCODED_FORMATS:
        required |= {"catalogue_sha256": dict, "columns": dict}
    if manifest["format"] == FORMAT:
        required |= {"files": list}
    for key, kind in required.items():
        if not isinstance(manifest.get(key), kind):
            raise BackupError(f"{where}: {key!r} is missing or not a {kind.__name__}")
    for name, count in manifest["tables"].items():
        if not isinstance(count, int) or count < 0:
            raise BackupError(f"{where}: the row count of {name!r} is not a whole number")
    for n, entry in enumerate(manifest["snapshots"], start=1):
        ok = isinstance(entry, dict) and isinstance(entry.get("size"), int)
        sha = entry.get("sha256") if ok else None
        if not (isinstance(sha, str) and _SHA.match(sha)):
            raise BackupError(f"{where}: snapshot entry {n} has no valid sha256 and size")
        if entry.get("path") != f"snapshots/{sha[:2]}/{sha}.parquet":
            raise BackupError(f"{where}: snapshot {sha} is not stored under its own hash")
    for n, entry in enumerate(manifest.get("files", []), start=1):
        ok = isinstance(entry, dict) and isinstance(entry.get("size"), int)
        ok = ok and isinstance(entry.get("path"), str) and isinstance(entry.get("sha256"), str)
        if not ok or not _SHA.match(entry["sha256"]):
            raise BackupError(f"{where}: file entry {n} has no valid path, sha256 and size")
        path = _safe_member(entry["path"])
        if not path.parts or path.parts[0] in {"snapshots", "tmp", "uploads"}:
            raise BackupError(f"{where}: file entry {n} is not a file the catalogue names")
    return manifest


def _legacy_encodings(table: Table) -> dict[str, str]:
    """Format 1 wrote datetimes as ISO text and every other value as it came."""
    return {
        c.name: "utc-datetime" if isinstance(c.type, UTCDateTime) else "plain"
        for c in table.columns
    }


def _decode_table(
    archive: _Archive, manifest: dict[str, Any], table: Table
) -> list[dict[str, Any]]:
    name = f"catalogue/{table.name}.jsonl"
    data = archive.read(name)
    if manifest["format"] in ENCODED_FORMATS:
        if hashlib.sha256(data).hexdigest() != manifest["catalogue_sha256"].get(table.name):
            raise BackupError(f"{archive.source}: {name} does not match its hash in the manifest")
        encodings = manifest["columns"].get(table.name)
        if not isinstance(encodings, dict) or set(encodings.values()) - set(ENCODINGS):
            raise BackupError(f"{archive.source}: the manifest has no column encodings for {name}")
    else:
        encodings = _legacy_encodings(table)
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{archive.source}: {name} line {number}"
        try:
            raw = json.loads(line)
        except ValueError:
            raise BackupError(f"{where} is not valid JSON") from None
        if not isinstance(raw, dict) or set(raw) != set(encodings):
            raise BackupError(f"{where} does not have the columns of {table.name}")
        row = {}
        for column, kind in encodings.items():
            if kind == "json" and raw[column] is None:
                row[column] = _SQL_NULL_VALUE
            else:
                row[column] = _decode_value(kind, raw[column], f"{where}, column {column}")
        rows.append(row)
    expected = manifest["tables"].get(table.name)
    if len(rows) != expected:
        raise BackupError(
            f"{archive.source}: {name} holds {len(rows)} rows but the manifest says {expected}"
        )
    return rows


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: None if v is _SQL_NULL_VALUE else v for k, v in row.items()}


def _check_archive(
    archive: _Archive, *, hash_snapshots: bool
) -> tuple[ArchiveReport, dict[str, list[dict[str, Any]]]]:
    """Every check :func:`verify_archive` makes; also returns the decoded rows by table."""
    source = archive.source
    manifest = _read_manifest(archive)
    known = {table.name for table in _tables()}
    stored = {
        name.removeprefix("catalogue/").removesuffix(".jsonl")
        for name in archive.members
        if name.startswith("catalogue/")
    }
    for label, names in (
        ("not in this joinedup's catalogue", set(manifest["tables"]) - known),
        ("missing from the backup", known - set(manifest["tables"])),
        ("in the backup but not in its manifest", stored - set(manifest["tables"])),
    ):
        if names:
            raise BackupError(f"{source}: table(s) {', '.join(sorted(names))} {label}")
    rows = {table.name: _decode_table(archive, manifest, table) for table in _tables()}

    listed = {entry["sha256"] for entry in manifest["snapshots"]}
    catalogued = {row["sha256"] for row in rows[Snapshot.__tablename__]}
    if listed != catalogued:
        raise BackupError(
            f"{source}: the manifest lists {len(listed)} snapshot files but the catalogue "
            f"names {len(catalogued)} (differences: {len(listed ^ catalogued)})"
        )
    total = 0
    for entry in manifest["snapshots"]:
        digest = hashlib.sha256()
        size = archive.stream(entry["path"], digest.update if hash_snapshots else len)
        if size != entry["size"]:
            raise BackupError(f"{source}: snapshot {entry['sha256']} is corrupt (wrong size)")
        if hash_snapshots and digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{source}: snapshot {entry['sha256']} is corrupt in the backup")
        total += size

    if manifest["format"] == FORMAT:
        named = {_plain(row)["model_path"] for row in rows[LinkageRun.__tablename__]}
        archived = {entry["path"] for entry in manifest["files"]}
        if named - archived:
            raise BackupError(
                f"{source}: the catalogue names {len(named - archived)} file(s) the backup "
                f"does not hold, e.g. {sorted(named - archived)[0]}"
            )
    for entry in manifest.get("files", []):
        digest = hashlib.sha256()
        size = archive.stream(f"{FILES_PREFIX}{entry['path']}", digest.update)
        if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{source}: {entry['path']} is corrupt in the backup")
        total += size

    audit_columns = {c.name for c in AuditEvent.__table__.columns}
    walk = ChainWalk()
    for row in sorted(rows[AuditEvent.__tablename__], key=lambda r: int(r["id"])):
        walk.check(AuditEvent(**{k: v for k, v in _plain(row).items() if k in audit_columns}))
    if walk.problems:
        first = walk.problems[0]
        raise BackupError(
            f"{source}: the audit log in the backup is broken at event {first.event_id} "
            f"({first.problem}; {len(walk.problems)} problem(s))"
        )
    _check_checkpoints(archive, manifest, rows[AuditEvent.__tablename__])
    report = ArchiveReport(
        source,
        manifest["alembic_revision"],
        dict(manifest["tables"]),
        len(manifest["snapshots"]),
        total,
        walk.count,
        len(manifest.get("files", [])),
    )
    return report, rows


def _check_checkpoints(
    archive: _Archive, manifest: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    """Each audit checkpoint in the archive must record an event of the archive's own log with
    that event's hash: otherwise the log in the archive was truncated or rewritten. (Their
    signatures need the home's key: ``audit verify`` checks them on the restored home.)"""
    if not any(entry["path"] == CHECKPOINTS for entry in manifest.get("files", [])):
        return
    hashes = {int(row["id"]): row["hash"] for row in events}
    data = archive.read(f"{FILES_PREFIX}{CHECKPOINTS}").decode(errors="replace")
    for number, line in enumerate(data.splitlines(), start=1):
        head = checkpoint_head(line)
        if head is not None and hashes.get(head[0]) != head[1]:
            state = "holds with another hash" if head[0] in hashes else "lacks"
            raise BackupError(
                f"{archive.source}: audit checkpoint {number} signs event {head[0]}, which the "
                f"audit log in the backup {state}: the log was truncated or rewritten"
            )


def verify_archive(source: Path) -> ArchiveReport:
    """Check a backup without restoring it: the manifest, every snapshot's hash and size,
    each table's file hash and row count, that every row decodes, and the audit chain."""
    with _open_archive(source) as archive:
        report, _ = _check_archive(archive, hash_snapshots=True)
    return report


def _home_is_empty(settings: Settings) -> bool:
    if settings.snapshots_dir.exists() and any(settings.snapshots_dir.rglob("*.parquet")):
        return False
    with get_engine(settings).connect() as conn:
        for table in _tables():
            count = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if count:
                return False
    return True


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


def _insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert decoded rows, then set back to SQL NULL the JSON cells that held it (an insert
    of ``None`` into a JSON column writes JSON ``null``)."""
    if not rows:
        return
    conn.execute(table.insert(), [_plain(row) for row in rows])
    keys = list(table.primary_key.columns)
    for row in rows:
        for column, value in row.items():
            if value is _SQL_NULL_VALUE:
                where = [key == row[key.name] for key in keys]
                conn.execute(update(table).where(*where).values({column: null()}))


def _extract_snapshot(archive: _Archive, entry: dict[str, Any], settings: Settings) -> Path:
    final = settings.home / _safe_member(entry["path"])
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = settings.tmp_dir / f".restore-{entry['sha256']}.parquet"
    try:
        with tmp.open("wb") as out:
            archive.stream(entry["path"], out.write)
        if file_sha256(tmp) != entry["sha256"]:
            raise BackupError(f"snapshot {entry['sha256']} is corrupt in the backup")
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def _extract_file(archive: _Archive, entry: dict[str, Any], settings: Settings) -> Path:
    final = settings.home / _safe_member(entry["path"])
    if final.exists():
        raise BackupError(f"{final} already exists; restore needs an empty home")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = settings.tmp_dir / f".restore-{entry['sha256']}.file"
    try:
        with tmp.open("wb") as out:
            archive.stream(f"{FILES_PREFIX}{entry['path']}", out.write)
        if file_sha256(tmp) != entry["sha256"]:
            raise BackupError(f"{entry['path']} is corrupt in the backup")
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def restore(settings: Settings, source: Path) -> BackupSummary:
    """Restore a backup into an empty home, then migrate it to the current schema.

    The whole archive is checked first (as :func:`verify_archive` does) before the home is
    touched; if anything fails later, the files placed are removed, the rows roll back, and a
    home folder this restore created is removed again."""
    home_existed = settings.home.exists()
    with _open_archive(source) as archive:
        report, rows = _check_archive(archive, hash_snapshots=False)
        manifest = _read_manifest(archive)
        placed: list[Path] = []
        try:
            settings.home.mkdir(parents=True, exist_ok=True)
            settings.tmp_dir.mkdir(parents=True, exist_ok=True)
            migrate.upgrade(settings, report.revision)
            if not _home_is_empty(settings):
                raise BackupError(
                    f"{settings.home} already holds data; restore needs an empty home"
                )
            for entry in manifest["snapshots"]:
                placed.append(_extract_snapshot(archive, entry, settings))
            for entry in manifest.get("files", []):
                placed.append(_extract_file(archive, entry, settings))
            with get_engine(settings).begin() as conn:
                for table in _tables():
                    _insert_rows(conn, table, rows[table.name])
                _reset_sequences(conn)
        except BaseException:
            for path in placed:
                path.unlink(missing_ok=True)
            if not home_existed:
                dispose_engines()
                shutil.rmtree(settings.home, ignore_errors=True)
            raise
    dispose_engines()
    migrate.upgrade(settings)
    restored = any(entry["path"] == CHECKPOINTS for entry in manifest.get("files", []))
    return BackupSummary(
        source,
        report.tables,
        report.snapshots,
        report.bytes,
        report.files,
        unverified_checkpoints(settings) if restored else 0,
    )


def describe_database(settings: Settings) -> str:
    """The database URL without any password, for messages."""
    return make_url(normalise_url(settings.resolved_database_url)).render_as_string(
        hide_password=True
    )
