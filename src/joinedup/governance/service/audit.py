"""The audit log for people: search (DPOs, scoped to their organisation), CSV export and chain
verification; each view of the log is itself audited in the same transaction."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    AuditEvent,
    Organisation,
    Purpose,
    Role,
    User,
)
from joinedup.config import Settings
from joinedup.errors import Refused
from joinedup.governance.access import Actor, audit_as
from joinedup.governance.audit import verify_chain
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.audit_anchor import verify_anchor
from joinedup.governance.audit_search import (
    AuditFilter,
    AuditScope,
    actions_in_log,
    iter_events,
    scope_for,
    search_events,
)
from joinedup.governance.service.common import (
    Caller,
    current_user,
    org_codes,
)

try:
    UK_TIME: tzinfo = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # no time zone database on this machine: days are UTC days
    UK_TIME = UTC

AUDIT_PAGE_SIZE = 50
MAX_AUDIT_PAGE_SIZE = 500


class AuditEventOut(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    organisation: str | None
    action: str
    purpose: str | None
    decision: str | None
    reason: str | None
    target_type: str | None
    target_id: str | None
    records_count: int
    records: list[Any]
    details: dict[str, Any]


class AuditPageOut(BaseModel):
    total: int = Field(description="Entries matching the filters")
    page: int
    page_size: int
    events: list[AuditEventOut]


class ChainProblemOut(BaseModel):
    event_id: int
    problem: str
    guarantee: str = Field(
        "chain",
        description="Which guarantee failed: chain (an entry edited, deleted or reordered), "
        "signature (a checkpoint does not verify), truncation (entries after a signed head "
        "were deleted) or rewrite (an entry differs from a signed checkpoint)",
    )


class VerifyOut(BaseModel):
    intact: bool
    events: int
    problems: list[ChainProblemOut]
    checkpoints: int = Field(0, description="Signed checkpoints that verified")
    anchored_to: int = Field(0, description="The latest entry a signed checkpoint anchors")


def uk_day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in UK time, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=UK_TIME).astimezone(UTC)


def audit_filter(
    *,
    user: str | None = None,
    record: str | None = None,
    organisation_id: int | None = None,
    action: str | None = None,
    purpose: str | None = None,
    decision: str | None = None,
    agreement: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> AuditFilter:
    """Filters as people give them: whole UK days, both ends included."""
    return AuditFilter(
        user=user or None,
        record=record or None,
        organisation_id=organisation_id,
        action=action or None,
        purpose=purpose or None,
        decision=decision or None,
        agreement=agreement or None,
        since=uk_day_start(date_from) if date_from else None,
        until=uk_day_start(date_to + timedelta(days=1)) if date_to else None,
    )


def _require_dpo(principal: Caller) -> None:
    if principal.role != Role.DPO:
        raise Refused(403, "Only data protection officers read the audit log")


def _event_out(event: AuditEvent, orgs: dict[int, str]) -> AuditEventOut:
    return AuditEventOut(
        id=event.id,
        occurred_at=event.occurred_at,
        actor=event.actor,
        organisation=orgs.get(event.organisation_id) if event.organisation_id else None,
        action=event.action,
        purpose=event.purpose,
        decision=event.decision,
        reason=event.reason,
        target_type=event.target_type,
        target_id=event.target_id,
        records_count=_records_count(event),
        records=list(event.records or []),
        details=dict(event.details or {}),
    )


def _records_count(event: AuditEvent) -> int:
    """Reads list up to 1000 record ids; their details hold the exact row count."""
    rows = (event.details or {}).get("rows")
    return rows if isinstance(rows, int) else len(event.records or [])


def _filter_details(where: AuditFilter) -> dict[str, Any]:
    return {
        name: (value.isoformat() if isinstance(value, datetime) else value)
        for name, value in where.__dict__.items()
        if value is not None
    }


def _log_view(
    session: Session, user: User, principal: Caller, action: str, details: dict[str, Any]
) -> None:
    audit_as(
        session, Actor.of(user, principal.purpose), action, target_type="audit_log", details=details
    )


@dataclass(frozen=True)
class AuditResults:
    page: AuditPageOut
    scope: AuditScope


def search_audit(
    settings: Settings,
    principal: Caller,
    where: AuditFilter,
    page: int = 1,
    page_size: int = AUDIT_PAGE_SIZE,
) -> AuditResults:
    """One page of the log for a DPO; the viewing is itself audited, in the same transaction."""
    _require_dpo(principal)
    page = max(1, page)
    with session_scope(settings) as session:
        user = current_user(session, principal)
        scope = scope_for(session, user)
        found = search_events(session, where, scope, offset=(page - 1) * page_size, limit=page_size)
        orgs = org_codes(session)
        events = [_event_out(e, orgs) for e in found.events]
        _log_view(
            session,
            user,
            principal,
            AuditAction.AUDIT_VIEW,
            {"filters": _filter_details(where), "page": page, "shown": len(events)},
        )
        return AuditResults(
            AuditPageOut(total=found.total, page=page, page_size=page_size, events=events), scope
        )


def verify_audit(settings: Settings, principal: Caller) -> VerifyOut:
    """Walk the whole hash chain (DPOs and hub admins)."""
    if principal.role not in (Role.DPO, Role.HUB_ADMIN):
        raise Refused(403, "Only data protection officers and hub administrators check the log")
    with session_scope(settings) as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        problems = [
            ChainProblemOut(event_id=p.event_id, problem=p.problem, guarantee="chain")
            for p in verify_chain(session)
        ]
        anchor = verify_anchor(settings, session)
    problems += [
        ChainProblemOut(event_id=p.event_id, problem=p.problem, guarantee=p.guarantee)
        for p in anchor.problems
    ]
    return VerifyOut(
        intact=not problems,
        events=count,
        problems=problems,
        checkpoints=anchor.checkpoints,
        anchored_to=anchor.anchored_to,
    )


#: A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "occurred_at",
    "actor",
    "organisation",
    "action",
    "purpose",
    "decision",
    "reason",
    "target_type",
    "target_id",
    "records_count",
    "records",
)


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: formula-like values get a leading single quote."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _csv_row(event: AuditEventOut) -> list[str]:
    return [
        csv_cell(event.id),
        csv_cell(event.occurred_at.isoformat()),
        csv_cell(event.actor),
        csv_cell(event.organisation),
        csv_cell(event.action),
        csv_cell(event.purpose),
        csv_cell(event.decision),
        csv_cell(event.reason),
        csv_cell(event.target_type),
        csv_cell(event.target_id),
        csv_cell(event.records_count),
        csv_cell(" ".join(str(r) for r in event.records)),
    ]


def export_audit_csv(settings: Settings, principal: Caller, where: AuditFilter) -> IO[bytes]:
    """Every matching entry as CSV in a temporary file (rewound), the export itself audited in
    the same transaction. Large exports spill to disk rather than memory."""
    _require_dpo(principal)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned
    try:
        with session_scope(settings) as session:
            user = current_user(session, principal)
            scope = scope_for(session, user)
            orgs = org_codes(session)
            text_out = _TextWriter(out)
            writer = csv.writer(text_out)
            writer.writerow(CSV_COLUMNS)
            count = 0
            for event in iter_events(session, where, scope):
                writer.writerow(_csv_row(_event_out(event, orgs)))
                count += 1
            _log_view(
                session,
                user,
                principal,
                AuditAction.AUDIT_EXPORT,
                {"filters": _filter_details(where), "rows": count},
            )
        out.seek(0)
        return out
    except BaseException:
        out.close()
        raise


class _TextWriter:
    """Lets :mod:`csv` write UTF-8 into a binary file."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        return self.raw.write(text.encode("utf-8"))


def iter_file(handle: IO[bytes], chunk: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while block := handle.read(chunk):
            yield block
    finally:
        handle.close()


def audit_choices(settings: Settings) -> dict[str, Any]:
    """What the filters offer: organisations, actions recorded so far, purposes."""
    with session_scope(settings) as session:
        return {
            "organisations": [
                (o.code, o.name)
                for o in session.scalars(select(Organisation).order_by(Organisation.name))
            ],
            "actions": actions_in_log(session),
            "purposes": [
                (p.code, p.name) for p in session.scalars(select(Purpose).order_by(Purpose.name))
            ],
        }


def organisation_id(settings: Settings, code: str) -> int | None:
    with session_scope(settings) as session:
        return session.scalar(select(Organisation.id).where(Organisation.code == code))
