"""`insight check` and `publish check` (clikit.check_files): a good file is ✓ with what it
holds, a bad one ✗ naming the file, and any bad file exits 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines
from joinedup.cli import app

RULES = Path(__file__).resolve().parents[2] / "src" / "joinedup" / "insight" / "rules"
PUBLICATIONS = Path(__file__).resolve().parents[2] / "src" / "joinedup" / "publish" / "publications"
runner = CliRunner()


def test_checks_name_each_file_and_fail_on_any_bad_one(tmp_path: Path) -> None:
    env = {"JOINEDUP_HOME": str(tmp_path / "home")}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    for command, shipped in (("insight", RULES), ("publish", PUBLICATIONS)):
        good = sorted(shipped.glob("*.yaml"))[0]
        ok = runner.invoke(app, [command, "check", str(good)], env=env)
        assert ok.exit_code == 0, ok.output
        assert ok.output.startswith(f"✓ {good.name}: ")
        mixed = runner.invoke(app, [command, "check", str(good), str(bad)], env=env)
        assert mixed.exit_code == 1, mixed.output
        assert f"✓ {good.name}: " in mixed.output
        assert "✗" in mixed.output and "bad.yaml" in mixed.output
        assert "Traceback" not in mixed.output
    dispose_engines()
