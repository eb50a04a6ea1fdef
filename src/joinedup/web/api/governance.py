"""``/api/v1``: sharing agreements, purposes, the audit log, objections, organisations, users.

Every change goes through the governance core (:mod:`joinedup.governance`), which writes the
audit entry in the same transaction as the change. The functions in the first half of this
module are shared with the pages (:mod:`joinedup.web.pages.agreements` and friends), so a page
and its API answer the same way; they raise :class:`Refused` with the HTTP status and a message
for people.

Who may do what:

* agreements and purposes: any signed-in user reads them (they hold no personal data, and
  knowing what is shared is part of sharing it openly); data owners and DPOs draft agreements;
  the lifecycle steps follow :func:`joinedup.governance.agreements.check_action`; hub admins
  register purposes.
* the audit log and objections: DPOs only. A DPO of the hub sees the whole log; a DPO of a
  council or partner sees their own organisation's entries, reads of its data and changes to its
  agreements (:func:`joinedup.governance.audit_search.scope_for`). Hub admins may check that the
  chain is intact (``/audit/verify``), as ``joinedup audit verify`` does, but not read entries:
  entries name residents' records, and hub admins never see personal data.
* organisations and users: hub admins.

API tokens need the ``read`` scope for reads, ``governance`` for agreement, objection and
purpose changes, and ``admin`` for organisations and users.
"""

from __future__ import annotations

import csv
import re
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import IO, Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Agreement,
    ApiToken,
    AuditEvent,
    Objection,
    Organisation,
    OrganisationType,
    PartyRole,
    Purpose,
    Role,
    User,
)
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.governance import agreements as lifecycle
from joinedup.governance.accounts import AccountError, create_user, deactivate_user
from joinedup.governance.agreements import (
    AgreementDraft,
    AgreementError,
    AgreementPermissionError,
    DataShare,
    available_actions,
    create_draft,
)
from joinedup.governance.audit import append_event, verify_chain
from joinedup.governance.audit_search import (
    AuditFilter,
    AuditScope,
    actions_in_log,
    iter_events,
    scope_for,
    search_events,
)
from joinedup.governance.objections import (
    ObjectionError,
    ObjectionSubject,
    record_objection,
    withdraw_objection,
)
from joinedup.governance.organisations import OrganisationError, ensure_organisation
from joinedup.governance.policy import effective_status
from joinedup.governance.purposes import PUBLIC_TASK, PurposeSpec, register_purpose
from joinedup.governance.tokens import TokenError, create_token, revoke_token
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
    access,
    require_principal,
    require_roles,
    require_scope,
    role,
    verify_csrf,
)

try:
    UK_TIME: tzinfo = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # no time zone database on this machine: days are UTC days
    UK_TIME = UTC

tag = {
    "name": "governance",
    "description": "Sharing agreements and their lifecycle, the purposes register, the "
    "tamper-evident audit log (DPOs), residents' objections (DPOs), organisations and users "
    "(hub admins).",
}
router = APIRouter(tags=[tag["name"]])

API_ROOT = "/api/v1"
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ORG_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
PURPOSE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
FIELD_NAME = re.compile(r"^(\*|[a-z][a-z0-9_]{0,63})$")
DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,119}$")
#: ONS GSS entity codes of local authorities: English unitary (E06), district (E07),
#: metropolitan district (E08), London borough (E09), county (E10); Welsh unitary (W06),
#: Scottish council area (S12), Northern Irish district (N09).
COUNCIL_GSS_PREFIXES = ("E06", "E07", "E08", "E09", "E10", "W06", "S12", "N09")
AUDIT_PAGE_SIZE = 50
MAX_AUDIT_PAGE_SIZE = 500
#: Where a revocation reason, objection note and so on are stored, the column holds 500.
MAX_NOTE = 500
#: Which token scopes each role can use (a token never does more than its user may).
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    Role.HUB_ADMIN: ("read", "ingest", "governance", "admin"),
    Role.DATA_OWNER: ("read", "ingest", "governance"),
    Role.DPO: ("read", "governance"),
    Role.ANALYST: ("read", "review"),
    Role.CASEWORKER: ("read", "casework"),
}
TOKEN_LIFETIMES = (30, 90, 180, 365)  # days


class Refused(Exception):
    """A request the rules refuse: ``status_code`` (400-409, 422), a message for people, and
    the form field it is about (if any)."""

    def __init__(self, status_code: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.field = field


def _http(exc: Refused) -> HTTPException:
    return HTTPException(exc.status_code, exc.message)


def _q(value: str) -> str:
    return quote(value, safe="")


def agreement_path(reference: str) -> str:
    """``/agreements/{reference}``: the page; prefix :data:`API_ROOT` for the API."""
    return f"/agreements/{_q(reference)}"


def _user(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise Refused(401, "Sign in again: the account is not active")
    return user


def _org_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.code)).all())


def _usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return dict(rows.all())


# --- models ----------------------------------------------------------------------------------


class Message(BaseModel):
    detail: str


class DataShareIn(BaseModel):
    provider: str = Field(description="The providing organisation's code", max_length=64)
    dataset: str | None = Field(None, description="One dataset, or none for every dataset")
    standard: str | None = Field(None, description="Every dataset of this standard")
    fields: list[str] = Field(["*"], description='Fields shared; ["*"] for all', min_length=1)


class DataShareOut(BaseModel):
    provider: str
    provider_name: str
    dataset: str | None
    standard: str | None
    fields: list[str]


class AgreementIn(BaseModel):
    reference: str = Field(max_length=64, description="Letters, digits, dots, dashes, _")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    providers: list[str] = Field(min_length=1, description="Codes of the providing parties")
    recipients: list[str] = Field(min_length=1, description="Codes of the receiving parties")
    data: list[DataShareIn] = Field(min_length=1)
    purposes: list[str] = Field(min_length=1, description="Codes of registered purposes")
    lawful_basis: str = Field(min_length=1, max_length=200)
    special_category_condition: str | None = Field(None, max_length=300)
    dpia_reference: str = Field(min_length=1, max_length=120)
    start_date: date
    expiry_date: date
    retention: str = Field(min_length=1, max_length=300)


