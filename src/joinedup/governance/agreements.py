"""Sharing agreements and their lifecycle.

draft → proposed → (approved by every provider's data owner) → active → expired | revoked.
An agreement becomes active only when each of its purposes has an ethics record in force
(:mod:`joinedup.governance.ethics`); until then the last approval is refused.
A draft or proposed agreement can be withdrawn back to draft. Every transition is stored as an
:class:`AgreementEvent` and in the audit log, in the same transaction.

One party may withdraw from an active agreement (``leave``) without ending it for the others,
as long as another provider and another recipient remain: its data is no longer shared and it
receives nothing from then on. ``revoke`` ends the agreement for every party.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.models import (
    Agreement,
    AgreementApproval,
    AgreementData,
    AgreementEvent,
    AgreementParty,
    AgreementStatus,
    Organisation,
    PartyRole,
    Purpose,
    Role,
    User,
)
from joinedup.catalog.types import utcnow
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_by, append_event
from joinedup.governance.audit_actions import AuditAction, agreement_moved
from joinedup.governance.ethics import activation_problem
from joinedup.governance.policy import effective_status


class AgreementError(JoinedupError, ValueError):
    """A step the agreement's state does not allow (409), or a draft that breaks a rule (422,
    with the draft's ``field`` at fault); the message says why."""

    status = 409
    capitalised = True


class AgreementPermissionError(AgreementError):
    """The user may not take this step (their role or organisation), whatever the status."""

    status = 403


#: The lifecycle steps a person can take on an agreement (see :func:`check_action`).
ACTIONS = ("propose", "approve", "withdraw", "leave", "revoke")


@dataclass(frozen=True)
class DataShare:
    provider: str  # organisation code
    dataset: str | None = None
    standard: str | None = None
    fields: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class AgreementDraft:
    reference: str
    title: str
    providers: tuple[str, ...]
    recipients: tuple[str, ...]
    data: tuple[DataShare, ...]
    purposes: tuple[str, ...]
    lawful_basis: str
    dpia_reference: str
    start_date: date
    expiry_date: date
    retention: str
    description: str = ""
    special_category_condition: str | None = None


def _org(session: Session, code: str) -> Organisation:
    org = session.scalars(select(Organisation).where(Organisation.code == code)).first()
    if org is None:
        raise AgreementError(f"no organisation {code!r}", status=422, field="providers")
    return org


def _transition(
    session: Session, agreement: Agreement, to: AgreementStatus, user: User | None, note: str = ""
) -> None:
    previous = agreement.status
    agreement.status = to.value
    session.add(
        AgreementEvent(
            agreement_id=agreement.id,
            from_status=previous,
            to_status=to.value,
            user_id=user.id if user else None,
            note=note,
        )
    )
    append_event(
        session,
        actor=user.username if user else "system",
        actor_user_id=user.id if user else None,
        organisation_id=user.organisation_id if user else None,
        action=agreement_moved(to),
        target_type="agreement",
        target_id=agreement.reference,
        details={"from": previous, "to": to.value, "note": note},
    )


