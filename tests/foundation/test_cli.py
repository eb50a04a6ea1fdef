import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines
from joinedup.cli import app

runner = CliRunner()


def _all_commands() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: object, prefix: list[str]) -> None:
        subcommands = getattr(cmd, "commands", {})
        for name, sub in subcommands.items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def test_help_lists_every_command_with_help_text() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "serve", "demo", "backup", "restore", "jobs", "worker", "store"):
        assert name in result.output
    root = get_command(app)
    for path in _all_commands():
        sub = runner.invoke(app, [*path, "--help"])
        assert sub.exit_code == 0, path
        lines = [line for line in sub.output.splitlines() if line.strip()]
        assert len(lines) >= 3, f"{path} has no help text"
        cmd = root
        for part in path:
            cmd = cmd.commands[part]  # type: ignore[attr-defined]
        assert (cmd.help or "").strip(), f"{' '.join(path)} needs a docstring"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    yield {"JOINEDUP_HOME": str(tmp_path / "home")}
    dispose_engines()


def test_init_twice_backup_and_restore(env: dict[str, str], tmp_path: Path) -> None:
    first = runner.invoke(app, ["init"], env=env)
    second = runner.invoke(app, ["init"], env=env)
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "Database at revision" in second.output
    archive = tmp_path / "b.tar"
    result = runner.invoke(app, ["backup", str(archive)], env=env)
    assert result.exit_code == 0, result.output
    assert archive.exists()
    empty = {"JOINEDUP_HOME": str(tmp_path / "restored")}
    result = runner.invoke(app, ["restore", str(archive)], env=empty)
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    again = runner.invoke(app, ["restore", str(tmp_path / "nope.tar")], env=empty)
    assert again.exit_code == 1
    assert "no such backup file" in again.output


def test_jobs_run_list_and_show(env: dict[str, str]) -> None:
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    result = runner.invoke(app, ["store", "verify"], env=env)
    assert result.exit_code == 0, result.output
    assert "All 0 snapshots are intact" in result.output
    listing = runner.invoke(app, ["jobs", "list"], env=env)
    assert "store.verify" in listing.output and "succeeded" in listing.output
    bad = runner.invoke(app, ["jobs", "run", "no.such.kind"], env=env)
    assert bad.exit_code == 1 and "unknown job kind" in bad.output
    bad_params = runner.invoke(app, ["jobs", "run", "store.verify", "--params", "{"], env=env)
    assert bad_params.exit_code == 1 and "not valid JSON" in bad_params.output
    ran = runner.invoke(app, ["jobs", "run", "store.verify"], env=env)
    assert ran.exit_code == 0
    assert json.loads(ran.stdout[ran.stdout.index("{") :])["checked"] == 0
    missing = runner.invoke(app, ["jobs", "show", "does-not-exist"], env=env)
    assert missing.exit_code == 1 and "no job with id" in missing.output


def test_demo_refuses_a_home_it_did_not_create(tmp_path: Path) -> None:
    home = tmp_path / "precious"
    home.mkdir()
    (home / "important.csv").write_text("keep me")
    result = runner.invoke(
        app, ["demo", "--no-serve", "--residents", "100"], env={"JOINEDUP_HOME": str(home)}
    )
    assert result.exit_code == 1
    assert "did not create" in result.output
    assert (home / "important.csv").read_text() == "keep me"