class Party(BaseModel):
    code: str
    name: str


class AgreementSummary(BaseModel):
    reference: str
    title: str
    status: str = Field(description="The recorded lifecycle status")
    effective_status: str = Field(
        description="What governs access today: an active agreement past its expiry date is "
        "expired, and before its start date not yet started"
    )
    providers: list[Party]
    recipients: list[Party]
    purposes: list[str]
    start_date: date
    expiry_date: date
    url: str


class ApprovalOut(BaseModel):
    organisation: str
    user: str | None
    approved_at: datetime


class TransitionOut(BaseModel):
    from_status: str | None
    to_status: str
    user: str | None
    note: str
    at: datetime


class AgreementDetail(AgreementSummary):
    description: str
    lawful_basis: str
    special_category_condition: str | None
    dpia_reference: str
    retention: str
    data: list[DataShareOut]
    approvals: list[ApprovalOut]
    awaiting_approval: list[str] = Field(description="Providers yet to approve (when proposed)")
    history: list[TransitionOut]
    created_by: str | None
    created_at: datetime
    actions: list[str] = Field(description="The lifecycle steps the caller may take now")


class RevokeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=MAX_NOTE)


class PurposeIn(BaseModel):
    code: str = Field(max_length=64, description="Lower-case letters, digits and dashes")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    lawful_basis: str = Field(PUBLIC_TASK, min_length=1, max_length=200)
    special_category_condition: str | None = Field(None, max_length=300)
    objection_allowed: bool = True


class PurposeOut(BaseModel):
    code: str
    name: str
    description: str
    lawful_basis: str
    special_category_condition: str | None
    objection_allowed: bool


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


class VerifyOut(BaseModel):
    intact: bool
    events: int
    problems: list[ChainProblemOut]


class ObjectionIn(BaseModel):
    resident_id: str | None = Field(None, max_length=64)
    organisation: str | None = Field(None, max_length=64)
    dataset: str | None = Field(None, max_length=120)
    source_record_id: str | None = Field(None, max_length=120)
    purpose: str | None = Field(
        None, description="A purpose's code, or none for every purpose that allows objection"
    )
    note: str = Field("", max_length=MAX_NOTE)


class ObjectionOut(BaseModel):
    id: int
    subject: str
    resident_id: str | None
    organisation: str | None
    dataset: str | None
    source_record_id: str | None
    purpose: str | None = Field(description="None: every purpose that allows objection")
    purpose_name: str
    note: str
    recorded_by: str | None
    recorded_at: datetime
    withdrawn: bool
    withdrawn_by: str | None
    withdrawn_at: datetime | None


class OrganisationIn(BaseModel):
    code: str = Field(max_length=64, description="Lower-case letters, digits and dashes")
    name: str = Field(min_length=1, max_length=200)
    type: OrganisationType = OrganisationType.COUNCIL
    gss_code: str | None = Field(None, description="ONS GSS code (required for councils)")


class OrganisationOut(BaseModel):
    code: str
    name: str
    type: str
    gss_code: str | None
    users: int
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(max_length=64)
    display_name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    organisation: str = Field(max_length=64)
    role: Role


class UserOut(BaseModel):
    username: str
    display_name: str
    email: str | None
    organisation: str
    organisation_name: str
    role: str
    active: bool
    created_at: datetime


class UserCreated(BaseModel):
    user: UserOut
    password: str = Field(description="Shown once: give it to the person; it is not stored")


