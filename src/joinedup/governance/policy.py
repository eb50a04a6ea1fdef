"""The one policy decision: may this user, for this organisation and purpose, read these fields
of this dataset? Every read of personal data — API, page, export, job — asks this function.

The user must be granted the purpose (:mod:`joinedup.governance.grants`): a purpose is
granted, never claimed. It returns allow or deny with the reason: the agreement that allows the
read, or the missing condition. Callers audit the decision with :mod:`joinedup.governance.access`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from joinedup.catalog.models import (
    Agreement,
    AgreementParty,
    AgreementStatus,
    Organisation,
    PartyRole,
    Purpose,
    Role,
    User,
)
from joinedup.governance.grants import standing
from joinedup.metrics import count_decision

#: Roles whose work needs personal data. Hub admins run the service but never read residents.
PERSONAL_DATA_ROLES = frozenset({Role.DATA_OWNER, Role.ANALYST, Role.CASEWORKER, Role.DPO})
ALL_FIELDS = "*"


@dataclass(frozen=True)
class AccessRequest:
    """Who wants what, for which purpose."""

    user_id: int
    organisation_id: int
    purpose: str
    provider_id: int
    dataset: str
    standard: str
    fields: tuple[str, ...]
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Decision:
    """Allow or deny, why, and under which agreement; ``fields`` are those that may be read."""

    allow: bool
    reason: str
    agreement_id: int | None = None
    agreement_reference: str | None = None
    fields: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return "allow" if self.allow else "deny"


def _deny(reason: str, agreement: Agreement | None = None) -> Decision:
    return Decision(
        False,
        reason,
        agreement.id if agreement else None,
        agreement.reference if agreement else None,
    )


def effective_status(agreement: Agreement, today: date) -> str:
    """The status that governs access today: an active agreement past its dates is not active."""
    if agreement.status == AgreementStatus.ACTIVE.value:
        if today > agreement.expiry_date:
            return AgreementStatus.EXPIRED.value
        if today < agreement.start_date:
            return "not yet started"
    return agreement.status


def _shared_fields(agreement: Agreement, req: AccessRequest) -> set[str] | None:
    """Fields of the requested dataset this agreement shares, or None if it covers none."""
    shared: set[str] | None = None
    for item in agreement.data:
        if item.provider_id != req.provider_id:
            continue
        if item.dataset is not None and item.dataset != req.dataset:
            continue
        if item.standard is not None and item.standard != req.standard:
            continue
        shared = (shared or set()) | {str(f) for f in item.fields}
    return shared


def _is_party(agreement: Agreement, organisation_id: int, role: PartyRole) -> bool:
    """A party in ``role`` that has not withdrawn from the agreement."""
    return any(
        p.organisation_id == organisation_id and p.role == role.value and p.withdrawn_at is None
        for p in agreement.parties
    )


def _check_agreement(agreement: Agreement, req: AccessRequest) -> Decision:
    status = effective_status(agreement, req.today)
    if status != AgreementStatus.ACTIVE.value:
        when = {
            AgreementStatus.EXPIRED.value: f" (expired {agreement.expiry_date.isoformat()})",
            "not yet started": f" (starts {agreement.start_date.isoformat()})",
        }.get(status, "")
        return _deny(f"agreement {agreement.reference} is {status}{when}", agreement)
    if req.purpose not in {p.code for p in agreement.purposes}:
        return _deny(
            f"agreement {agreement.reference} does not cover the purpose {req.purpose}", agreement
        )
    shared = _shared_fields(agreement, req)
    if shared is None:
        return _deny(
            f"agreement {agreement.reference} does not share the dataset {req.dataset}", agreement
        )
    allowed = req.fields if ALL_FIELDS in shared else tuple(f for f in req.fields if f in shared)
    missing = [f for f in req.fields if f not in allowed]
    if missing:
        return Decision(
            False,
            f"agreement {agreement.reference} does not share field(s) {', '.join(missing)}",
            agreement.id,
            agreement.reference,
            allowed,
        )
    return Decision(
        True,
        f"allowed by agreement {agreement.reference}",
        agreement.id,
        agreement.reference,
        allowed,
    )


class Policy:
    """The policy decision for one requester acting under one purpose on one day, for any
    number of reads: what it needs from the catalogue (the user, the purpose and its grant, the
    agreements the requester's organisation receives under) is read once, then each read is
    decided in memory. Each :meth:`decide` gives exactly what :func:`decide` gives for the same
    :class:`AccessRequest`; a page that decides many values uses one per request.

    With ``user_id`` None it decides for the organisation alone (a service acting for it, see
    :func:`decide_for_organisation`)."""

    def __init__(
        self,
        session: Session,
        user_id: int | None,
        organisation_id: int,
        purpose: str,
        today: date | None = None,
    ) -> None:
        self.session, self.organisation_id, self.purpose = session, organisation_id, purpose
        self.today = today or date.today()
        self.kind = "organisation" if user_id is None else "user"
        self.refusal: Decision | None = None
        if user_id is not None:
            self.refusal = self._check_user(user_id)  # the purpose's registration too
        elif self._purpose_id() is None:
            self.refusal = _deny(f"no registered purpose {purpose!r}")
        self.agreements: list[Agreement] = []
        if self.refusal is None:
            # only the agreements the organisation receives under (as the filter below),
            # each with its parties and purposes in the same statement (few rows each)
            receives = (
                select(AgreementParty.id)
                .where(
                    AgreementParty.agreement_id == Agreement.id,
                    AgreementParty.organisation_id == organisation_id,
                    AgreementParty.role == PartyRole.RECIPIENT.value,
                    AgreementParty.withdrawn_at.is_(None),
                )
                .exists()
            )
            agreements = (
                session.scalars(
                    select(Agreement)
                    .where(receives)
                    .order_by(Agreement.id)
                    .options(
                        joinedload(Agreement.parties),
                        joinedload(Agreement.purposes),
                        selectinload(Agreement.data),
                    )
                )
                .unique()
                .all()
            )
            self.agreements = [
                a for a in agreements if _is_party(a, organisation_id, PartyRole.RECIPIENT)
            ]

    def _purpose_id(self) -> int | None:
        found = self.session.scalar(select(Purpose.id).where(Purpose.code == self.purpose))
        return int(found) if found is not None else None

    def _check_user(self, user_id: int) -> Decision | None:
        user = self.session.get(User, user_id)
        if user is None or not user.is_active:
            return _deny("the account does not exist or is disabled")
        if user.organisation_id != self.organisation_id:
            return _deny("the user does not act for this organisation")
        if user.role not in PERSONAL_DATA_ROLES:
            return _deny(f"the role {user.role} does not read personal data")
        found = standing(self.session, self.purpose, user.role, user.organisation_id)
        if not found.registered:
            return _deny(f"no registered purpose {self.purpose!r}")
        if not found.granted:
            return _deny(f"the role {user.role} is not granted the purpose {self.purpose}")
        return None

    def decide(
        self, provider_id: int, dataset: str, standard: str, fields: tuple[str, ...]
    ) -> Decision:
        """May the requester read ``fields`` of ``dataset`` held by ``provider_id``? (Counted
        in the metrics by outcome, as :func:`decide` is.)"""
        decision = self._decide(
            AccessRequest(
                user_id=0,
                organisation_id=self.organisation_id,
                purpose=self.purpose,
                provider_id=provider_id,
                dataset=dataset,
                standard=standard,
                fields=fields,
                today=self.today,
            )
        )
        count_decision(decision.allow, self.kind)
        return decision

    def _decide(self, req: AccessRequest) -> Decision:
        if self.refusal is not None:
            return self.refusal
        if req.provider_id == req.organisation_id:
            return Decision(
                True, "the organisation's own data (it is the controller)", None, None, req.fields
            )
        best: Decision | None = None
        for agreement in self.agreements:
            if not _is_party(agreement, req.provider_id, PartyRole.PROVIDER):
                continue
            decision = _check_agreement(agreement, req)
            if decision.allow:
                return decision
            if best is None or len(decision.fields) > len(best.fields):
                best = decision
        if best is not None:
            return best
        provider = self.session.get(Organisation, req.provider_id)
        recipient = self.session.get(Organisation, req.organisation_id)
        return _deny(
            f"no agreement shares {provider.code if provider else 'that organisation'}'s data "
            f"with {recipient.code if recipient else 'this organisation'}"
        )


def _policy(session: Session, req: AccessRequest, user_id: int | None) -> Policy:
    return Policy(session, user_id, req.organisation_id, req.purpose, req.today)


def decide(session: Session, req: AccessRequest) -> Decision:
    """The policy decision for one read of personal data (counted in the metrics by outcome)."""
    return _policy(session, req, req.user_id).decide(
        req.provider_id, req.dataset, req.standard, req.fields
    )


def decide_for_organisation(session: Session, req: AccessRequest) -> Decision:
    """The organisation's part of the decision: purpose, controller, agreements.

    :func:`decide` makes it after checking the user; a service acting for the organisation
    with no user (a linkage job, see :mod:`joinedup.governance.processing`) calls this
    directly. ``req.user_id`` is not read.
    """
    return _policy(session, req, None).decide(
        req.provider_id, req.dataset, req.standard, req.fields
    )
