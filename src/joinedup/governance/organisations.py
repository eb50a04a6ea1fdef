"""Registering organisations (councils with their GSS codes, partners, the hub)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.models import Organisation, OrganisationType
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.standards.identifiers import is_valid_gss_code


class OrganisationError(JoinedupError, ValueError):
    """An organisation that cannot be registered as asked (422)."""

    capitalised = True


def ensure_organisation(
    session: Session,
    *,
    code: str,
    name: str,
    type: str = OrganisationType.COUNCIL.value,
    gss_code: str | None = None,
    actor: str = "system",
) -> Organisation:
    """Return the organisation with this code, creating it (audited) if it is new."""
    if type not in {t.value for t in OrganisationType}:
        raise OrganisationError(f"unknown organisation type {type!r}")
    if gss_code is not None and not is_valid_gss_code(gss_code):
        raise OrganisationError(f"{gss_code!r} is not an ONS GSS code")
    existing = session.scalars(select(Organisation).where(Organisation.code == code)).first()
    if existing is not None:
        if existing.gss_code != gss_code or existing.type != type:
            raise OrganisationError(f"organisation {code!r} exists with other details")
        return existing
    org = Organisation(code=code, name=name, type=type, gss_code=gss_code)
    session.add(org)
    session.flush()
    append_event(
        session,
        actor=actor,
        organisation_id=org.id,
        action=AuditAction.ORGANISATION_CREATE,
        target_type="organisation",
        target_id=code,
        details={"name": name, "type": type, "gss_code": gss_code},
    )
    return org