class TokenOut(BaseModel):
    prefix: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def live(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > utcnow()


# --- agreements ------------------------------------------------------------------------------


def _agreement_query() -> Any:
    return select(Agreement).options(
        selectinload(Agreement.parties),
        selectinload(Agreement.purposes),
        selectinload(Agreement.data),
        selectinload(Agreement.approvals),
        selectinload(Agreement.events),
    )


def _parties(agreement: Agreement, role: PartyRole, orgs: dict[int, Organisation]) -> list[Party]:
    found = [orgs[p.organisation_id] for p in agreement.parties if p.role == role.value]
    return [Party(code=o.code, name=o.name) for o in sorted(found, key=lambda o: o.name)]


def _summary(agreement: Agreement, orgs: dict[int, Organisation], today: date) -> dict[str, Any]:
    return {
        "reference": agreement.reference,
        "title": agreement.title,
        "status": agreement.status,
        "effective_status": effective_status(agreement, today),
        "providers": _parties(agreement, PartyRole.PROVIDER, orgs),
        "recipients": _parties(agreement, PartyRole.RECIPIENT, orgs),
        "purposes": sorted(p.code for p in agreement.purposes),
        "start_date": agreement.start_date,
        "expiry_date": agreement.expiry_date,
        "url": API_ROOT + agreement_path(agreement.reference),
    }


def _organisations(session: Session) -> dict[int, Organisation]:
    return {o.id: o for o in session.scalars(select(Organisation))}


def list_agreements(settings: Settings, today: date | None = None) -> list[AgreementSummary]:
    """Every agreement, newest first."""
    today = today or date.today()
    with session_scope(settings) as session:
        orgs = _organisations(session)
        rows = session.scalars(_agreement_query().order_by(Agreement.id.desc())).all()
        return [AgreementSummary(**_summary(a, orgs, today)) for a in rows]


def _find_agreement(session: Session, reference: str) -> Agreement:
    found = session.scalars(_agreement_query().where(Agreement.reference == reference)).first()
    if found is None:
        raise Refused(404, f"No agreement {reference!r}")
    return found


def _detail(session: Session, agreement: Agreement, user: User, today: date) -> AgreementDetail:
    orgs = _organisations(session)
    names = _usernames(
        session,
        {agreement.created_by_id}
        | {a.user_id for a in agreement.approvals}
        | {e.user_id for e in agreement.events},
    )
    approved = {a.organisation_id for a in agreement.approvals}
    awaiting = []
    if agreement.status == "proposed":
        awaiting = sorted(orgs[i].code for i in lifecycle.provider_ids(agreement) - approved)
    return AgreementDetail(
        **_summary(agreement, orgs, today),
        description=agreement.description,
        lawful_basis=agreement.lawful_basis,
        special_category_condition=agreement.special_category_condition,
        dpia_reference=agreement.dpia_reference,
        retention=agreement.retention,
        data=[
            DataShareOut(
                provider=orgs[d.provider_id].code,
                provider_name=orgs[d.provider_id].name,
                dataset=d.dataset,
                standard=d.standard,
                fields=[str(f) for f in d.fields],
            )
            for d in agreement.data
        ],
        approvals=[
            ApprovalOut(
                organisation=orgs[a.organisation_id].code,
                user=names.get(a.user_id),
                approved_at=a.approved_at,
            )
            for a in sorted(agreement.approvals, key=lambda a: a.approved_at)
        ],
        awaiting_approval=awaiting,
        history=[
            TransitionOut(
                from_status=e.from_status,
                to_status=e.to_status,
                user=names.get(e.user_id) if e.user_id else None,
                note=e.note,
                at=e.at,
            )
            for e in agreement.events
        ],
        created_by=names.get(agreement.created_by_id) if agreement.created_by_id else None,
        created_at=agreement.created_at,
        actions=available_actions(agreement, user),
    )


def get_agreement(
    settings: Settings, principal: Principal, reference: str, today: date | None = None
) -> AgreementDetail:
    with session_scope(settings) as session:
        user = _user(session, principal)
        return _detail(session, _find_agreement(session, reference), user, today or date.today())


def check_reference(reference: str) -> str | None:
    """Why a reference is not acceptable, or None."""
    if not reference:
        return "Enter a reference"
    if not REFERENCE.match(reference):
        return "The reference must be up to 64 letters, digits, dots, dashes and underscores"
    return None


def may_draft(principal: Principal) -> bool:
    return principal.role in (Role.DATA_OWNER, Role.DPO)


def create_agreement(
    settings: Settings, principal: Principal, draft: AgreementDraft
) -> AgreementDetail:
    """Record a draft (audited). Data owners and DPOs draft agreements their organisation is
    a party to; a DPO of the hub may draft one between other organisations."""
    if not may_draft(principal):
        raise Refused(403, "Only data owners and data protection officers draft agreements")
    problem = check_reference(draft.reference)
    if problem:
        raise Refused(422, problem, "reference")
    with session_scope(settings) as session:
        user = _user(session, principal)
        org = session.get(Organisation, user.organisation_id)
        parties = set(draft.providers) | set(draft.recipients)
        hub_dpo = user.role == Role.DPO and org is not None and org.type == OrganisationType.HUB
        if org is not None and org.code not in parties and not hub_dpo:
            raise Refused(
                403,
                f"Your organisation ({org.name}) must be a provider or a recipient",
                "providers",
            )
        try:
            agreement = create_draft(session, draft, user)
        except AgreementError as exc:
            raise Refused(422, _sentence(str(exc)), _draft_field(str(exc))) from None
        return _detail(session, agreement, user, date.today())


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _draft_field(message: str) -> str | None:
    """Which form field a core refusal of a draft is about."""
    for needle, name in (
        ("already exists", "reference"),
        ("expiry date", "expiry_date"),
        ("purpose", "purposes"),
        ("not a provider party", "shares"),
        ("no organisation", "providers"),
    ):
        if needle in message:
            return name
    return None


def agreement_action(
    settings: Settings,
    principal: Principal,
    reference: str,
    action: str,
    reason: str = "",
    today: date | None = None,
) -> tuple[AgreementDetail, bool]:
    """Take one lifecycle step as the principal (audited by the core). Returns the agreement
    and, for ``approve``, whether that approval made it active."""
    if action not in lifecycle.ACTIONS:
        raise Refused(404, f"No action {action!r}")
    reason = reason.strip()
    today = today or date.today()
    activated = False
    with session_scope(settings) as session:
        user = _user(session, principal)
        agreement = _find_agreement(session, reference)
        if action == "revoke":
            if not reason:
                raise Refused(422, "Enter the reason for revoking the agreement", "reason")
            if len(reason) > MAX_NOTE:
                raise Refused(422, f"The reason must be {MAX_NOTE} characters or fewer", "reason")
        try:
            if action == "propose":
                lifecycle.propose(session, agreement, user)
            elif action == "approve":
                activated = lifecycle.approve(session, agreement, user, today)
            elif action == "withdraw":
                lifecycle.withdraw(session, agreement, user)
            else:
                lifecycle.revoke(session, agreement, user, reason)
        except AgreementPermissionError as exc:
            raise Refused(403, _sentence(str(exc))) from None
        except AgreementError as exc:
            raise Refused(409, _sentence(str(exc))) from None
        session.flush()
        session.expire(agreement, ["events", "approvals"])  # the core added rows to both
        return _detail(session, agreement, user, today), activated


# --- purposes --------------------------------------------------------------------------------


def list_purposes(settings: Settings) -> list[PurposeOut]:
    with session_scope(settings) as session:
        return [
            PurposeOut(
                code=p.code,
                name=p.name,
                description=p.description,
                lawful_basis=p.lawful_basis,
                special_category_condition=p.special_category_condition,
                objection_allowed=p.objection_allowed,
            )
            for p in session.scalars(select(Purpose).order_by(Purpose.name))
        ]


def add_purpose(settings: Settings, principal: Principal, spec: PurposeSpec) -> PurposeOut:
    if principal.role != Role.HUB_ADMIN:
        raise Refused(403, "Only hub administrators register purposes")
    if not PURPOSE_CODE.match(spec.code):
        raise Refused(422, "The code must be 2 to 64 lower-case letters, digits and dashes", "code")
    with session_scope(settings) as session:
        user = _user(session, principal)
        if session.scalars(select(Purpose).where(Purpose.code == spec.code)).first():
            raise Refused(409, f"A purpose with the code {spec.code!r} already exists", "code")
        purpose = register_purpose(session, spec, actor=user.username)
        return PurposeOut(
            code=purpose.code,
            name=purpose.name,
            description=purpose.description,
            lawful_basis=purpose.lawful_basis,
            special_category_condition=purpose.special_category_condition,
            objection_allowed=purpose.objection_allowed,
        )


# --- the audit log ---------------------------------------------------------------------------


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


def _require_dpo(principal: Principal) -> None:
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
    session: Session, user: User, principal: Principal, action: str, details: dict[str, Any]
) -> None:
    append_event(
        session,
        actor=user.username,
        actor_user_id=user.id,
        organisation_id=user.organisation_id,
        action=action,
        purpose=principal.purpose,
        target_type="audit_log",
        details=details,
    )


