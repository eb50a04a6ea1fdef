import io
import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from joinedup.backup import MANIFEST, BackupError, backup, restore
from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Base, Dataset, DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.governance.audit import append_event, verify_chain
from joinedup.governance.audit_actions import AuditAction
from joinedup.jobs import run_inline
from joinedup.store import SnapshotStore
from tests.support import make_settings


def _populate(settings: Settings) -> None:
    store = SnapshotStore(settings)
    with session_scope(settings) as session, store.writer(session) as writer:
        org = Organisation(code="wandsworth", name="Wandsworth", gss_code="E09000032")
        session.add(org)
        session.flush()
        dataset = Dataset(organisation_id=org.id, name="census", standard="school_census")
        session.add(dataset)
        session.flush()
        for version in (1, 2):
            snap = writer.write_table(pa.table({"v": [version] * 10, "n": list(range(10))}))
            session.add(
                DatasetVersion(
                    dataset_id=dataset.id,
                    version=version,
                    snapshot_sha256=snap.sha256,
                    details={"rows": 10},
                )
            )
        append_event(
            session, actor="system", action=AuditAction.DATASET_VERSION_CREATE, target_id="census"
        )
        session.commit()
    run_inline(settings, "store.verify")


def _dump(settings: Settings) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    with session_scope(settings) as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table)).mappings().all()
            out[table.name] = sorted(
                (dict(r) for r in rows), key=lambda r: json.dumps(r, default=str)
            )
    return out


def _files(settings: Settings) -> dict[str, bytes]:
    return {
        str(p.relative_to(settings.home)): p.read_bytes()
        for p in settings.snapshots_dir.rglob("*.parquet")
    }


def test_restore_into_empty_home_reproduces_both_planes(
    db_settings: Settings, tmp_path: Path
) -> None:
    _populate(db_settings)
    archive = tmp_path / "backup.tar"
    summary = backup(db_settings, archive)
    assert summary.snapshots == 2
    assert summary.tables["dataset_version"] == 2
    before, files = _dump(db_settings), _files(db_settings)

    target = make_settings(tmp_path / "restored")
    restore(target, archive)
    assert _dump(target) == before
    assert _files(target) == files
    with session_scope(target) as session:
        assert verify_chain(session) == []
        session.add(Organisation(code="new", name="New org"))  # sequences still work
    dispose_engines()


def test_restore_refuses_a_home_with_data(home_settings: Settings, tmp_path: Path) -> None:
    _populate(home_settings)
    archive = tmp_path / "b.tar"
    backup(home_settings, archive)
    before = _dump(home_settings)
    with pytest.raises(BackupError, match="already holds data"):
        restore(home_settings, archive)
    assert _dump(home_settings) == before


def _rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    with tarfile.open(archive) as src, tarfile.open(target, "w") as dst:
        for member in src.getmembers():
            data = change.get(member.name)
            handle = src.extractfile(member)
            assert handle is not None
            payload = data if data is not None else handle.read()
            info = tarfile.TarInfo(member.name)
            info.size = len(payload)
            dst.addfile(info, io.BytesIO(payload))


def test_corrupt_snapshot_in_backup_is_rejected_and_nothing_is_left(
    home_settings: Settings, tmp_path: Path
) -> None:
    _populate(home_settings)
    archive = tmp_path / "b.tar"
    backup(home_settings, archive)
    with tarfile.open(archive) as tar:
        victim = next(m.name for m in tar.getmembers() if m.name.endswith(".parquet"))
    bad = tmp_path / "bad.tar"
    _rewrite(archive, bad, {victim: b"not parquet"})
    target = make_settings(tmp_path / "restored")
    with pytest.raises(BackupError, match="corrupt"):
        restore(target, bad)
    assert not target.home.exists()


def test_hostile_and_foreign_archives_are_rejected(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        manifest = json.dumps(
            {
                "format": "joinedup-backup/1",
                "alembic_revision": "0001",
                "tables": {},
                "snapshots": [],
            }
        ).encode()
        for name, data in ((MANIFEST, manifest), ("../../escape.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = make_settings(tmp_path / "restored")
    with pytest.raises(BackupError, match="unsafe path"):
        restore(target, evil)
    assert not (tmp_path / "escape.txt").exists()

    assert not target.home.exists()

    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x00\x01 definitely not a tar file" * 100)
    with pytest.raises(BackupError, match=r"not a readable backup archive|not a joinedup backup"):
        restore(target, garbage)
    with pytest.raises(BackupError, match="no such backup file"):
        restore(target, tmp_path / "missing.tar")


def test_backup_of_uninitialised_home_is_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "never-initialised")
    with pytest.raises(BackupError, match="joinedup init"):
        backup(settings, tmp_path / "b.tar")
    assert not (tmp_path / "b.tar").exists()


def test_format_1_archives_from_earlier_releases_still_restore(
    home_settings: Settings, tmp_path: Path
) -> None:
    """Format 1 wrote datetimes as ISO text and JSON columns as plain JSON values."""
    _populate(home_settings)
    archive = tmp_path / "b.tar"
    backup(home_settings, archive)
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(MANIFEST)
        assert handle is not None
        manifest = json.load(handle)
    change: dict[str, bytes] = {}
    with tarfile.open(archive) as tar:
        for table, columns in manifest["columns"].items():
            handle = tar.extractfile(f"catalogue/{table}.jsonl")
            assert handle is not None
            rows = [json.loads(line) for line in handle if line.strip()]
            for row in rows:
                for column, kind in columns.items():
                    if kind == "json" and row[column] is not None:
                        row[column] = json.loads(row[column])
            lines = [json.dumps(row, sort_keys=True) for row in rows]
            change[f"catalogue/{table}.jsonl"] = ("\n".join(lines) + "\n" * bool(lines)).encode()
    manifest["format"] = "joinedup-backup/1"
    del manifest["columns"], manifest["catalogue_sha256"]
    change[MANIFEST] = json.dumps(manifest).encode()
    old = tmp_path / "old.tar"
    _rewrite(archive, old, change)
    target = make_settings(tmp_path / "restored")
    restore(target, old)
    assert _dump(target) == _dump(home_settings)
    dispose_engines()


def test_a_sqlite_backup_restores_onto_postgresql(
    home_settings: Settings, postgres_url: str, tmp_path: Path
) -> None:
    _populate(home_settings)
    archive = tmp_path / "b.tar"
    backup(home_settings, archive)
    target = make_settings(tmp_path / "on-postgres", postgres_url)
    restore(target, archive)
    assert _dump(target) == _dump(home_settings)
    with session_scope(target) as session:
        assert verify_chain(session) == []
        session.add(Organisation(code="new", name="New org"))  # sequences were reset
