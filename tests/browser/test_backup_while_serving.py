"""The backup drill on the demo home, as an IT team would run it (issue 20): back the home up
while the app serves it (uvicorn on 127.0.0.1, a caseworker, an analyst and the public
requesting pages throughout, which also appends audit events), check the archive, restore it
into an empty home, and check the restored home: every table's rows, ``audit verify``,
``store verify``, and the same worklist, resident and open-data answers over HTTP, with a
Chromium check of the restored worklist. On SQLite, and on PostgreSQL (the demo restored onto
a fresh schema, backed up while served, restored into another)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from joinedup.backup import ArchiveReport, backup, restore, verify_archive
from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Base
from joinedup.config import Settings
from joinedup.governance.audit import verify_chain
from joinedup.jobs import run_inline
from tests.browser.conftest import FSM, WORKLIST, LiveServer, serve_home, sign_in_for
from tests.conftest import pg_schema
from tests.regions import Region
from tests.rights.conftest import flagged_resident
from tests.support import make_settings, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
#: Requests each load thread makes at most (the load is bounded even if a backup hangs).
MAX_REQUESTS = 400


@dataclass
class Drill:
    archive: ArchiveReport
    restored: Settings
    during: Counter[int]  # status codes answered while the backup ran
    original_answers: dict[str, Any]
    resident: str


@contextmanager
def as_user(server: LiveServer, logins: dict[str, str], user: str, purpose: str | None) -> Any:
    with httpx.Client(base_url=server.url, timeout=120) as client:
        yield signed_in(client, user, logins[user], purpose)  # type: ignore[arg-type]


def answers(server: LiveServer, logins: dict[str, str], resident: str) -> dict[str, Any]:
    """What the hub answers about its worklist, a resident and its open data."""
    with as_user(server, logins, "lambeth.caseworker", "fsm") as caseworker:
        flags = caseworker.get("/api/v1/insight/flags?page_size=100").json()
        worklist = caseworker.get("/worklist")
    with as_user(server, logins, "hub.analyst", "linkage") as analyst:
        person = analyst.get(f"/api/v1/linkage/residents/{resident}").json()
        page = analyst.get(f"/residents/{resident}")
    portal = httpx.get(server("/open-data"), timeout=60)
    packages = httpx.get(server("/api/3/action/package_list"), timeout=60).json()
    assert worklist.status_code == page.status_code == portal.status_code == 200
    assert resident in page.text
    flags.pop("run_date", None)
    return {"flags": flags, "resident": person, "packages": packages["result"]}


def load(
    server: LiveServer, logins: dict[str, str], stop: threading.Event, seen: Counter[int]
) -> None:
    """A caseworker, an analyst and the public using the hub until ``stop`` (bounded)."""
    with as_user(server, logins, "lambeth.caseworker", "fsm") as caseworker:
        paths = ["/worklist", "/api/v1/insight/flags", "/healthz", "/open-data"]
        for n in range(MAX_REQUESTS):
            if stop.is_set():
                return
            seen[caseworker.get(paths[n % len(paths)]).status_code] += 1


def row_counts(settings: Settings) -> dict[str, int]:
    with session_scope(settings) as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def run_drill(
    source: Settings, logins: dict[str, str], target: Settings, tmp: Path, resident: str
) -> Drill:
    """Back ``source`` up while it is served and busy, check the archive, restore it."""
    archive = tmp / "hub.tar"
    seen: Counter[int] = Counter()
    stop = threading.Event()
    with serve_home(source) as server:
        before = answers(server, logins, resident)
        worker = threading.Thread(target=load, args=(server, logins, stop, seen), daemon=True)
        worker.start()
        while sum(seen.values()) < 5:  # the load is under way before the backup starts
            time.sleep(0.05)
        backup(source, archive)
        stop.set()
        worker.join(timeout=120)
    report = verify_archive(archive)
    restore(target, archive)
    dispose_engines()
    return Drill(report, target, seen, before, resident)


def check_restored(drill: Drill, logins: dict[str, str]) -> None:
    assert drill.during and set(drill.during) == {200}, drill.during
    restored = drill.restored
    counts = row_counts(restored)
    assert {t: counts[t] for t in drill.archive.tables} == drill.archive.tables
    assert drill.archive.files >= 1  # the linkage model files
    with session_scope(restored) as session:
        assert verify_chain(session) == []
    verified = run_inline(restored, "store.verify", {})
    assert verified.status == "succeeded"
    assert verified.result == {"checked": drill.archive.snapshots, "bad": []}
    with serve_home(restored) as server:
        after = answers(server, logins, drill.resident)
    assert after == drill.original_answers


@pytest.fixture(scope="module")
def resident(private_demo: Region) -> str:
    return flagged_resident(private_demo, "school-outside-home-borough")


@pytest.fixture(scope="module")
def sqlite_drill(
    private_demo: Region, resident: str, tmp_path_factory: pytest.TempPathFactory
) -> Drill:
    tmp = tmp_path_factory.mktemp("drill")
    target = make_settings(tmp / "restored")
    return run_drill(private_demo.settings, private_demo.logins, target, tmp, resident)


def test_backup_of_the_demo_home_while_serving_restores_the_same_hub(
    sqlite_drill: Drill, private_demo: Region
) -> None:
    check_restored(sqlite_drill, private_demo.logins)


@pytest.fixture(scope="module")
def live_server(sqlite_drill: Drill) -> Iterator[LiveServer]:
    """The browser checks below look at the restored home."""
    with serve_home(sqlite_drill.restored) as server:
        yield server


def test_the_restored_worklist_in_chromium(page: Any, private_demo: Region) -> None:
    caseworker = "lambeth.caseworker"
    sign_in_for(page, WORKLIST, caseworker, private_demo.logins[caseworker], FSM)
    assert page.locator("#flags tbody tr").count() > 0


def test_the_drill_on_postgresql(
    private_demo: Region, resident: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("pg-drill")
    with pg_schema() as served_url, pg_schema() as restored_url:
        # the demo home on PostgreSQL: the SQLite demo restored onto a fresh schema
        seed = tmp / "seed.tar"
        backup(private_demo.settings, seed)
        served = replace(make_settings(tmp / "served"), database_url=served_url)
        restore(served, seed)
        dispose_engines()
        target = replace(make_settings(tmp / "restored"), database_url=restored_url)
        drill = run_drill(served, private_demo.logins, target, tmp, resident)
        check_restored(drill, private_demo.logins)