@dataclass(frozen=True)
class AuditResults:
    page: AuditPageOut
    scope: AuditScope


def search_audit(
    settings: Settings,
    principal: Principal,
    where: AuditFilter,
    page: int = 1,
    page_size: int = AUDIT_PAGE_SIZE,
) -> AuditResults:
    """One page of the log for a DPO; the viewing is itself audited, in the same transaction."""
    _require_dpo(principal)
    page = max(1, page)
    with session_scope(settings) as session:
        user = _user(session, principal)
        scope = scope_for(session, user)
        found = search_events(session, where, scope, offset=(page - 1) * page_size, limit=page_size)
        orgs = _org_codes(session)
        events = [_event_out(e, orgs) for e in found.events]
        _log_view(
            session,
            user,
            principal,
            "audit.view",
            {"filters": _filter_details(where), "page": page, "shown": len(events)},
        )
        return AuditResults(
            AuditPageOut(total=found.total, page=page, page_size=page_size, events=events), scope
        )


def verify_audit(settings: Settings, principal: Principal) -> VerifyOut:
    """Walk the whole hash chain (DPOs and hub admins)."""
    if principal.role not in (Role.DPO, Role.HUB_ADMIN):
        raise Refused(403, "Only data protection officers and hub administrators check the log")
    with session_scope(settings) as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        problems = verify_chain(session)
    return VerifyOut(
        intact=not problems,
        events=count,
        problems=[ChainProblemOut(event_id=p.event_id, problem=p.problem) for p in problems],
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


def export_audit_csv(settings: Settings, principal: Principal, where: AuditFilter) -> IO[bytes]:
    """Every matching entry as CSV in a temporary file (rewound), the export itself audited in
    the same transaction. Large exports spill to disk rather than memory."""
    _require_dpo(principal)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned
    try:
        with session_scope(settings) as session:
            user = _user(session, principal)
            scope = scope_for(session, user)
            orgs = _org_codes(session)
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
                "audit.export",
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


# --- objections ------------------------------------------------------------------------------


def _objection_out(
    o: Objection, orgs: dict[int, str], names: dict[int, str], purposes: dict[int, Purpose]
) -> ObjectionOut:
    org = orgs.get(o.organisation_id) if o.organisation_id else None
    subject = ObjectionSubject(o.resident_id, org, o.dataset, o.source_record_id).describe()
    purpose = purposes.get(o.purpose_id) if o.purpose_id else None
    return ObjectionOut(
        id=o.id,
        subject=subject,
        resident_id=o.resident_id,
        organisation=org,
        dataset=o.dataset,
        source_record_id=o.source_record_id,
        purpose=purpose.code if purpose else None,
        purpose_name=purpose.name if purpose else "Every purpose that allows objection",
        note=o.note,
        recorded_by=names.get(o.recorded_by_id) if o.recorded_by_id else None,
        recorded_at=o.recorded_at,
        withdrawn=o.withdrawn_at is not None,
        withdrawn_by=names.get(o.withdrawn_by_id) if o.withdrawn_by_id else None,
        withdrawn_at=o.withdrawn_at,
    )


def _require_objections_role(principal: Principal) -> None:
    if principal.role != Role.DPO:
        raise Refused(403, "Only data protection officers record and read objections")


def list_objections(settings: Settings, principal: Principal) -> list[ObjectionOut]:
    """Every objection in the region, newest first (a regional register: each one applies
    wherever the resident's records are processed)."""
    _require_objections_role(principal)
    with session_scope(settings) as session:
        _user(session, principal)
        rows = session.scalars(select(Objection).order_by(Objection.id.desc())).all()
        names = _usernames(
            session, {o.recorded_by_id for o in rows} | {o.withdrawn_by_id for o in rows}
        )
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        orgs = _org_codes(session)
        return [_objection_out(o, orgs, names, purposes) for o in rows]


def _objection_field(message: str) -> str | None:
    for needle, name in (
        ("name the resident", "resident_id"),
        ("cannot object", "purpose"),
        ("purpose", "purpose"),
        ("no organisation", "organisation"),
    ):
        if needle in message:
            return name
    return None


def add_objection(
    settings: Settings,
    principal: Principal,
    subject: ObjectionSubject,
    purpose: str | None,
    note: str,
) -> ObjectionOut:
    _require_objections_role(principal)
    if len(note) > MAX_NOTE:
        raise Refused(422, f"The note must be {MAX_NOTE} characters or fewer", "note")
    with session_scope(settings) as session:
        user = _user(session, principal)
        try:
            objection = record_objection(session, subject, purpose, user, note)
        except ObjectionError as exc:
            raise Refused(422, _sentence(str(exc)), _objection_field(str(exc))) from None
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        return _objection_out(objection, _org_codes(session), {user.id: user.username}, purposes)


def get_objection(settings: Settings, principal: Principal, objection_id: int) -> ObjectionOut:
    _require_objections_role(principal)
    with session_scope(settings) as session:
        _user(session, principal)
        found = session.get(Objection, objection_id)
        if found is None:
            raise Refused(404, f"No objection {objection_id}")
        names = _usernames(session, {found.recorded_by_id, found.withdrawn_by_id})
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        return _objection_out(found, _org_codes(session), names, purposes)


def end_objection(settings: Settings, principal: Principal, objection_id: int) -> ObjectionOut:
    """Withdraw an objection: a DPO of the organisation that recorded it, or of the hub."""
    _require_objections_role(principal)
    with session_scope(settings) as session:
        user = _user(session, principal)
        found = session.get(Objection, objection_id)
        if found is None:
            raise Refused(404, f"No objection {objection_id}")
        recorder = session.get(User, found.recorded_by_id) if found.recorded_by_id else None
        org = session.get(Organisation, user.organisation_id)
        is_hub = org is not None and org.type == OrganisationType.HUB
        if not is_hub and (recorder is None or recorder.organisation_id != user.organisation_id):
            raise Refused(
                403, "Only a DPO of the organisation that recorded it, or of the hub, withdraws it"
            )
        try:
            withdraw_objection(session, found, user)
        except ObjectionError as exc:
            raise Refused(409, _sentence(str(exc))) from None
        session.flush()
        names = _usernames(session, {found.recorded_by_id, found.withdrawn_by_id})
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        return _objection_out(found, _org_codes(session), names, purposes)


# --- organisations and users -----------------------------------------------------------------


def _require_hub_admin(principal: Principal) -> None:
    if principal.role != Role.HUB_ADMIN:
        raise Refused(403, "Only hub administrators manage organisations and users")


def list_organisations(settings: Settings, principal: Principal) -> list[OrganisationOut]:
    _require_hub_admin(principal)
    with session_scope(settings) as session:
        counts = dict(
            session.execute(
                select(User.organisation_id, func.count()).group_by(User.organisation_id)
            ).all()
        )
        return [
            OrganisationOut(
                code=o.code,
                name=o.name,
                type=o.type,
                gss_code=o.gss_code,
                users=counts.get(o.id, 0),
                created_at=o.created_at,
            )
            for o in session.scalars(select(Organisation).order_by(Organisation.name))
        ]


def check_organisation(code: str, name: str, type: str, gss_code: str | None) -> dict[str, str]:
    """Field errors for a new organisation (empty when it can be registered)."""
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = "Enter a code"
    elif not ORG_CODE.match(code):
        errors["code"] = "The code must be 2 to 64 lower-case letters, digits and dashes"
    if not name.strip():
        errors["name"] = "Enter the organisation's name"
    elif len(name) > 200:
        errors["name"] = "The name must be 200 characters or fewer"
    if type not in {t.value for t in OrganisationType}:
        errors["type"] = "Select the type of organisation"
    if gss_code:
        from joinedup.standards.identifiers import is_valid_gss_code

        if not is_valid_gss_code(gss_code):
            errors["gss_code"] = (
                "Enter a GSS code in the correct format, a letter and 8 digits, like E09000022"
            )
        elif type == OrganisationType.COUNCIL and not gss_code.startswith(COUNCIL_GSS_PREFIXES):
            errors["gss_code"] = (
                "A council's GSS code starts with "
                + ", ".join(COUNCIL_GSS_PREFIXES[:-1])
                + " or "
                + COUNCIL_GSS_PREFIXES[-1]
            )
    elif type == OrganisationType.COUNCIL:
        errors["gss_code"] = "Enter the council's GSS code, like E09000022"
    return errors


def add_organisation(
    settings: Settings, principal: Principal, code: str, name: str, type: str, gss_code: str | None
) -> OrganisationOut:
    _require_hub_admin(principal)
    gss_code = (gss_code or "").strip().upper() or None
    errors = check_organisation(code, name, type, gss_code)
    if errors:
        first = next(iter(errors))
        raise Refused(422, errors[first], first)
    with session_scope(settings) as session:
        user = _user(session, principal)
        if session.scalars(select(Organisation).where(Organisation.code == code)).first():
            raise Refused(409, f"An organisation with the code {code!r} already exists", "code")
        if (
            gss_code
            and session.scalars(
                select(Organisation).where(Organisation.gss_code == gss_code)
            ).first()
        ):
            raise Refused(
                409, f"An organisation with the GSS code {gss_code} already exists", "gss_code"
            )
        try:
            org = ensure_organisation(
                session,
                code=code,
                name=name.strip(),
                type=type,
                gss_code=gss_code,
                actor=user.username,
            )
        except OrganisationError as exc:
            raise Refused(422, _sentence(str(exc))) from None
        return OrganisationOut(
            code=org.code,
            name=org.name,
            type=org.type,
            gss_code=org.gss_code,
            users=0,
            created_at=org.created_at,
        )


def _user_out(user: User, org: Organisation) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        organisation=org.code,
        organisation_name=org.name,
        role=user.role,
        active=user.is_active,
        created_at=user.created_at,
    )


