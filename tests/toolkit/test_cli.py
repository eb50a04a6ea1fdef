"""The toolkit's commands: ``joinedup ethics``, ``joinedup transparency`` (the register and the
map) on the small governed region, with clear one-line errors."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from joinedup.catalog.db import session_scope
from joinedup.cli import app
from joinedup.governance.ethics import QUESTION_KEYS
from joinedup.governance.purposes import PurposeSpec, register_purpose
from tests.governance.conftest import Region

runner = CliRunner()


@pytest.fixture
def env(active_fsm_agreement: Region) -> dict[str, str]:
    settings = active_fsm_agreement.settings
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        pytest.skip("the commands run on the home's own SQLite database here")
    with session_scope(settings) as session:
        register_purpose(session, PurposeSpec("housing", "Housing allocation", "Homes."))
    return {"JOINEDUP_HOME": str(settings.home)}


def _draft(env: dict[str, str], answers: Path) -> Any:
    review = (date.today() + timedelta(days=90)).isoformat()
    command = ["ethics", "draft", "purpose", "housing", "--answers", str(answers)]
    return runner.invoke(app, [*command, "--review-date", review, "--as", "lam-owner"], env=env)


def test_ethics_draft_sign_off_and_list(env: dict[str, str], tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({k: f"About {k}." for k in QUESTION_KEYS}))
    drafted = _draft(env, answers)
    assert drafted.exit_code == 0, drafted.output
    assert "Drafted version 1 for purpose housing" in drafted.output
    refused = runner.invoke(
        app,
        ["ethics", "sign-off", "purpose", "housing", "--version", "1", "--as", "lam-owner"],
        env=env,
    )
    assert refused.exit_code == 1 and "Error: only a DPO signs off" in refused.output
    signed = runner.invoke(
        app,
        ["ethics", "sign-off", "purpose", "housing", "--version", "1", "--as", "hub-dpo"],
        env=env,
    )
    assert signed.exit_code == 0, signed.output
    listed = runner.invoke(app, ["ethics", "list"], env=env)
    assert listed.exit_code == 0 and "housing" in listed.output
    shown = runner.invoke(app, ["ethics", "show", "purpose", "housing", "--as", "hub-dpo"], env=env)
    assert json.loads(shown.output)["in_force_version"] == 1
    answers.write_text("[1, 2]")
    bad = _draft(env, answers)
    assert bad.exit_code == 1 and "expected a JSON object" in bad.output


def test_transparency_register_and_map(env: dict[str, str], tmp_path: Path) -> None:
    as_csv = runner.invoke(app, ["transparency", "register"], env=env)
    assert as_csv.exit_code == 0 and as_csv.output.startswith("reference,")
    assert "DSA-FSM-1" in as_csv.output
    dcat = runner.invoke(app, ["transparency", "register", "--format", "dcat"], env=env)
    assert json.loads(dcat.output)["@type"] == "dcat:Catalog"
    svg = tmp_path / "map.svg"
    drawn = runner.invoke(
        app, ["transparency", "map", "--format", "svg", "--out", str(svg)], env=env
    )
    assert drawn.exit_code == 0, drawn.output
    assert svg.read_text().startswith("<svg")
    wrong = runner.invoke(app, ["transparency", "map", "--format", "png"], env=env)
    assert wrong.exit_code == 1 and "--format must be json or svg" in wrong.output
