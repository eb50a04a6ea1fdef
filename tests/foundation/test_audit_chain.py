from sqlalchemy import text

from joinedup.catalog.db import get_engine, session_scope
from joinedup.config import Settings
from joinedup.governance.audit import append_event, verify_chain
from joinedup.governance.audit_actions import AuditAction


def _write_events(settings: Settings, n: int) -> None:
    for i in range(n):
        with session_scope(settings) as session:
            append_event(
                session,
                actor="system",
                action="dataset.read",
                purpose="fsm",
                decision="allow",
                reason=f"agreement {i}",
                records=[f"r{i}"],
                details={"n": i},
            )


def test_intact_chain_verifies(db_settings: Settings) -> None:
    _write_events(db_settings, 5)
    with session_scope(db_settings) as session:
        assert verify_chain(session) == []


def test_edited_deleted_and_reordered_events_are_caught(db_settings: Settings) -> None:
    _write_events(db_settings, 6)
    with get_engine(db_settings).begin() as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'edited' WHERE id = 2"))
        conn.execute(text("DELETE FROM audit_event WHERE id = 4"))
    with session_scope(db_settings) as session:
        problems = verify_chain(session)
    assert (2, "contents were changed after writing") in [(p.event_id, p.problem) for p in problems]
    assert any(p.event_id == 5 and "missing" in p.problem for p in problems)
    assert any(p.event_id == 5 and "previous-hash" in p.problem for p in problems)


def test_swapped_events_are_caught(db_settings: Settings) -> None:
    _write_events(db_settings, 4)
    with get_engine(db_settings).begin() as conn:
        conn.execute(text("UPDATE audit_event SET id = 100 WHERE id = 2"))
        conn.execute(text("UPDATE audit_event SET id = 2 WHERE id = 3"))
        conn.execute(text("UPDATE audit_event SET id = 3 WHERE id = 100"))
    with session_scope(db_settings) as session:
        problems = verify_chain(session)
    assert {p.event_id for p in problems} >= {2, 3}


def test_rolled_back_action_leaves_no_audit_entry(db_settings: Settings) -> None:
    try:
        with session_scope(db_settings) as session:
            append_event(session, actor="system", action=AuditAction.DATASET_VERSION_CREATE)
            raise RuntimeError("the action failed")
    except RuntimeError:
        pass
    with session_scope(db_settings) as session:
        assert verify_chain(session) == []
        assert session.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one() == 0
