"""Organisations (hub admins): list and register, councils with their ONS GSS codes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Organisation,
    OrganisationType,
    User,
)
from joinedup.config import Settings
from joinedup.constraints import NOT_BLANK, Matching
from joinedup.errors import Refused
from joinedup.governance.organisations import ensure_organisation
from joinedup.governance.service.common import (
    Caller,
    current_user,
    require_hub_admin,
)
from joinedup.standards.identifiers import GSS_RE, is_valid_gss_code

ORG_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")

#: ONS GSS entity codes of local authorities: English unitary (E06), district (E07),
#: metropolitan district (E08), London borough (E09), county (E10); Welsh unitary (W06),
#: Scottish council area (S12), Northern Irish district (N09).
COUNCIL_GSS_PREFIXES = ("E06", "E07", "E08", "E09", "E10", "W06", "S12", "N09")


CODE_RULE = "The code must be 2 to 64 lower-case letters, digits and dashes"
GSS_RULE = "Enter a GSS code in the correct format, a letter and 8 digits, like E09000022"
#: A council's GSS code, as JSON Schema states it (the model's ``if``/``then`` below).
COUNCIL_GSS = "^(" + "|".join(COUNCIL_GSS_PREFIXES) + ")[0-9]{6}$"


class OrganisationIn(BaseModel):
    """A new organisation. A council (the default type) needs a local authority's GSS code
    (E06–E10, W06, S12 or N09)."""

    # the council rule in JSON Schema (if/then); check_organisation enforces it

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"type": {"const": OrganisationType.COUNCIL.value}}},
            "then": {
                "required": ["gss_code"],
                "properties": {"gss_code": {"type": "string", "pattern": COUNCIL_GSS}},
            },
        }
    )

    code: Annotated[str, Matching(ORG_CODE.pattern, CODE_RULE)] = Field(
        max_length=64, description="Lower-case letters, digits and dashes"
    )
    name: Annotated[str, Matching(NOT_BLANK, "Enter the organisation's name")] = Field(
        min_length=1, max_length=200
    )
    type: OrganisationType = OrganisationType.COUNCIL
    gss_code: Annotated[str, Matching(GSS_RE.pattern, GSS_RULE)] | None = Field(
        None, description="ONS GSS code (required for councils: E06–E10, W06, S12 or N09)"
    )


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
        errors["code"] = CODE_RULE
    if not name.strip():
        errors["name"] = "Enter the organisation's name"
    if gss_code:
        if not is_valid_gss_code(gss_code):
            errors["gss_code"] = GSS_RULE
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