def list_users(settings: Settings, principal: Principal) -> list[UserOut]:
    _require_hub_admin(principal)
    with session_scope(settings) as session:
        rows = session.execute(
            select(User, Organisation)
            .join(Organisation, User.organisation_id == Organisation.id)
            .order_by(Organisation.name, User.username)
        )
        return [_user_out(u, o) for u, o in rows]


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def add_user(
    settings: Settings,
    principal: Principal,
    *,
    username: str,
    display_name: str,
    email: str | None,
    organisation: str,
    role: str,
) -> UserCreated:
    """Create an account with a generated password, returned once and never stored."""
    _require_hub_admin(principal)
    password = generate_password()
    with session_scope(settings) as session:
        admin = _user(session, principal)
        try:
            user = create_user(
                session,
                username=username,
                display_name=display_name,
                organisation=organisation,
                role=role,
                password=password,
                email=email or None,
                actor=admin.username,
            )
        except AccountError as exc:
            raise Refused(422, _sentence(str(exc)), _account_field(str(exc))) from None
        org = session.get(Organisation, user.organisation_id)
        assert org is not None
        return UserCreated(user=_user_out(user, org), password=password)


def _account_field(message: str) -> str | None:
    for needle, name in (
        ("username", "username"),
        ("role", "role"),
        ("organisation", "organisation"),
    ):
        if needle in message:
            return name
    return None


