"""Backups carry the audit log's signed checkpoints (``<home>/audit/checkpoints.jsonl``), and
restore puts them back, so ``audit verify`` on a restored home checks the anchors: a truncation
of the restored log is caught, and so is an archive whose log was cut short."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from joinedup.backup import MANIFEST, BackupError, backup, restore, verify_archive
from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.config import Settings
from joinedup.governance.audit_anchor import (
    CHECKPOINTS,
    TRUNCATION,
    checkpoints_file,
    verify_anchor,
    write_checkpoint,
)
from tests.foundation.test_backup import _populate, _rewrite
from tests.foundation.test_upgrade import invoke
from tests.support import make_settings

AUDIT = "catalogue/audit_event.jsonl"


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(name)
        assert handle is not None
        return handle.read()


def _last_event(settings: Settings) -> int:
    with session_scope(settings) as session:
        return int(session.scalar(select(func.max(AuditEvent.id))) or 0)


@pytest.fixture
def archive(home_settings: Settings, tmp_path: Path) -> Path:
    _populate(home_settings)
    last = _last_event(home_settings)
    # a checkpoint of an event committed after the catalogue was read: left out of the backup
    write_checkpoint(home_settings, last + 1, "f" * 64)
    target = tmp_path / "b.tar"
    backup(home_settings, target)
    return target


def test_checkpoints_come_back_and_anchor_the_restored_log(
    home_settings: Settings, archive: Path, tmp_path: Path
) -> None:
    last = _last_event(home_settings)
    manifest = json.loads(_member(archive, MANIFEST))
    entry = next(e for e in manifest["files"] if e["path"] == CHECKPOINTS)
    held = _member(archive, f"files/{CHECKPOINTS}")
    assert entry["sha256"] == hashlib.sha256(held).hexdigest()
    heads = [json.loads(line)["event_id"] for line in held.splitlines()]
    assert heads and max(heads) == last  # the later checkpoint was left out
    assert verify_archive(archive).audit_events == last

    target = make_settings(tmp_path / "restored")  # the same secret key as the source home
    assert restore(target, archive).unverified_checkpoints == 0
    assert checkpoints_file(target).read_bytes() == held
    with session_scope(target) as session:
        report = verify_anchor(target, session)
    assert report.problems == [] and report.anchored_to == last
    code, output = invoke(target, "audit", "verify")
    assert code == 0, output

    with session_scope(target) as session:  # the anchors are checked on the restored home
        session.execute(delete(AuditEvent).where(AuditEvent.id == last))
    with session_scope(target) as session:
        report = verify_anchor(target, session)
    assert [p.guarantee for p in report.problems] == [TRUNCATION]
    code, output = invoke(target, "audit", "verify")
    assert code != 0 and "truncation" in output
    dispose_engines()


def test_restore_under_another_key_says_the_checkpoints_do_not_verify(
    archive: Path, tmp_path: Path
) -> None:
    target = Settings(home=tmp_path / "other", database_url="", secret_key="another-key")
    summary = restore(target, archive)
    assert summary.unverified_checkpoints == len(
        _member(archive, f"files/{CHECKPOINTS}").splitlines()
    )
    dispose_engines()


def test_an_archive_whose_log_was_cut_short_is_refused(archive: Path, tmp_path: Path) -> None:
    """Dropping the last audit event (and fixing the manifest) leaves a sound chain: only the
    checkpoints show the cut."""
    manifest = json.loads(_member(archive, MANIFEST))
    lines = _member(archive, AUDIT).decode().splitlines(keepends=True)
    cut = "".join(sorted(lines, key=lambda line: json.loads(line)["id"])[:-1]).encode()
    manifest["tables"]["audit_event"] -= 1
    manifest["catalogue_sha256"]["audit_event"] = hashlib.sha256(cut).hexdigest()
    short = tmp_path / "short.tar"
    _rewrite(archive, short, {AUDIT: cut, MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match=r"audit checkpoint .* lacks: the log was truncated"):
        verify_archive(short)
    target = make_settings(tmp_path / "restored")
    with pytest.raises(BackupError, match="truncated or rewritten"):
        restore(target, short)
    assert not target.home.exists()