def create_draft(session: Session, draft: AgreementDraft, user: User | None) -> Agreement:
    """Record a new agreement in draft."""
    if draft.expiry_date <= draft.start_date:
        raise AgreementError(
            "the expiry date must be after the start date", status=422, field="expiry_date"
        )
    if not draft.providers or not draft.recipients or not draft.data or not draft.purposes:
        raise AgreementError(
            "an agreement needs providers, recipients, data and purposes",
            status=422,
            field="purposes",
        )
    if session.scalars(select(Agreement).where(Agreement.reference == draft.reference)).first():
        raise AgreementError(
            f"an agreement {draft.reference!r} already exists", status=422, field="reference"
        )
    purposes = []
    for code in draft.purposes:
        purpose = session.scalars(select(Purpose).where(Purpose.code == code)).first()
        if purpose is None:
            raise AgreementError(f"no registered purpose {code!r}", status=422, field="purposes")
        purposes.append(purpose)
    for share in draft.data:
        if share.provider not in draft.providers:
            raise AgreementError(
                f"{share.provider} shares data but is not a provider party",
                status=422,
                field="data",
            )
    agreement = Agreement(
        reference=draft.reference,
        title=draft.title,
        description=draft.description,
        lawful_basis=draft.lawful_basis,
        special_category_condition=draft.special_category_condition,
        dpia_reference=draft.dpia_reference,
        start_date=draft.start_date,
        expiry_date=draft.expiry_date,
        retention=draft.retention,
        created_by_id=user.id if user else None,
        status=AgreementStatus.DRAFT.value,
        purposes=purposes,
    )
    for code in draft.providers:
        agreement.parties.append(
            AgreementParty(organisation_id=_org(session, code).id, role=PartyRole.PROVIDER.value)
        )
    for code in draft.recipients:
        agreement.parties.append(
            AgreementParty(organisation_id=_org(session, code).id, role=PartyRole.RECIPIENT.value)
        )
    for share in draft.data:
        agreement.data.append(
            AgreementData(
                provider_id=_org(session, share.provider).id,
                dataset=share.dataset,
                standard=share.standard,
                fields=list(share.fields),
            )
        )
    session.add(agreement)
    session.flush()
    _transition(session, agreement, AgreementStatus.DRAFT, user, "created")
    return agreement


def provider_ids(agreement: Agreement) -> set[int]:
    return {p.organisation_id for p in agreement.parties if p.role == PartyRole.PROVIDER.value}


def _may_act_for_a_party(agreement: Agreement, user: User) -> bool:
    party_ids = {p.organisation_id for p in agreement.parties if p.withdrawn_at is None}
    return user.organisation_id in party_ids and user.role in {Role.DATA_OWNER, Role.DPO}


def _remaining(agreement: Agreement, leaving: int) -> tuple[set[int], set[int]]:
    """Providers and recipients that stay if ``leaving`` withdraws."""
    stay = [p for p in agreement.parties if p.withdrawn_at is None and p.organisation_id != leaving]
    providers = {p.organisation_id for p in stay if p.role == PartyRole.PROVIDER.value}
    recipients = {p.organisation_id for p in stay if p.role == PartyRole.RECIPIENT.value}
    return providers, recipients


def check_action(agreement: Agreement, user: User, action: str) -> AgreementError | None:
    """Why ``user`` may not take ``action`` on ``agreement`` now, or None if they may.

    The lifecycle functions below raise exactly this error, so pages can offer only the steps
    that will succeed. :class:`AgreementPermissionError` means the user may never take the step
    on this agreement; a plain :class:`AgreementError` means its status does not allow it now.
    """
    status = agreement.status
    if action == "propose":
        if status != AgreementStatus.DRAFT.value:
            return AgreementError(f"only a draft can be proposed; this one is {status}")
        if not _may_act_for_a_party(agreement, user):
            return AgreementPermissionError(
                "only a data owner or DPO of a party can propose an agreement"
            )
    elif action == "approve":
        if status != AgreementStatus.PROPOSED.value:
            return AgreementError(f"only a proposed agreement can be approved; it is {status}")
        if user.role != Role.DATA_OWNER or user.organisation_id not in provider_ids(agreement):
            return AgreementPermissionError(
                "only a data owner of an organisation whose data it covers approves"
            )
        if any(a.organisation_id == user.organisation_id for a in agreement.approvals):
            return AgreementError("your organisation has already approved this agreement")
    elif action == "withdraw":
        if status != AgreementStatus.PROPOSED.value:
            return AgreementError("only a proposed agreement can be withdrawn to draft")
        if not _may_act_for_a_party(agreement, user):
            return AgreementPermissionError(
                "only a data owner or DPO of a party can withdraw an agreement"
            )
    elif action == "leave":
        if status != AgreementStatus.ACTIVE.value:
            return AgreementError(
                f"a party withdraws only from an active agreement; it is {status}"
            )
        if not _may_act_for_a_party(agreement, user):
            return AgreementPermissionError(
                "only a data owner or DPO of a party can withdraw it from an agreement"
            )
        providers, recipients = _remaining(agreement, user.organisation_id)
        if not any(p != r for p in providers for r in recipients):
            return AgreementError(
                "without your organisation nothing would be shared: revoke the agreement instead"
            )
    elif action == "revoke":
        if status in {AgreementStatus.REVOKED.value, AgreementStatus.EXPIRED.value}:
            return AgreementError(f"the agreement is already {status}")
        if not _may_act_for_a_party(agreement, user):
            return AgreementPermissionError(
                "only a data owner or DPO of a party can revoke an agreement"
            )
    else:
        raise ValueError(f"unknown agreement action {action!r}")
    return None


