"""/healthz and the health checks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from joinedup import __version__
from joinedup.config import Settings
from joinedup.web.health import HealthCheck, run_checks

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def test_healthz_ok_on_each_database(client_for: Any, db_settings: Settings) -> None:
    response = client_for(db_settings).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert {c["name"]: c["status"] for c in body["checks"]} == {
        "data_directory": "ok",
        "database": "ok",
    }


def test_healthz_reports_a_failing_check_without_its_message(client: TestClient) -> None:
    def broken() -> None:
        raise ConnectionError("password=hunter2 at db.internal")

    client.app.state.health_checks.append(HealthCheck("broken", broken))  # type: ignore[attr-defined]
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    failing = [c for c in body["checks"] if c["status"] == "error"]
    assert failing == [
        {
            "name": "broken",
            "status": "error",
            "duration_ms": failing[0]["duration_ms"],
            "error": "ConnectionError",
        }
    ]
    assert "hunter2" not in response.text


def test_healthz_fails_before_init(client_for: Any, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "not-yet", secret_key="x")
    response = client_for(settings).get("/healthz")
    assert response.status_code == 503
    errors = {c["name"] for c in response.json()["checks"] if c["status"] == "error"}
    assert errors == {"data_directory", "database"}
    assert not (tmp_path / "not-yet").exists()


def test_run_checks_runs_every_check_after_a_failure() -> None:
    ran: list[str] = []

    def fails() -> None:
        ran.append("fails")
        raise RuntimeError

    report = run_checks([HealthCheck("a", fails), HealthCheck("b", lambda: ran.append("b"))])
    assert ran == ["fails", "b"]
    assert report.status == "error"
    assert [c.status for c in report.checks] == ["error", "ok"]
