"""``/healthz``: is this process able to serve? Runs a list of named checks.

A check is a callable that returns (any value) when healthy and raises when not. The answer
says which checks failed and the exception's type, never its message (messages can carry
connection details); the full error goes to the log.

To add a check, append it in :func:`default_checks`; the app keeps the list on
``app.state.health_checks`` (tests may add failing checks there).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from joinedup import __version__
from joinedup.catalog.db import check_database
from joinedup.config import Settings
from joinedup.web.guards import OPEN

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthCheck:
    name: str
    check: Callable[[], Any]


class CheckResult(BaseModel):
    name: str
    status: Literal["ok", "error"]
    duration_ms: float
    error: str | None = None


class HealthReport(BaseModel):
    status: Literal["ok", "error"]
    version: str
    checks: list[CheckResult]


def run_checks(checks: Sequence[HealthCheck]) -> HealthReport:
    """Run every check (all of them, even after a failure) and summarise."""
    results: list[CheckResult] = []
    for item in checks:
        started = time.perf_counter()
        error: str | None = None
        try:
            item.check()
        except Exception as exc:  # reported as unhealthy, with the full error logged
            log.warning("health check %s failed", item.name, exc_info=True)
            error = type(exc).__name__
        results.append(
            CheckResult(
                name=item.name,
                status="error" if error else "ok",
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                error=error,
            )
        )
    status: Literal["ok", "error"] = "ok" if all(r.status == "ok" for r in results) else "error"
    return HealthReport(status=status, version=__version__, checks=results)


def _check_data_directory(settings: Settings) -> None:
    if not settings.home.is_dir():
        raise FileNotFoundError("the data directory does not exist; run `joinedup init`")


def default_checks(settings: Settings) -> list[HealthCheck]:
    """The checks ``/healthz`` runs for an app built with these settings."""
    return [
        HealthCheck("data_directory", lambda: _check_data_directory(settings)),
        HealthCheck("database", lambda: check_database(settings)),
    ]


router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthReport,
    summary="Health check",
    responses={503: {"model": HealthReport, "description": "A check failed"}},
    **OPEN.route(),
)
async def healthz(request: Request) -> JSONResponse:
    """``200`` with ``status: ok`` when every check passes, else ``503`` with ``status: error``."""
    report = await run_in_threadpool(run_checks, request.app.state.health_checks)
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ok" else 503)
