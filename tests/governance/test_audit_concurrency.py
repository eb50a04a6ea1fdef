"""Audit appends are safe under concurrency, on SQLite as on PostgreSQL (issue 15, 6).

Writers in threads and in separate processes append at once, each in its own transaction that
reads first (as every audited action does); every append succeeds, the ids run 1..n without a
gap, the hash chain verifies, and so does its anchor: every commit's signed checkpoint,
appended to one file by every writer, matches the log up to its last event.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import AuditEvent, Organisation
from joinedup.config import Settings
from joinedup.governance.audit import append_event, verify_chain
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.audit_anchor import verify_anchor
from tests.support import make_settings

WRITERS = 6
APPENDS = 15


def _append_many(settings: Settings, writer: str) -> int:
    for n in range(APPENDS):
        with session_scope(settings) as session:
            session.scalars(select(Organisation)).all()  # a read first, as real actions do
            append_event(
                session,
                actor=writer,
                action=AuditAction.AUDIT_VIEW,
                target_type="test",
                target_id=f"{writer}/{n}",
            )
            session.commit()
    return APPENDS


def _append_in_process(home: str, url: str, writer: str) -> int:
    settings = make_settings(Path(home), url)
    try:
        return _append_many(settings, writer)
    finally:
        dispose_engines()


def _check(settings: Settings, appended: int) -> None:
    with session_scope(settings) as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        ids = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        assert list(ids) == list(range(1, before + 1))
        assert before >= appended
        assert verify_chain(session) == []
        ours = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.target_type == "test")
        )
        assert ours == appended
        anchor = verify_anchor(settings, session)
        assert anchor.problems == [] and anchor.anchored_to == before


def test_threads_append_at_once_and_the_chain_holds(db_settings: Settings) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        done = list(pool.map(lambda w: _append_many(db_settings, f"t{w}"), range(WRITERS)))
    assert sum(done) == WRITERS * APPENDS
    _check(db_settings, WRITERS * APPENDS)


def test_processes_append_at_once_and_the_chain_holds(db_settings: Settings) -> None:
    dispose_engines()
    context = multiprocessing.get_context("spawn")
    home, url = str(db_settings.home), db_settings.database_url
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        futures = [pool.submit(_append_in_process, home, url, f"p{w}") for w in range(WRITERS)]
        done = [f.result() for f in futures]
    assert sum(done) == WRITERS * APPENDS
    _check(db_settings, WRITERS * APPENDS)
