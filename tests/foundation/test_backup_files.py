"""Backups hold the files of the home that the catalogue names outside the snapshots (the
linkage models, format 3): checked by ``backup verify`` and before restore, and placed back by
restore. Uses the upgrade fixture, a small home with a linkage run and its model."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from joinedup.backup import FORMAT, MANIFEST, BackupError, backup, restore, verify_archive
from joinedup.catalog.db import dispose_engines
from joinedup.home import init_home
from joinedup.store.hashing import file_sha256
from tests.foundation.test_backup import _rewrite
from tests.foundation.test_upgrade import invoke, unpack
from tests.support import make_settings

MODEL = "linkage/models/1.json"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("files")
    settings = unpack(tmp / "home")
    init_home(settings)
    target = tmp / "hub.tar"
    backup(settings, target)
    dispose_engines()
    return target


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(MANIFEST)
        assert handle is not None
        return json.load(handle)


def test_the_model_is_in_the_archive_and_comes_back(archive: Path, tmp_path: Path) -> None:
    manifest = _manifest(archive)
    assert manifest["format"] == FORMAT
    assert [entry["path"] for entry in manifest["files"]] == [MODEL]
    assert verify_archive(archive).files == 1
    target = make_settings(tmp_path / "restored")
    summary = restore(target, archive)
    dispose_engines()
    assert summary.files == 1
    assert file_sha256(target.home / MODEL) == manifest["files"][0]["sha256"]
    code, output = invoke(target, "backup", "verify", str(archive))
    assert code == 0 and "1 other files" in " ".join(output.split())  # however the console wraps


def test_a_damaged_or_missing_model_is_refused(archive: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.tar"
    _rewrite(archive, damaged, {f"files/{MODEL}": b'{"format": "edited"}'})
    with pytest.raises(BackupError, match=f"{MODEL} is corrupt"):
        verify_archive(damaged)

    manifest = _manifest(archive)
    manifest["files"] = []
    missing = tmp_path / "missing.tar"
    _rewrite(archive, missing, {MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match="names 1 file"):
        verify_archive(missing)
    target = make_settings(tmp_path / "not-restored")
    with pytest.raises(BackupError):
        restore(target, missing)
    assert not target.home.exists()

    manifest["files"] = [{"path": "../escape.json", "sha256": "0" * 64, "size": 1}]
    hostile = tmp_path / "hostile.tar"
    _rewrite(archive, hostile, {MANIFEST: json.dumps(manifest).encode()})
    with pytest.raises(BackupError, match="unsafe path"):
        verify_archive(hostile)


def test_format_2_archives_restore_without_the_model(archive: Path, tmp_path: Path) -> None:
    manifest = _manifest(archive)
    manifest["format"] = "joinedup-backup/2"
    del manifest["files"]
    old = tmp_path / "format2.tar"
    _rewrite(archive, old, {MANIFEST: json.dumps(manifest).encode()})
    target = make_settings(tmp_path / "restored")
    assert restore(target, old).files == 0
    dispose_engines()
    assert not (target.home / MODEL).exists()
