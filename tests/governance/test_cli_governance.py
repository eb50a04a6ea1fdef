import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines
from joinedup.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"JOINEDUP_HOME": str(tmp_path / "home")}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    yield env
    dispose_engines()


def test_org_user_token_and_audit_verify(env: dict[str, str], tmp_path: Path) -> None:
    ok = runner.invoke(
        app, ["org", "add", "lambeth", "--name", "Lambeth", "--gss-code", "E09000022"], env=env
    )
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["org", "add", "x", "--name", "X", "--gss-code", "nope"], env=env)
    assert bad.exit_code == 1 and "not an ONS GSS code" in bad.output
    assert runner.invoke(app, ["purpose", "seed"], env=env).exit_code == 0
    assert "fsm" in runner.invoke(app, ["purpose", "list"], env=env).output
    user = runner.invoke(
        app,
        ["user", "add", "ana", "--org", "lambeth", "--role", "caseworker", "--password-stdin"],
        env=env,
        input="a long enough password\n",
    )
    assert user.exit_code == 0, user.output
    assert "a long enough password" not in user.output
    weak = runner.invoke(
        app,
        ["user", "add", "bob", "--org", "lambeth", "--role", "analyst", "--password-stdin"],
        env=env,
        input="short\n",
    )
    assert weak.exit_code == 1 and "at least 12" in weak.output
    token = runner.invoke(
        app, ["token", "create", "ana", "--name", "t", "--scope", "read"], env=env
    )
    assert token.exit_code == 0 and "jdu_" in token.output
    intact = runner.invoke(app, ["audit", "verify"], env=env)
    assert intact.exit_code == 0 and "intact" in intact.output

    db = Path(env["JOINEDUP_HOME"]) / "joinedup.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_event SET target_id = 'someone-else' WHERE id = 2")
    tampered = runner.invoke(app, ["audit", "verify"], env=env)
    assert tampered.exit_code == 1
    assert "Audit event 2: contents were changed after writing" in tampered.output


def test_token_create_help_names_every_scope() -> None:
    from joinedup.governance.tokens import SCOPES

    shown = runner.invoke(app, ["token", "create", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    for scope in SCOPES:  # casework was missing
        assert scope in shown.output, scope
