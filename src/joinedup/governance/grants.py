"""Purposes are granted, not claimed: the register of which roles may act under which purpose.

A grant names a purpose, a role and an organisation (or every organisation). A user acts under
a purpose only if a grant names their role and their organisation (or every organisation):
:func:`is_granted`, which the one policy decision (:func:`joinedup.governance.policy.decide`)
and the web's purpose check both ask. ``subject-access`` belongs to the DPO role alone: no
grant gives it to another role, and none is needed to refuse it to them.

Data owners manage the grants of their own organisation; DPOs those of any organisation and
those for every organisation; the CLI (the operator) any. Every grant, revocation and refused
purpose is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Exists, or_, select
from sqlalchemy.orm import Session

from joinedup.catalog.models import Organisation, Purpose, PurposeGrant, Role, User
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction

SUBJECT_ACCESS = "subject-access"
#: Purposes that belong to one role alone, whatever the register says.
RESERVED: dict[str, Role] = {SUBJECT_ACCESS: Role.DPO}
#: Roles that never act under a purpose (they never read personal data).
NO_PURPOSES = frozenset({Role.HUB_ADMIN.value})

#: The grants a new register starts with: every organisation's roles as their work needs.
#: ``fraud-prevention`` is granted to nobody until a data owner or DPO grants it.
DEFAULT_GRANTS: dict[str, tuple[Role, ...]] = {
    "fsm": (Role.DATA_OWNER, Role.ANALYST, Role.CASEWORKER),
    "early-help": (Role.DATA_OWNER, Role.ANALYST, Role.CASEWORKER),
    "statistics": (Role.DATA_OWNER, Role.ANALYST),
    "linkage": (Role.DATA_OWNER, Role.ANALYST),
    "fraud-prevention": (),
    SUBJECT_ACCESS: (Role.DPO,),
}


class GrantError(JoinedupError):
    """A grant that cannot be made or revoked as asked (422, 403, 404 or 409)."""

    capitalised = True


@dataclass(frozen=True)
class GrantView:
    purpose: str
    role: str
    organisation: str | None  # None: every organisation
    granted_by: str
    granted_at: str


def _reserved_refused(purpose: str, role: str) -> bool:
    """Refused whatever the register says: a purpose reserved to another role, or a role
    that never acts under a purpose."""
    reserved = RESERVED.get(purpose)
    return (reserved is not None and role != reserved.value) or role in NO_PURPOSES


def grant_exists(purpose_id: Any, role: Any, organisation_id: Any) -> Exists:
    """SQL: a grant of the purpose ``purpose_id`` to ``role`` in ``organisation_id`` (or in
    every organisation) is in the register. The arguments are values or columns, so callers
    can ask it inside a larger statement (the web's sign-in check does)."""
    return (
        select(PurposeGrant.id)
        .where(
            PurposeGrant.purpose_id == purpose_id,
            PurposeGrant.role == role,
            or_(
                PurposeGrant.organisation_id.is_(None),
                PurposeGrant.organisation_id == organisation_id,
            ),
        )
        .exists()
    )


def granted(purpose: str, role: str, in_register: bool) -> bool:
    """:func:`is_granted`'s answer, given whether :func:`grant_exists` found a grant."""
    return in_register and not _reserved_refused(purpose, role)


@dataclass(frozen=True)
class Standing:
    """A purpose's registration and whether it is granted to a role in an organisation."""

    registered: bool
    granted: bool


def standing(session: Session, purpose: str, role: str, organisation_id: int) -> Standing:
    """Is ``purpose`` registered, and granted to ``role`` in ``organisation_id``? One
    statement (:func:`is_granted` and the registration look-up together)."""
    row = session.execute(
        select(Purpose.id, grant_exists(Purpose.id, role, organisation_id)).where(
            Purpose.code == purpose
        )
    ).first()
    if row is None:
        return Standing(False, False)
    return Standing(True, granted(purpose, role, bool(row[1])))


def is_granted(session: Session, purpose: str, role: str, organisation_id: int) -> bool:
    """May a user of ``role`` in ``organisation_id`` act under ``purpose``?"""
    if _reserved_refused(purpose, role):
        return False
    return standing(session, purpose, role, organisation_id).granted


def granted_purposes(session: Session, role: str, organisation_id: int) -> list[str]:
    """The codes of the purposes a user of ``role`` in ``organisation_id`` may act under."""
    codes = session.scalars(select(Purpose.code).order_by(Purpose.code))
    return [c for c in codes if is_granted(session, c, role, organisation_id)]


def list_grants(session: Session, organisation_id: int | None = None) -> list[GrantView]:
    """Every grant (or those that apply in ``organisation_id``), by purpose, role, organisation."""
    query = (
        select(PurposeGrant, Purpose.code, Organisation.code)
        .join(Purpose, Purpose.id == PurposeGrant.purpose_id)
        .outerjoin(Organisation, Organisation.id == PurposeGrant.organisation_id)
        .order_by(Purpose.code, PurposeGrant.role, Organisation.code)
    )
    if organisation_id is not None:
        query = query.where(
            or_(
                PurposeGrant.organisation_id.is_(None),
                PurposeGrant.organisation_id == organisation_id,
            )
        )
    return [
        GrantView(code, g.role, org, g.granted_by, g.granted_at.isoformat(timespec="seconds"))
        for g, code, org in session.execute(query).all()
    ]


def _resolve(
    session: Session, purpose: str, role: str, organisation: str | None
) -> tuple[Purpose, Organisation | None]:
    found = session.scalars(select(Purpose).where(Purpose.code == purpose)).first()
    if found is None:
        raise GrantError(f"no registered purpose {purpose!r}", status=404, field="purpose")
    if role not in {r.value for r in Role}:
        raise GrantError(
            f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}", field="role"
        )
    org = None
    if organisation is not None:
        org = session.scalars(select(Organisation).where(Organisation.code == organisation)).first()
        if org is None:
            raise GrantError(f"no organisation {organisation!r}", status=404, field="organisation")
    return found, org


