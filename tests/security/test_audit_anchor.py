"""The audit chain's head is anchored (issue 15, finding 7).

Deleting the last 1 to 3 events, or editing an event and recomputing every later hash, left a
chain that verified: nothing outside the database recorded the head. Now each commit's head is
signed into a checkpoint in the home (Ed25519, with a key derived from the home's secret key),
and ``joinedup audit verify`` and ``/api/v1/audit/verify`` report which guarantee failed.
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from typer.testing import CliRunner

from joinedup.catalog.db import get_engine, session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.config import Settings
from joinedup.governance.audit import append_event, event_hash, verify_chain
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.audit_anchor import checkpoints_file, verify_anchor

runner = CliRunner()


def _write(settings: Settings, n: int) -> None:
    for i in range(n):
        with session_scope(settings) as session:
            append_event(session, actor="system", action=AuditAction.DATASET_READ, details={"n": i})


def _verify(settings: Settings) -> tuple[list[object], list[tuple[str, int]]]:
    with session_scope(settings) as session:
        chain = list(verify_chain(session))
        anchor = verify_anchor(settings, session)
    return chain, [(p.guarantee, p.event_id) for p in anchor.problems]


def _cli(settings: Settings) -> tuple[int, str]:
    from joinedup.cli import app

    env = {"JOINEDUP_HOME": str(settings.home), "JOINEDUP_DATABASE_URL": settings.database_url}
    env["JOINEDUP_SECRET_KEY"] = settings.secret_key
    result = runner.invoke(app, ["audit", "verify"], env={**env, "COLUMNS": "200"})
    return result.exit_code, result.output


def test_an_intact_log_is_anchored_at_its_head(db_settings: Settings) -> None:
    _write(db_settings, 4)
    with session_scope(db_settings) as session:
        head = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        report = verify_anchor(db_settings, session)
    assert report.problems == [] and report.anchored_to == head and report.checkpoints >= 4
    code, output = _cli(db_settings)
    assert code == 0 and f"the latest at event {head}" in output


@pytest.mark.parametrize("deleted", [1, 2, 3])
def test_deleting_the_last_events_is_truncation(db_settings: Settings, deleted: int) -> None:
    _write(db_settings, 6)
    with get_engine(db_settings).begin() as conn:
        head = conn.execute(text("SELECT max(id) FROM audit_event")).scalar_one()
        conn.execute(text("DELETE FROM audit_event WHERE id > :n"), {"n": head - deleted})
    chain, anchor = _verify(db_settings)
    assert chain == []  # the hash chain alone cannot see it
    assert ("truncation", head) in anchor
    code, output = _cli(db_settings)
    assert (
        code == 1 and "[truncation]" in output and f"events {head - deleted + 1}..{head}" in output
    )


def test_an_edit_with_recomputed_hashes_is_a_rewrite(db_settings: Settings) -> None:
    _write(db_settings, 6)
    with session_scope(db_settings) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        target = events[2].id
        prev = events[1].hash
        for event in events[2:]:  # edit one, then rebuild every later link, as an attacker would
            if event.id == target:
                event.details = {"n": "edited"}
            event.prev_hash = prev
            event.hash = event_hash(prev, event)
            prev = event.hash
    chain, anchor = _verify(db_settings)
    assert chain == []
    assert ("rewrite", target) in anchor
    code, output = _cli(db_settings)
    assert code == 1 and "[rewrite]" in output


def test_a_forged_checkpoint_does_not_verify(db_settings: Settings) -> None:
    _write(db_settings, 2)
    forger = Ed25519PrivateKey.generate()
    message = b"joinedup-audit-checkpoint\n99\n" + b"0" * 64 + b"\n2026-01-01T00:00:00+00:00"
    line = {
        "event_id": 99,
        "hash": "0" * 64,
        "signed_at": "2026-01-01T00:00:00+00:00",
        "signature": base64.b64encode(forger.sign(message)).decode(),
    }
    with checkpoints_file(db_settings).open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    chain, anchor = _verify(db_settings)
    assert chain == [] and anchor == [("signature", 0)]  # the forged head is not believed
    code, output = _cli(db_settings)
    assert code == 1 and "[signature]" in output


def test_a_rolled_back_append_writes_no_checkpoint(db_settings: Settings) -> None:
    _write(db_settings, 1)
    before = checkpoints_file(db_settings).read_text()
    with pytest.raises(RuntimeError), session_scope(db_settings) as session:
        append_event(session, actor="system", action=AuditAction.DATASET_READ)
        raise RuntimeError("the action failed")
    assert checkpoints_file(db_settings).read_text() == before
    assert _verify(db_settings) == ([], [])
