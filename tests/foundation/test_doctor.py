"""`joinedup doctor` on a real home: what it finds and the fixes it prints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Snapshot
from joinedup.cli import app
from joinedup.config import Settings
from joinedup.doctor import diagnose
from joinedup.home import ensure_secret_key
from joinedup.store import SnapshotStore


def by_name(settings: Settings) -> dict[str, tuple[bool, str]]:
    return {c.name: (c.ok, c.fix) for c in diagnose(settings)}


def test_a_sound_home_passes_every_required_check(home_settings: Settings) -> None:
    checks = diagnose(home_settings)
    assert [c.name for c in checks if c.required and not c.ok] == []
    assert {"Home and database", "Snapshots", "Free disk", "Secret key", "Web assets"} <= {
        c.name for c in checks
    }


def test_doctor_names_a_loose_secret_key_and_a_lost_snapshot(home_settings: Settings) -> None:
    home_settings = replace(home_settings, secret_key="")  # the key kept in the home
    ensure_secret_key(home_settings)
    assert by_name(home_settings)["Secret key"] == (True, "")
    key = home_settings.secret_key_file
    key.chmod(0o644)
    sha = "ab" * 32
    with session_scope(home_settings) as session:
        session.add(
            Snapshot(
                sha256=sha,
                path=SnapshotStore(home_settings).relative_path(sha),
                row_count=1,
                size_bytes=10,
                schema_json=[],
            )
        )
    found = by_name(home_settings)
    assert found["Secret key"] == (False, f"run `chmod 600 {key}`")
    assert found["Snapshots"][0] is False and "store verify" in found["Snapshots"][1]


def test_the_doctor_command_on_a_missing_home(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    result = CliRunner().invoke(app, ["doctor"], env={"JOINEDUP_HOME": str(home)})
    dispose_engines()
    assert result.exit_code == 1
    assert "joinedup init" in result.output and "Traceback" not in result.output
    assert "Error: 1 check(s) need fixing: Home and database" in result.output
    assert not home.exists()
