"""The append-only, hash-chained audit log.

Each event's ``hash`` is the sha256 of the previous event's hash and a canonical JSON encoding
of the event's own fields, so editing, deleting or reordering any event breaks the chain at that
point. Events are appended in the caller's transaction: the audit entry commits or rolls back
together with the action it records. Once it commits, the head is signed into a checkpoint
outside the database (:mod:`joinedup.governance.audit_anchor`), which detects truncation and
rewriting.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from joinedup.catalog.models import AuditEvent, User
from joinedup.catalog.types import utcnow
from joinedup.governance.audit_actions import registered
from joinedup.governance.audit_anchor import note_head
from joinedup.metrics import AUDIT_APPEND_SECONDS

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x6A6F696E  # "join": serialises appends on PostgreSQL


def _canonical(event: AuditEvent) -> str:
    occurred = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    body = {
        "id": event.id,
        "occurred_at": occurred,
        "actor_user_id": event.actor_user_id,
        "actor": event.actor,
        "organisation_id": event.organisation_id,
        "action": event.action,
        "purpose": event.purpose,
        "decision": event.decision,
        "reason": event.reason,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "records": event.records,
        "details": event.details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


def _lock_the_head(session: Session) -> None:
    """Serialise appends: hold the database's write lock before reading the chain's head, so
    no other transaction can append between reading it and inserting the next event.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write that changes nothing takes
    the database's single write lock (the driver opens the transaction just before it, so the
    head read next is the latest committed one); the lock is held until the transaction
    commits or rolls back, and other writers wait for it (``busy_timeout``). A transaction
    that has already written holds it. Either way the chain never forks and ids never
    collide."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_event SET id = id WHERE 0"))


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    actor_user_id: int | None = None,
    organisation_id: int | None = None,
    purpose: str | None = None,
    decision: str | None = None,
    reason: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    records: list[Any] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the session's current transaction. ``action``
    must be declared in :class:`~joinedup.governance.audit_actions.AuditAction`."""
    declared = registered(action)
    started = time.perf_counter()
    _lock_the_head(session)
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    event = AuditEvent(
        id=prev_id + 1,
        occurred_at=utcnow(),
        actor=actor,
        actor_user_id=actor_user_id,
        organisation_id=organisation_id,
        action=declared.value,
        purpose=purpose,
        decision=decision,
        reason=reason,
        target_type=target_type,
        target_id=target_id,
        records=records or [],
        details=details or {},
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event)
    session.add(event)
    session.flush()
    AUDIT_APPEND_SECONDS.observe(time.perf_counter() - started)
    note_head(session, event.id, event.hash)
    return event


@dataclass(frozen=True)
class ChainProblem:
    """Where the chain breaks and how."""

    event_id: int
    problem: str


class ChainWalk:
    """Checks events one by one in id order; ``problems`` holds every break found so far.

    Used on the live log (:func:`verify_chain`) and on the rows inside a backup archive."""

    def __init__(self) -> None:
        self.problems: list[ChainProblem] = []
        self.expected_prev = GENESIS
        self.expected_id = 1
        self.count = 0

    def check(self, event: AuditEvent) -> None:
        if event.id != self.expected_id:
            self.problems.append(
                ChainProblem(event.id, f"events {self.expected_id}..{event.id - 1} are missing")
            )
        if event.prev_hash != self.expected_prev:
            self.problems.append(
                ChainProblem(event.id, "previous-hash link does not match the event before")
            )
        if event_hash(event.prev_hash, event) != event.hash:
            self.problems.append(ChainProblem(event.id, "contents were changed after writing"))
        self.expected_prev = event.hash
        self.expected_id = event.id + 1
        self.count += 1


def append_by(session: Session, user: User, action: str, **event: Any) -> AuditEvent:
    """:func:`append_event` by ``user`` for their organisation (``event``: purpose, target,
    records, details … as :func:`append_event` takes them)."""
    return append_event(
        session,
        actor=user.username,
        actor_user_id=user.id,
        organisation_id=user.organisation_id,
        action=action,
        **event,
    )


def verify_chain(session: Session, batch: int = 5000) -> list[ChainProblem]:
    """Walk the whole log in id order and report every break (empty list: intact)."""
    walk = ChainWalk()
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            walk.check(event)
            last_id = event.id
        session.expunge_all()
    return walk.problems