def available_actions(agreement: Agreement, user: User) -> list[str]:
    """The lifecycle steps ``user`` may take on ``agreement`` now, in :data:`ACTIONS` order."""
    return [a for a in ACTIONS if check_action(agreement, user, a) is None]


def _check(agreement: Agreement, user: User, action: str) -> None:
    error = check_action(agreement, user, action)
    if error is not None:
        raise error


def propose(session: Session, agreement: Agreement, user: User) -> None:
    _check(agreement, user, "propose")
    _transition(session, agreement, AgreementStatus.PROPOSED, user)


def approve(session: Session, agreement: Agreement, user: User, today: date | None = None) -> bool:
    """A provider's data owner approves; the agreement becomes active once all have.

    Returns True when this approval activated the agreement.
    """
    today = today or date.today()
    _check(agreement, user, "approve")
    agreement.approvals.append(
        AgreementApproval(organisation_id=user.organisation_id, user_id=user.id)
    )
    session.flush()
    append_by(
        session,
        user,
        AuditAction.AGREEMENT_APPROVE,
        target_type="agreement",
        target_id=agreement.reference,
    )
    approved = {a.organisation_id for a in agreement.approvals}
    if provider_ids(agreement) <= approved:
        if today > agreement.expiry_date:
            raise AgreementError("the agreement's expiry date has passed; it cannot be activated")
        ethics = activation_problem(session, agreement, today)
        if ethics is not None:  # the approval above is rolled back with the refusal
            raise AgreementError(ethics, field="ethics")
        _transition(session, agreement, AgreementStatus.ACTIVE, user, "approved by every provider")
        return True
    return False


def withdraw(session: Session, agreement: Agreement, user: User) -> None:
    """Take a proposed agreement back to draft (approvals are cleared)."""
    _check(agreement, user, "withdraw")
    agreement.approvals.clear()
    _transition(session, agreement, AgreementStatus.DRAFT, user, "withdrawn")


def leave(session: Session, agreement: Agreement, user: User, note: str) -> None:
    """Withdraw the user's organisation from an active agreement (audited): from this
    transaction it neither provides nor receives; the others go on under the agreement."""
    _check(agreement, user, "leave")
    if not note.strip():
        raise AgreementError("give a reason for withdrawing from the agreement")
    now = utcnow()
    for party in agreement.parties:
        if party.organisation_id == user.organisation_id and party.withdrawn_at is None:
            party.withdrawn_at = now
    session.add(
        AgreementEvent(
            agreement_id=agreement.id,
            from_status=agreement.status,
            to_status=agreement.status,
            user_id=user.id,
            note=f"party withdrew: {note}"[:500],
        )
    )
    append_by(
        session,
        user,
        AuditAction.AGREEMENT_PARTY_LEAVE,
        target_type="agreement",
        target_id=agreement.reference,
        details={"note": note},
    )


def revoke(session: Session, agreement: Agreement, user: User, note: str) -> None:
    """Stop an agreement at once. Access ends with this transaction."""
    _check(agreement, user, "revoke")
    if not note.strip():
        raise AgreementError("give a reason for revoking the agreement")
    _transition(session, agreement, AgreementStatus.REVOKED, user, note)


def expire_due(session: Session, today: date | None = None) -> list[str]:
    """Record the expiry of active agreements past their date (access already stopped)."""
    today = today or date.today()
    expired = []
    for agreement in session.scalars(
        select(Agreement).where(Agreement.status == AgreementStatus.ACTIVE.value)
    ):
        if effective_status(agreement, today) == AgreementStatus.EXPIRED.value:
            _transition(session, agreement, AgreementStatus.EXPIRED, None, "expiry date passed")
            expired.append(agreement.reference)
    return expired