def find_user(settings: Settings, principal: Principal, username: str) -> UserOut:
    _require_hub_admin(principal)
    with session_scope(settings) as session:
        row = session.execute(
            select(User, Organisation)
            .join(Organisation, User.organisation_id == Organisation.id)
            .where(User.username == username)
        ).first()
        if row is None:
            raise Refused(404, f"No user {username!r}")
        return _user_out(row[0], row[1])


def end_user(settings: Settings, principal: Principal, username: str) -> UserOut:
    """Deactivate an account (hub admins; never their own)."""
    _require_hub_admin(principal)
    with session_scope(settings) as session:
        admin = _user(session, principal)
        target = session.scalars(select(User).where(User.username == username)).first()
        if target is None:
            raise Refused(404, f"No user {username!r}")
        try:
            deactivate_user(session, target, admin)
        except AccountError as exc:
            raise Refused(409, _sentence(str(exc))) from None
        org = session.get(Organisation, target.organisation_id)
        assert org is not None
        return _user_out(target, org)


# --- API tokens (each user's own) ------------------------------------------------------------


def scopes_for(role: str) -> tuple[str, ...]:
    return ROLE_SCOPES.get(role, ("read",))


def _token_out(token: ApiToken) -> TokenOut:
    return TokenOut(
        prefix=token.prefix,
        name=token.name,
        scopes=[str(s) for s in token.scopes],
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def list_tokens(settings: Settings, principal: Principal) -> list[TokenOut]:
    with session_scope(settings) as session:
        user = _user(session, principal)
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        ).all()
        return [_token_out(t) for t in rows]


@dataclass(frozen=True)
class IssuedTokenOut:
    token: TokenOut
    plaintext: str = field(repr=False)


def add_token(
    settings: Settings, principal: Principal, name: str, scopes: Sequence[str], days: int
) -> IssuedTokenOut:
    allowed = scopes_for(principal.role)
    if not name.strip():
        raise Refused(422, "Enter a name for the token", "name")
    if len(name) > 120:
        raise Refused(422, "The name must be 120 characters or fewer", "name")
    if not scopes:
        raise Refused(422, "Select what the token may do", "scopes")
    if any(s not in allowed for s in scopes):
        raise Refused(422, f"Your role can use these scopes: {', '.join(allowed)}", "scopes")
    if days not in TOKEN_LIFETIMES:
        raise Refused(422, "Select when the token expires", "days")
    with session_scope(settings) as session:
        user = _user(session, principal)
        try:
            issued = create_token(
                session, user, name.strip(), list(scopes), utcnow() + timedelta(days=days)
            )
        except TokenError as exc:
            raise Refused(422, _sentence(str(exc)), "scopes") from None
        return IssuedTokenOut(_token_out(issued.token), issued.plaintext)


def end_token(settings: Settings, principal: Principal, prefix: str) -> TokenOut:
    """Revoke one of the principal's own tokens (anyone else's is not found)."""
    with session_scope(settings) as session:
        user = _user(session, principal)
        token = session.scalars(
            select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.user_id == user.id)
        ).first()
        if token is None:
            raise Refused(404, "No such token")
        if token.revoked_at is not None:
            raise Refused(409, "The token is already revoked")
        revoke_token(session, token, user)
        return _token_out(token)


# --- routes ----------------------------------------------------------------------------------

SignedIn = Annotated[Principal, Depends(require_principal)]
Owners = Annotated[Principal, Depends(require_roles(Role.DATA_OWNER, Role.DPO))]
DataOwner = Annotated[Principal, Depends(require_roles(Role.DATA_OWNER))]
Dpo = Annotated[Principal, Depends(require_roles(Role.DPO))]
Checker = Annotated[Principal, Depends(require_roles(Role.DPO, Role.HUB_ADMIN))]
HubAdmin = Annotated[Principal, Depends(require_roles(Role.HUB_ADMIN))]
#: Token scope (and, for changes, the CSRF check on cookie-authenticated calls) per route kind.
READ = [Depends(require_scope("read"))]
GOVERN = [Depends(require_scope("governance")), Depends(verify_csrf)]
ADMIN = [Depends(require_scope("admin")), Depends(verify_csrf)]
OWNERS = access(role(Role.DATA_OWNER, Role.DPO))


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "Not signed in, or the token is not valid",
        403: "The caller's role, organisation or token scope does not allow it",
        404: "Not found",
        409: "The current state does not allow it (the detail says why)",
        422: "The request is not valid (the detail says why)",
    }
    return {code: {"model": Message, "description": described[code]} for code in codes}


Reference = Annotated[str, Path(description="The agreement's reference", max_length=64)]


@router.get(
    "/agreements",
    response_model=list[AgreementSummary],
    summary="List sharing agreements",
    openapi_extra=access(SIGNED_IN),
    dependencies=READ,
    responses=_errors(401, 403),
)
def api_list_agreements(request: Request, principal: SignedIn) -> list[AgreementSummary]:
    """Every agreement, newest first, with its recorded and effective status."""
    del principal
    return list_agreements(request.app.state.settings)


@router.get(
    "/agreements/{reference}",
    response_model=AgreementDetail,
    summary="One sharing agreement",
    openapi_extra=access(SIGNED_IN),
    dependencies=READ,
    responses=_errors(401, 403, 404),
)
def api_get_agreement(
    request: Request, principal: SignedIn, reference: Reference
) -> AgreementDetail:
    """Parties, data, purposes, basis, DPIA, dates, approvals, history, and the steps the
    caller may take."""
    try:
        return get_agreement(request.app.state.settings, principal, reference)
    except Refused as exc:
        raise _http(exc) from None


