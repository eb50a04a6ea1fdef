"""The two linkage builds the equivalence test compares: one on each engine, from copies of
the same cached region (``LINKED``, :mod:`tests.regions`).

The DuckDB build is cached beside the region, as the region is: it is the same build for the
same region and source tree (the cache key is the region's: the sources' hash and the day), so
a second ``make test`` copies it instead of running it again. What the comparison reads of it
is kept with it: the build's summary and the audit events it made (counted in the copy's
catalogue before and after the build, as for the Spark build). The Spark build runs every time.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import func, select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.config import Settings
from joinedup.demo import DemoResult
from joinedup.linkage.build import build_index
from joinedup.linkage.runs import latest_run
from joinedup.store import SnapshotStore
from tests.regions import LINKED, Region, built, cache_dir, copy_region, key, locked
from tests.support import make_settings


def audit_actions(settings: Settings) -> Counter[str]:
    with session_scope(settings) as session:
        rows = session.execute(
            select(AuditEvent.action, func.count()).group_by(AuditEvent.action)
        ).all()
    return Counter({action: n for action, n in rows})


def clusters(settings: Settings) -> dict[str, frozenset[str]]:
    """Each record's cluster, as the set of records in it (ids differ between homes)."""
    run = latest_run(settings)
    assert run is not None
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    rows = duckdb.sql(f"SELECT record_key, resident_id FROM {source}").fetchall()
    members: dict[str, set[str]] = {}
    for record, resident in rows:
        members.setdefault(resident, set()).add(record)
    return {r: frozenset(members[resident]) for r, resident in rows}


def _build(settings: Settings) -> dict[str, Any]:
    """Build the index in ``settings``'s home: the summary and the audit events it made."""
    before = audit_actions(settings)
    summary = build_index(settings)
    audit = audit_actions(settings) - before
    dispose_engines()
    return {"summary": summary, "audit": dict(audit)}


def _outcome(settings: Settings, made: dict[str, Any]) -> dict[str, Any]:
    run = latest_run(settings)
    assert run is not None
    return {
        "settings": settings,
        "summary": made["summary"],
        "audit": Counter(made["audit"]),
        "model": json.loads(Path(settings.home / run.model_path).read_text()),
        "clusters": clusters(settings),
    }


def duckdb_build(home: Path) -> dict[str, Any]:
    """A private copy (in ``home``) of ``LINKED`` with its index rebuilt on DuckDB."""
    region = built(LINKED)  # first: the build below copies it
    cache = cache_dir()
    entry = cache / f"{key(LINKED)}-duckdb-build"
    with locked(cache / f"{LINKED.name}-duckdb-build.lock"):
        if not (entry / "build.json").is_file():
            for stale in cache.glob(f"*-{LINKED.name}-*-duckdb-build*"):
                if stale.is_dir():  # an older source tree's or day's
                    shutil.rmtree(stale, ignore_errors=True)
            partial = entry.with_name(f"{entry.name}.partial")
            made = _build(copy_region(LINKED, partial / "home").settings)
            (partial / "build.json").write_text(json.dumps(made, default=str))
            partial.rename(entry)
    meta = json.loads((region / "region.json").read_text())
    result = DemoResult(home=entry / "home", stages=meta["stages"])
    copy = Region(make_settings(entry / "home"), result, meta["logins"]).copy_to(home)
    return _outcome(copy.settings, json.loads((entry / "build.json").read_text()))


def spark_build(home: Path, engine: Callable[[Settings], Settings]) -> dict[str, Any]:
    """A private copy (in ``home``) of ``LINKED`` with its index built now with the
    ``engine`` settings (the Spark master's)."""
    settings = engine(copy_region(LINKED, home).settings)
    return _outcome(settings, _build(settings))
