"""The purposes register: list and register processing purposes."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Purpose,
    Role,
)
from joinedup.config import Settings
from joinedup.constraints import Matching
from joinedup.errors import Refused
from joinedup.governance.purposes import PUBLIC_TASK, PurposeSpec, register_purpose
from joinedup.governance.service.common import (
    Caller,
    current_user,
)

PURPOSE_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
CODE_RULE = "The code must be 2 to 64 lower-case letters, digits and dashes"


class PurposeIn(BaseModel):
    code: Annotated[str, Matching(PURPOSE_CODE.pattern, CODE_RULE)] = Field(
        max_length=64, description="Lower-case letters, digits and dashes"
    )
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


def add_purpose(settings: Settings, principal: Caller, spec: PurposeSpec) -> PurposeOut:
    if principal.role != Role.HUB_ADMIN:
        raise Refused(403, "Only hub administrators register purposes")
    if not PURPOSE_CODE.match(spec.code):
        raise Refused(422, CODE_RULE, "code")
    with session_scope(settings) as session:
        user = current_user(session, principal)
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


def purpose_spec(body: PurposeIn) -> PurposeSpec:
    """The core's purpose from the validated input (the API's body or the page's form)."""
    return PurposeSpec(
        code=body.code,
        name=body.name,
        description=body.description,
        lawful_basis=body.lawful_basis,
        special_category_condition=body.special_category_condition or None,
        objection_allowed=body.objection_allowed,
    )
