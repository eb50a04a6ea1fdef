"""Organisations (hub admins): list and register, councils with their ONS GSS codes."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Organisation,
    OrganisationType,
    User,
)
from joinedup.config import Settings
from joinedup.errors import Refused
from joinedup.governance.organisations import ensure_organisation
from joinedup.governance.service.common import (
    Caller,
    current_user,
    require_hub_admin,
)

ORG_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")

#: ONS GSS entity codes of local authorities: English unitary (E06), district (E07),
#: metropolitan district (E08), London borough (E09), county (E10); Welsh unitary (W06),
#: Scottish council area (S12), Northern Irish district (N09).
COUNCIL_GSS_PREFIXES = ("E06", "E07", "E08", "E09", "E10", "W06", "S12", "N09")


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


def list_organisations(settings: Settings, principal: Caller) -> list[OrganisationOut]:
    require_hub_admin(principal)
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
    """Field errors for a new organisation beyond what :class:`OrganisationIn` states (its
    lengths and types): the code's form, a blank name, and the GSS code a council needs."""
    errors: dict[str, str] = {}
    if not code:
        errors["code"] = "Enter a code"
    elif not ORG_CODE.match(code):
        errors["code"] = "The code must be 2 to 64 lower-case letters, digits and dashes"
    if not name.strip():
        errors["name"] = "Enter the organisation's name"
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
    settings: Settings, principal: Caller, body: OrganisationIn
) -> OrganisationOut:
    require_hub_admin(principal)
    code, name, type = body.code, body.name, body.type.value
    gss_code = (body.gss_code or "").strip().upper() or None
    errors = check_organisation(code, name, type, gss_code)
    if errors:
        first = next(iter(errors))
        raise Refused(422, errors[first], first)
    with session_scope(settings) as session:
        user = current_user(session, principal)
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
        org = ensure_organisation(
            session,
            code=code,
            name=name.strip(),
            type=type,
            gss_code=gss_code,
            actor=user.username,
        )
        return OrganisationOut(
            code=org.code,
            name=org.name,
            type=org.type,
            gss_code=org.gss_code,
            users=0,
            created_at=org.created_at,
        )
