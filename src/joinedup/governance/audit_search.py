"""Searching the audit log: the filters a DPO uses, and which entries each DPO may see.

Entries come newest first. A resident or record id matches an entry whose ``records`` list holds
that id, either alone (``"S1"``, as reads record source record ids) or at the end of a
description (``"resident R1"``, ``"record lambeth/housing/S1"``, as objections record them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, TextClause, and_, false, func, or_, select, text, true
from sqlalchemy.orm import Session

from joinedup.catalog.models import (
    Agreement,
    AgreementParty,
    AuditEvent,
    Organisation,
    OrganisationType,
    User,
)


@dataclass(frozen=True)
class AuditFilter:
    """Every field is optional; those given must all match."""

    user: str | None = None  # the actor's username
    record: str | None = None  # a resident id or source record id
    organisation_id: int | None = None  # the organisation the actor acted for
    action: str | None = None  # e.g. personal_data.read, agreement.active
    purpose: str | None = None
    decision: str | None = None  # allow or deny
    agreement: str | None = None  # an agreement reference: its changes and reads under it
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditScope:
    """The part of the log one DPO may see. ``organisation_id`` None: the whole log."""

    organisation_id: int | None = None
    organisation_code: str | None = None
    agreements: frozenset[str] = frozenset()

    @property
    def whole_log(self) -> bool:
        return self.organisation_id is None


def scope_for(session: Session, user: User) -> AuditScope:
    """A DPO of the hub sees the whole log. A DPO of a council or partner sees what their own
    organisation's people did, every read of their organisation's data, and every change to an
    agreement their organisation is a party to."""
    org = session.get(Organisation, user.organisation_id)
    if org is None or org.type == OrganisationType.HUB.value:
        return AuditScope()
    references = session.scalars(
        select(Agreement.reference)
        .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .where(AgreementParty.organisation_id == org.id)
    ).all()
    return AuditScope(org.id, org.code, frozenset(references))


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _record_condition(session: Session, record: str) -> TextClause:
    """The entry's ``records`` JSON list holds ``record`` (alone, or ending a description)."""
    if session.get_bind().dialect.name == "postgresql":
        elements = "json_array_elements_text(audit_event.records) AS element(value)"
    else:
        elements = "json_each(audit_event.records) AS element"
    escaped = _like_escape(record)
    return text(
        f"EXISTS (SELECT 1 FROM {elements} WHERE element.value = :record_exact "
        "OR element.value LIKE :record_word ESCAPE '\\' "
        "OR element.value LIKE :record_path ESCAPE '\\')"
    ).bindparams(record_exact=record, record_word=f"% {escaped}", record_path=f"%/{escaped}")


def _agreement_condition(reference: str) -> ColumnElement[bool]:
    return or_(
        and_(AuditEvent.target_type == "agreement", AuditEvent.target_id == reference),
        AuditEvent.details["agreement"].as_string() == reference,
    )


def _scope_condition(scope: AuditScope) -> ColumnElement[bool]:
    if scope.whole_log:
        return true()
    assert scope.organisation_code is not None
    own_data = and_(
        AuditEvent.target_type == "dataset_version",
        AuditEvent.target_id.like(f"{_like_escape(scope.organisation_code)}/%", escape="\\"),
    )
    agreements = (
        and_(
            AuditEvent.target_type == "agreement",
            AuditEvent.target_id.in_(sorted(scope.agreements)),
        )
        if scope.agreements
        else false()
    )
    return or_(AuditEvent.organisation_id == scope.organisation_id, own_data, agreements)


def _query(session: Session, where: AuditFilter, scope: AuditScope) -> Select[AuditEvent]:
    query = select(AuditEvent).where(_scope_condition(scope))
    if where.user:
        query = query.where(func.lower(AuditEvent.actor) == where.user.strip().lower())
    if where.record:
        query = query.where(_record_condition(session, where.record.strip()))
    if where.organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == where.organisation_id)
    if where.action:
        query = query.where(AuditEvent.action == where.action)
    if where.purpose:
        query = query.where(AuditEvent.purpose == where.purpose)
    if where.decision:
        query = query.where(AuditEvent.decision == where.decision)
    if where.agreement:
        query = query.where(_agreement_condition(where.agreement.strip()))
    if where.since is not None:
        query = query.where(AuditEvent.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.occurred_at < where.until)
    return query


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    offset: int
    limit: int


def search_events(
    session: Session,
    where: AuditFilter,
    scope: AuditScope | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> AuditPage:
    """One page of matching entries, newest first, and how many match in all."""
    query = _query(session, where, scope or AuditScope())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = session.scalars(query.order_by(AuditEvent.id.desc()).offset(offset).limit(limit)).all()
    return AuditPage(list(events), total, offset, limit)


def iter_events(
    session: Session, where: AuditFilter, scope: AuditScope | None = None, batch: int = 1000
) -> Iterator[AuditEvent]:
    """Every matching entry, newest first, read in batches (for exports)."""
    query = _query(session, where, scope or AuditScope())
    before: int | None = None
    while True:
        page = query if before is None else query.where(AuditEvent.id < before)
        rows = session.scalars(page.order_by(AuditEvent.id.desc()).limit(batch)).all()
        if not rows:
            return
        yield from rows
        before = rows[-1].id
        if len(rows) < batch:
            return


def actions_in_log(session: Session) -> list[str]:
    """The distinct actions recorded so far (for a filter's choices)."""
    return sorted(session.scalars(select(AuditEvent.action).distinct()).all())