def _draft(body: AgreementIn) -> AgreementDraft:
    return AgreementDraft(
        reference=body.reference,
        title=body.title,
        description=body.description,
        providers=tuple(body.providers),
        recipients=tuple(body.recipients),
        data=tuple(
            DataShare(
                provider=d.provider,
                dataset=d.dataset or None,
                standard=d.standard or None,
                fields=tuple(d.fields),
            )
            for d in body.data
        ),
        purposes=tuple(body.purposes),
        lawful_basis=body.lawful_basis,
        special_category_condition=body.special_category_condition or None,
        dpia_reference=body.dpia_reference,
        start_date=body.start_date,
        expiry_date=body.expiry_date,
        retention=body.retention,
    )


@router.post(
    "/agreements",
    response_model=AgreementDetail,
    status_code=201,
    summary="Draft a sharing agreement",
    openapi_extra=OWNERS,
    dependencies=GOVERN,
    responses=_errors(401, 403, 422),
)
def api_create_agreement(request: Request, principal: Owners, body: AgreementIn) -> Any:
    """Data owners and DPOs record a draft; propose it when it is ready."""
    for share in body.data:
        bad = [f for f in share.fields if not FIELD_NAME.match(f)]
        if bad:
            raise HTTPException(422, f"Not field names: {', '.join(bad)}")
    try:
        detail = create_agreement(request.app.state.settings, principal, _draft(body))
    except Refused as exc:
        raise _http(exc) from None
    return JSONResponse(
        detail.model_dump(mode="json"), status_code=201, headers={"Location": detail.url}
    )


def _step(
    request: Request, principal: Principal, reference: str, action: str, reason: str = ""
) -> AgreementDetail:
    try:
        detail, _ = agreement_action(
            request.app.state.settings, principal, reference, action, reason
        )
    except Refused as exc:
        raise _http(exc) from None
    return detail


STEP_ERRORS = _errors(401, 403, 404, 409)


@router.post(
    "/agreements/{reference}/propose",
    response_model=AgreementDetail,
    summary="Propose a draft agreement",
    openapi_extra=OWNERS,
    dependencies=GOVERN,
    responses=STEP_ERRORS,
)
def api_propose(request: Request, principal: Owners, reference: Reference) -> AgreementDetail:
    """A data owner or DPO of a party sends the draft to the providers for approval."""
    return _step(request, principal, reference, "propose")


@router.post(
    "/agreements/{reference}/approve",
    response_model=AgreementDetail,
    summary="Approve a proposed agreement",
    openapi_extra=access(role(Role.DATA_OWNER)),
    dependencies=GOVERN,
    responses=STEP_ERRORS,
)
def api_approve(request: Request, principal: DataOwner, reference: Reference) -> AgreementDetail:
    """A data owner of a provider approves; the agreement is active once every provider has."""
    return _step(request, principal, reference, "approve")


@router.post(
    "/agreements/{reference}/withdraw",
    response_model=AgreementDetail,
    summary="Withdraw a proposed agreement to draft",
    openapi_extra=OWNERS,
    dependencies=GOVERN,
    responses=STEP_ERRORS,
)
def api_withdraw(request: Request, principal: Owners, reference: Reference) -> AgreementDetail:
    """Back to draft; approvals so far are cleared."""
    return _step(request, principal, reference, "withdraw")


@router.post(
    "/agreements/{reference}/revoke",
    response_model=AgreementDetail,
    summary="Revoke an agreement",
    openapi_extra=OWNERS,
    dependencies=GOVERN,
    responses=_errors(401, 403, 404, 409, 422),
)
def api_revoke(
    request: Request, principal: Owners, reference: Reference, body: RevokeIn
) -> AgreementDetail:
    """Stops access under the agreement at once. A reason is required."""
    return _step(request, principal, reference, "revoke", body.reason)


@router.get(
    "/purposes",
    response_model=list[PurposeOut],
    summary="List the registered purposes",
    openapi_extra=access(SIGNED_IN),
    dependencies=READ,
    responses=_errors(401, 403),
)
def api_list_purposes(request: Request, principal: SignedIn) -> list[PurposeOut]:
    del principal
    return list_purposes(request.app.state.settings)


@router.post(
    "/purposes",
    response_model=PurposeOut,
    status_code=201,
    summary="Register a purpose",
    openapi_extra=access(role(Role.HUB_ADMIN)),
    dependencies=GOVERN,
    responses=_errors(401, 403, 409, 422),
)
def api_add_purpose(request: Request, principal: HubAdmin, body: PurposeIn) -> PurposeOut:
    """Hub admins register a processing purpose with its lawful basis."""
    spec = PurposeSpec(
        code=body.code,
        name=body.name,
        description=body.description,
        lawful_basis=body.lawful_basis,
        special_category_condition=body.special_category_condition or None,
        objection_allowed=body.objection_allowed,
    )
    try:
        return add_purpose(request.app.state.settings, principal, spec)
    except Refused as exc:
        raise _http(exc) from None


@router.get(
    "/audit/events",
    response_model=AuditPageOut,
    summary="Search the audit log",
    openapi_extra=access(role(Role.DPO)),
    dependencies=READ,
    responses=_errors(401, 403, 422),
)
def api_audit_events(
    request: Request,
    principal: Dpo,
    user: Annotated[str | None, Query(max_length=120, description="The actor's username")] = None,
    record: Annotated[
        str | None, Query(max_length=120, description="A resident id or source record id")
    ] = None,
    organisation: Annotated[
        str | None, Query(max_length=64, description="The actor's organisation code")
    ] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    decision: Annotated[Literal["allow", "deny"] | None, Query()] = None,
    agreement: Annotated[
        str | None, Query(max_length=64, description="Changes to it and reads under it")
    ] = None,
    date_from: Annotated[date | None, Query(description="From this UK day")] = None,
    date_to: Annotated[date | None, Query(description="To this UK day, included")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE_SIZE)] = AUDIT_PAGE_SIZE,
) -> AuditPageOut:
    """DPOs only, newest first. Reading the log is itself recorded in it."""
    settings = request.app.state.settings
    org_id = None
    if organisation:
        org_id = organisation_id(settings, organisation)
        if org_id is None:
            raise HTTPException(422, f"No organisation {organisation!r}")
    where = audit_filter(
        user=user,
        record=record,
        organisation_id=org_id,
        action=action,
        purpose=purpose,
        decision=decision,
        agreement=agreement,
        date_from=date_from,
        date_to=date_to,
    )
    try:
        return search_audit(settings, principal, where, page, page_size).page
    except Refused as exc:
        raise _http(exc) from None


