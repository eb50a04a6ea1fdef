"""``joinedup demo``: build a fresh synthetic region and run every pipeline stage over it.

The demo home is ``JOINEDUP_HOME`` when set, otherwise ``./joinedup-demo``. A home the demo
created carries a marker file and is rebuilt from scratch on every run; the demo refuses to
touch a home that holds anything else. The demo always uses SQLite inside its home.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.jobs.registry import ProgressListener
from joinedup.stages import DemoStep, demo_steps

MARKER = ".joinedup-demo"
DEFAULT_HOME = Path("joinedup-demo")


class DemoHomeError(JoinedupError):
    """The chosen home holds data the demo did not create."""


@dataclass(frozen=True)
class DemoOptions:
    residents: int = 50_000
    seed: int = 2026
    months: int = 24
    profile: str = "default"  # synthetic scenario profile (joinedup.synth.profiles)


def source_dir(settings: Settings) -> Path:
    """Where the demo writes the synthetic region's source files (inside the demo home)."""
    return settings.home / "demo-region"


def _month(year: int, month: int, offset: int) -> str:
    index = year * 12 + (month - 1) + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def timeline(options: DemoOptions, today: date | None = None) -> dict[str, str]:
    """The demo's months end with the last complete month, so no export is dated in the
    future; the intervention starts about 58% of the way through (January 2026 for a
    24-month window ending October 2026)."""
    today = today or date.today()
    start = _month(today.year, today.month, -options.months)
    year, month = (int(x) for x in start.split("-"))
    return {
        "start_month": start,
        "intervention_month": _month(year, month, round(options.months * 0.58)),
    }


@dataclass
class DemoResult:
    home: Path
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(stage["status"] == "succeeded" for stage in self.stages)


def demo_settings(base: Settings, env: dict[str, str] | None = None) -> Settings:
    """Settings for the demo home: JOINEDUP_HOME if set, else ./joinedup-demo. The database is
    the configured one (``JOINEDUP_DATABASE_URL``), else SQLite inside the demo home."""
    env = dict(os.environ if env is None else env)
    home = Path(env["JOINEDUP_HOME"]) if env.get("JOINEDUP_HOME") else DEFAULT_HOME
    return replace(base, home=home)


def check_demo_database(settings: Settings) -> None:
    """Refuse a configured database (``JOINEDUP_DATABASE_URL``) that already holds tables: the
    demo builds its region into an empty database and never drops one it did not create. The
    demo's own SQLite file goes with the demo home, which :func:`prepare_home` rebuilds."""
    if not settings.database_url:
        return
    from sqlalchemy.exc import SQLAlchemyError

    from joinedup.home import database_label, database_tables

    label = database_label(settings)
    try:
        tables = database_tables(settings)
    except SQLAlchemyError:
        raise DemoHomeError(
            f"cannot reach the database {label} (JOINEDUP_DATABASE_URL): check the URL and "
            "that the server is running"
        ) from None
    if tables:
        raise DemoHomeError(
            f"the database {label} (JOINEDUP_DATABASE_URL) already holds {len(tables)} "
            "table(s); the demo needs an empty database: create one (or a new schema), or "
            "unset JOINEDUP_DATABASE_URL to build the demo on SQLite in its home"
        )


def prepare_home(settings: Settings) -> None:
    """Empty a demo-created home (or create a new one); refuse any other non-empty folder."""
    home = settings.home
    if home.exists():
        if not home.is_dir():
            raise DemoHomeError(f"{home} exists and is not a folder")
        if any(home.iterdir()):
            if not (home / MARKER).is_file():
                raise DemoHomeError(
                    f"{home} already holds files that the demo did not create; "
                    "choose an empty folder with JOINEDUP_HOME or remove it yourself"
                )
            shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("This home was created by `joinedup demo` and is rebuilt by it.\n")


def _stage_params(stage: DemoStep, settings: Settings, options: DemoOptions) -> dict[str, Any]:
    return stage.params(settings, options)


def run_demo(
    settings: Settings,
    options: DemoOptions,
    progress_for: Callable[[str], AbstractContextManager[ProgressListener | None]] | None = None,
    params_for: Callable[[DemoStep, Settings, DemoOptions], dict[str, Any]] | None = None,
    last: str | None = None,
) -> DemoResult:
    """Rebuild the demo home and run every stage as a job; stop at the first failure.
    ``params_for`` may change a stage's parameters and ``last`` (a job kind) end the run
    after that stage (tests build variants of the region)."""
    # imported here, not at the top: every stage's record imports this module, so the
    # command line would load the catalogue and the job runner for every command
    from joinedup.home import init_home
    from joinedup.jobs.registry import known_kinds
    from joinedup.jobs.runner import run_inline

    steps = demo_steps()
    if last is not None and last not in {stage.kind for stage in steps}:
        raise ValueError(f"no demo stage runs job kind {last!r}")
    check_demo_database(settings)
    prepare_home(settings)
    init_home(settings)
    result = DemoResult(home=settings.home)
    kinds = set(known_kinds())
    for stage in steps:
        if stage.kind not in kinds:
            raise RuntimeError(f"demo stage {stage.name!r} needs unknown job kind {stage.kind!r}")
        progress = progress_for(stage.name) if progress_for else nullcontext(None)
        with progress as listener:
            params = (params_for or _stage_params)(stage, settings, options)
            row = run_inline(settings, stage.kind, params, listener)
        result.stages.append(
            {
                "stage": stage.name,
                "kind": stage.kind,
                "job": row.id,
                "status": row.status,
                "result": row.result,
                "error": row.error,
            }
        )
        if row.status != "succeeded" or stage.kind == last:
            break
    return result


def demo_logins(settings: Settings) -> list[dict[str, str]]:
    """The synthetic demo accounts written by the governance stage, if it has run."""
    from joinedup.governance.demo import LOGINS_FILE

    path = settings.home / LOGINS_FILE
    if not path.is_file():
        return []
    logins: list[dict[str, str]] = json.loads(path.read_text())
    return logins