def _check_authority(by: User | None, org: Organisation | None) -> None:
    """``by`` None is the operator at the CLI; people need the role for the scope."""
    if by is None or by.role == Role.DPO.value:
        return
    if by.role == Role.DATA_OWNER.value:
        if org is None or org.id != by.organisation_id:
            raise GrantError(
                "data owners grant purposes only within their own organisation", status=403
            )
        return
    raise GrantError("only data owners and DPOs manage purpose grants", status=403)


def _find(
    session: Session, purpose: Purpose, role: str, org: Organisation | None
) -> PurposeGrant | None:
    query = select(PurposeGrant).where(
        PurposeGrant.purpose_id == purpose.id, PurposeGrant.role == role
    )
    if org is None:
        query = query.where(PurposeGrant.organisation_id.is_(None))
    else:
        query = query.where(PurposeGrant.organisation_id == org.id)
    return session.scalars(query).first()


def _audit(
    session: Session, action: AuditAction, by: User | None, actor: str, grant: GrantView
) -> None:
    append_event(
        session,
        actor=by.username if by else actor,
        actor_user_id=by.id if by else None,
        organisation_id=by.organisation_id if by else None,
        action=action,
        target_type="purpose",
        target_id=grant.purpose,
        details={"role": grant.role, "organisation": grant.organisation or "*"},
    )


def grant_purpose(
    session: Session,
    purpose: str,
    role: str,
    organisation: str | None,
    by: User | None,
    actor: str = "cli",
) -> GrantView:
    """Let ``role`` (in ``organisation``, or in every one) act under ``purpose`` (audited)."""
    found, org = _resolve(session, purpose, role, organisation)
    _check_authority(by, org)
    reserved = RESERVED.get(purpose)
    if reserved is not None and role != reserved.value:
        raise GrantError(
            f"the purpose {purpose} belongs to the {reserved.value} role alone", field="role"
        )
    if role in NO_PURPOSES:
        raise GrantError(f"the role {role} never reads personal data", field="role")
    if _find(session, found, role, org) is not None:
        where = org.code if org else "every organisation"
        raise GrantError(
            f"the role {role} already acts under {purpose} in {where}", status=409, field="role"
        )
    row = PurposeGrant(
        purpose_id=found.id,
        role=role,
        organisation_id=org.id if org else None,
        granted_by=by.username if by else actor,
    )
    session.add(row)
    session.flush()
    view = GrantView(
        purpose,
        role,
        org.code if org else None,
        row.granted_by,
        row.granted_at.isoformat(timespec="seconds"),
    )
    _audit(session, AuditAction.PURPOSE_GRANT, by, actor, view)
    return view


def revoke_grant(
    session: Session,
    purpose: str,
    role: str,
    organisation: str | None,
    by: User | None,
    actor: str = "cli",
) -> GrantView:
    """Stop ``role`` (in ``organisation``, or every one) acting under ``purpose`` (audited).
    Sessions acting under it are refused from their next request."""
    found, org = _resolve(session, purpose, role, organisation)
    _check_authority(by, org)
    row = _find(session, found, role, org)
    if row is None:
        raise GrantError("there is no such grant", status=404, field="role")
    view = GrantView(
        purpose,
        role,
        org.code if org else None,
        row.granted_by,
        row.granted_at.isoformat(timespec="seconds"),
    )
    session.delete(row)
    session.flush()
    _audit(session, AuditAction.PURPOSE_GRANT_REVOKE, by, actor, view)
    return view


def ensure_default_grants(session: Session, actor: str = "system") -> int:
    """Grant :data:`DEFAULT_GRANTS` for every organisation where the purpose is registered
    and the grant is missing (audited); the number made."""
    made = 0
    for code, roles in DEFAULT_GRANTS.items():
        purpose = session.scalars(select(Purpose).where(Purpose.code == code)).first()
        if purpose is None:
            continue
        for role in roles:
            if _find(session, purpose, role.value, None) is None:
                grant_purpose(session, code, role.value, None, None, actor=actor)
                made += 1
    return made


def refuse_purpose(
    session: Session,
    *,
    user_id: int,
    username: str,
    organisation_id: int,
    purpose: str,
    role: str,
    via: str,
) -> None:
    """Audit a request made under a purpose the register does not grant the user."""
    append_event(
        session,
        actor=username,
        actor_user_id=user_id,
        organisation_id=organisation_id,
        action=AuditAction.PURPOSE_REFUSED,
        decision="deny",
        reason=f"the role {role} is not granted the purpose",
        purpose=purpose[:64],
        target_type="user",
        target_id=username,
        details={"via": via},
    )