@router.get(
    "/audit/verify",
    response_model=VerifyOut,
    summary="Check the audit log's hash chain",
    openapi_extra=access(role(Role.DPO, Role.HUB_ADMIN)),
    dependencies=READ,
    responses=_errors(401, 403),
)
def api_audit_verify(request: Request, principal: Checker) -> VerifyOut:
    """Walks every entry; any edited, deleted or reordered entry is reported where it is.
    DPOs and hub admins."""
    try:
        return verify_audit(request.app.state.settings, principal)
    except Refused as exc:
        raise _http(exc) from None


@router.get(
    "/objections",
    response_model=list[ObjectionOut],
    summary="List residents' objections",
    openapi_extra=access(role(Role.DPO)),
    dependencies=READ,
    responses=_errors(401, 403),
)
def api_list_objections(request: Request, principal: Dpo) -> list[ObjectionOut]:
    """DPOs only; live and withdrawn, newest first."""
    try:
        return list_objections(request.app.state.settings, principal)
    except Refused as exc:
        raise _http(exc) from None


@router.post(
    "/objections",
    response_model=ObjectionOut,
    status_code=201,
    summary="Record a resident's objection",
    openapi_extra=access(role(Role.DPO)),
    dependencies=GOVERN,
    responses=_errors(401, 403, 422),
)
def api_add_objection(request: Request, principal: Dpo, body: ObjectionIn) -> ObjectionOut:
    """Name the resident by resident id, or by one source record (organisation, dataset and
    source record id). Without a purpose it applies to every purpose that allows objection."""
    subject = ObjectionSubject(
        resident_id=body.resident_id or None,
        organisation=body.organisation or None,
        dataset=body.dataset or None,
        source_record_id=body.source_record_id or None,
    )
    try:
        return add_objection(
            request.app.state.settings, principal, subject, body.purpose or None, body.note
        )
    except Refused as exc:
        raise _http(exc) from None


@router.post(
    "/objections/{objection_id}/withdraw",
    response_model=ObjectionOut,
    summary="Withdraw an objection",
    openapi_extra=access(role(Role.DPO)),
    dependencies=GOVERN,
    responses=_errors(401, 403, 404, 409),
)
def api_withdraw_objection(
    request: Request, principal: Dpo, objection_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> ObjectionOut:
    try:
        return end_objection(request.app.state.settings, principal, objection_id)
    except Refused as exc:
        raise _http(exc) from None


@router.get(
    "/organisations",
    response_model=list[OrganisationOut],
    summary="List organisations",
    openapi_extra=access(role(Role.HUB_ADMIN)),
    dependencies=READ,
    responses=_errors(401, 403),
)
def api_list_organisations(request: Request, principal: HubAdmin) -> list[OrganisationOut]:
    try:
        return list_organisations(request.app.state.settings, principal)
    except Refused as exc:
        raise _http(exc) from None


@router.post(
    "/organisations",
    response_model=OrganisationOut,
    status_code=201,
    summary="Register an organisation",
    openapi_extra=access(role(Role.HUB_ADMIN)),
    dependencies=ADMIN,
    responses=_errors(401, 403, 409, 422),
)
def api_add_organisation(
    request: Request, principal: HubAdmin, body: OrganisationIn
) -> OrganisationOut:
    """Councils need their ONS GSS code (a local authority's: E06–E10, W06, S12 or N09)."""
    try:
        return add_organisation(
            request.app.state.settings,
            principal,
            body.code,
            body.name,
            body.type.value,
            body.gss_code,
        )
    except Refused as exc:
        raise _http(exc) from None


@router.get(
    "/users",
    response_model=list[UserOut],
    summary="List user accounts",
    openapi_extra=access(role(Role.HUB_ADMIN)),
    dependencies=READ,
    responses=_errors(401, 403),
)
def api_list_users(request: Request, principal: HubAdmin) -> list[UserOut]:
    try:
        return list_users(request.app.state.settings, principal)
    except Refused as exc:
        raise _http(exc) from None


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=201,
    summary="Create a user account",
    openapi_extra=access(role(Role.HUB_ADMIN)),
    dependencies=ADMIN,
    responses=_errors(401, 403, 422),
)
def api_add_user(request: Request, principal: HubAdmin, body: UserIn) -> UserCreated:
    """The generated password is in this answer only; it is stored as an argon2 hash."""
    try:
        return add_user(
            request.app.state.settings,
            principal,
            username=body.username,
            display_name=body.display_name,
            email=body.email,
            organisation=body.organisation,
            role=body.role.value,
        )
    except Refused as exc:
        raise _http(exc) from None


@router.post(
    "/users/{username}/deactivate",
    response_model=UserOut,
    summary="Deactivate a user account",
    openapi_extra=access(role(Role.HUB_ADMIN)),
    dependencies=ADMIN,
    responses=_errors(401, 403, 404, 409),
)
def api_deactivate_user(
    request: Request, principal: HubAdmin, username: Annotated[str, Path(max_length=120)]
) -> UserOut:
    """The account can no longer sign in or use its tokens. Accounts are never deleted."""
    try:
        return end_user(request.app.state.settings, principal, username)
    except Refused as exc:
        raise _http(exc) from None
