"""Sharing agreements: list, read, draft and take lifecycle steps (the use cases the API and
the pages share). Every change goes through :mod:`joinedup.governance.agreements`, which audits
it in the same transaction; a refusal is a :class:`joinedup.errors.JoinedupError`."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Agreement,
    AgreementStatus,
    Organisation,
    OrganisationType,
    PartyRole,
    Role,
    User,
)
from joinedup.config import Settings
from joinedup.constraints import Matching
from joinedup.errors import Refused
from joinedup.governance import agreements as lifecycle
from joinedup.governance.agreements import (
    AgreementDraft,
    DataShare,
    available_actions,
    create_draft,
)
from joinedup.governance.policy import effective_status
from joinedup.governance.service.common import (
    MAX_NOTE,
    Caller,
    current_user,
    usernames,
)

API_ROOT = "/api/v1"
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
REFERENCE_RULE = "The reference must be up to 64 letters, digits, dots, dashes and underscores"
FIELD_NAME = re.compile(r"^(\*|[a-z][a-z0-9_]{0,63})$")
FIELD_RULE = "A field name is lower-case letters, digits and _ (a letter first), or * for all"
DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,119}$")


def _q(value: str) -> str:
    return quote(value, safe="")


def agreement_path(reference: str) -> str:
    """``/agreements/{reference}``: the page; prefix :data:`API_ROOT` for the API."""
    return f"/agreements/{_q(reference)}"


class DataShareIn(BaseModel):
    provider: str = Field(description="The providing organisation's code", max_length=64)
    dataset: str | None = Field(None, description="One dataset, or none for every dataset")
    standard: str | None = Field(None, description="Every dataset of this standard")
    fields: list[Annotated[str, Matching(FIELD_NAME.pattern, FIELD_RULE)]] = Field(
        ["*"], description='Fields shared; ["*"] for all', min_length=1
    )


class DataShareOut(BaseModel):
    provider: str
    provider_name: str
    dataset: str | None
    standard: str | None
    fields: list[str]


class AgreementIn(BaseModel):
    reference: Annotated[str, Matching(REFERENCE.pattern, REFERENCE_RULE)] = Field(
        max_length=64, description="Letters, digits, dots, dashes, _"
    )
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
    withdrawn: bool = Field(False, description="The party withdrew from the agreement")


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
    found = [
        (orgs[p.organisation_id], p.withdrawn_at is not None)
        for p in agreement.parties
        if p.role == role.value
    ]
    return [
        Party(code=o.code, name=o.name, withdrawn=gone)
        for o, gone in sorted(found, key=lambda f: f[0].name)
    ]


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


def awaiting_approval(
    settings: Settings, organisation_id: int, today: date | None = None
) -> list[AgreementSummary]:
    """Proposed agreements that wait for this organisation's approval (it provides data
    under them and has not approved yet), oldest first."""
    today = today or date.today()
    with session_scope(settings) as session:
        orgs = _organisations(session)
        proposed = session.scalars(
            _agreement_query()
            .where(Agreement.status == AgreementStatus.PROPOSED.value)
            .order_by(Agreement.id)
        ).all()
        return [
            AgreementSummary(**_summary(a, orgs, today))
            for a in proposed
            if organisation_id in lifecycle.provider_ids(a)
            and organisation_id not in {approval.organisation_id for approval in a.approvals}
        ]


def _find_agreement(session: Session, reference: str) -> Agreement:
    found = session.scalars(_agreement_query().where(Agreement.reference == reference)).first()
    if found is None:
        raise Refused(404, f"No agreement {reference!r}")
    return found


def _detail(session: Session, agreement: Agreement, user: User, today: date) -> AgreementDetail:
    orgs = _organisations(session)
    names = usernames(
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
    settings: Settings, principal: Caller, reference: str, today: date | None = None
) -> AgreementDetail:
    with session_scope(settings) as session:
        user = current_user(session, principal)
        return _detail(session, _find_agreement(session, reference), user, today or date.today())


def check_reference(reference: str) -> str | None:
    """Why a reference is not acceptable, or None."""
    if not reference:
        return "Enter a reference"
    if not REFERENCE.match(reference):
        return REFERENCE_RULE
    return None


def may_draft(principal: Caller) -> bool:
    return principal.role in (Role.DATA_OWNER, Role.DPO)


def create_agreement(
    settings: Settings, principal: Caller, draft: AgreementDraft
) -> AgreementDetail:
    """Record a draft (audited). Data owners and DPOs draft agreements their organisation is
    a party to; a DPO of the hub may draft one between other organisations."""
    if not may_draft(principal):
        raise Refused(403, "Only data owners and data protection officers draft agreements")
    problem = check_reference(draft.reference)
    if problem:
        raise Refused(422, problem, "reference")
    with session_scope(settings) as session:
        user = current_user(session, principal)
        org = session.get(Organisation, user.organisation_id)
        parties = set(draft.providers) | set(draft.recipients)
        hub_dpo = user.role == Role.DPO and org is not None and org.type == OrganisationType.HUB
        if org is not None and org.code not in parties and not hub_dpo:
            raise Refused(
                403,
                f"Your organisation ({org.name}) must be a provider or a recipient",
                "providers",
            )
        agreement = create_draft(session, draft, user)
        return _detail(session, agreement, user, date.today())


def agreement_action(
    settings: Settings,
    principal: Caller,
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
        user = current_user(session, principal)
        agreement = _find_agreement(session, reference)
        if action in ("revoke", "leave"):
            if not reason:
                what = "revoking the agreement" if action == "revoke" else "withdrawing from it"
                raise Refused(422, f"Enter the reason for {what}", "reason")
            if len(reason) > MAX_NOTE:
                raise Refused(422, f"The reason must be {MAX_NOTE} characters or fewer", "reason")
        if action == "propose":
            lifecycle.propose(session, agreement, user)
        elif action == "approve":
            activated = lifecycle.approve(session, agreement, user, today)
        elif action == "withdraw":
            lifecycle.withdraw(session, agreement, user)
        elif action == "leave":
            lifecycle.leave(session, agreement, user, reason)
        else:
            lifecycle.revoke(session, agreement, user, reason)
        session.flush()
        session.expire(agreement, ["events", "approvals"])  # the core added rows to both
        return _detail(session, agreement, user, today), activated


def draft_from(body: AgreementIn) -> AgreementDraft:
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
