"""`joinedup demo --no-serve` end to end on a small region (marked slow; runs in CI)."""

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Agreement, Dataset, DatasetVersion, User
from joinedup.cli import app
from joinedup.config import load_settings
from joinedup.demo import MARKER
from joinedup.governance.audit import verify_chain

runner = CliRunner()


@pytest.mark.slow
def test_demo_builds_ingests_governs_and_rebuilds(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {"JOINEDUP_HOME": str(home)}
    # 600 residents: every stage runs and every check below holds; the command, not the size,
    # is what is tested (1,500 cost a third more CPU for the same checks)
    args = ["demo", "--no-serve", "--residents", "600", "--months", "4"]
    result = runner.invoke(app, args, env=env)
    dispose_engines()
    assert result.exit_code == 0, result.output
    assert "Ingested datasets" in result.output
    assert "FSM eligible but not registered" in result.output  # the insight stage ran
    assert "hub.dpo / " in result.output
    assert (home / MARKER).is_file()
    logins = home / "demo-logins.json"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert len(json.loads(logins.read_text())) == 17

    settings = load_settings(env)
    with session_scope(settings) as session:
        names = set(session.scalars(select(Dataset.name)))
        assert {
            "school-census",
            "council-tax-accounts",
            "benefit-claims",
            "spend-over-500",
        } <= names
        versions = session.scalar(select(func.count()).select_from(DatasetVersion)) or 0
        assert versions > 20
        statuses = dict(session.execute(select(Agreement.reference, Agreement.status)).all())
        assert statuses == {
            "DSA-FSM-2026": "active",
            "DSA-HUB-2026": "active",
            "DSA-EARLYHELP-2026": "active",
        }
        assert session.scalar(select(func.count()).select_from(User)) == 17
        assert verify_chain(session) == []
    dispose_engines()

    # a second demo replaces the first (smaller: the replacement, not the size, is tested)
    smaller = ["demo", "--no-serve", "--residents", "200", "--months", "4"]
    again = runner.invoke(app, smaller, env=env)
    dispose_engines()
    assert again.exit_code == 0, again.output
    with session_scope(load_settings(env)) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 17
        assert (session.scalar(select(func.count()).select_from(DatasetVersion)) or 0) > 0
        assert verify_chain(session) == []
    dispose_engines()


def test_demo_timeline_ends_before_today_and_holds_the_intervention() -> None:
    from datetime import date

    from joinedup.demo import DemoOptions, timeline

    assert timeline(DemoOptions(months=24), date(2026, 11, 23)) == {
        "start_month": "2024-11",
        "intervention_month": "2026-01",
    }
    assert timeline(DemoOptions(months=12), date(2027, 1, 5)) == {
        "start_month": "2026-01",
        "intervention_month": "2026-08",
    }


def test_demo_settings_keep_the_configured_database(tmp_path: Path) -> None:
    from joinedup.demo import demo_settings

    base = load_settings({"JOINEDUP_DATABASE_URL": "postgresql://u@db/hub"})
    chosen = demo_settings(base, {"JOINEDUP_HOME": str(tmp_path / "d")})
    assert chosen.database_url == "postgresql://u@db/hub" and chosen.home == tmp_path / "d"
    assert demo_settings(load_settings({}), {}).resolved_database_url.startswith("sqlite")


def test_demo_refuses_a_configured_database_that_is_not_empty(
    postgres_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE someone_elses (id integer)"))
    engine.dispose()
    home = tmp_path / "demo"
    env = {"JOINEDUP_HOME": str(home), "JOINEDUP_DATABASE_URL": postgres_url}
    result = runner.invoke(app, ["demo", "--no-serve", "--residents", "300"], env=env)
    dispose_engines()
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "already holds 1 table(s)" in errors[0]
    assert "JOINEDUP_DATABASE_URL" in errors[0] and "Traceback" not in result.output
    assert not home.exists(), "the refused demo touched its home"


@pytest.mark.slow
def test_demo_builds_on_the_configured_postgresql(postgres_url: str, tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {"JOINEDUP_HOME": str(home), "JOINEDUP_DATABASE_URL": postgres_url}
    args = ["demo", "--no-serve", "--residents", "200", "--months", "4"]
    result = runner.invoke(app, args, env=env)
    dispose_engines()
    assert result.exit_code == 0, result.output
    assert "postgresql" in result.output
    assert not (home / "joinedup.db").exists(), "the demo built on SQLite after all"
    settings = load_settings(env)
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 17
        assert (session.scalar(select(func.count()).select_from(DatasetVersion)) or 0) > 20
        assert verify_chain(session) == []
    dispose_engines()
