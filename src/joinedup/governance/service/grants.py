"""The purpose grants register: list it, grant a role a purpose, revoke a grant.

Anyone signed in may read the register (it holds no personal data); data owners change their
own organisation's grants and DPOs any (:mod:`joinedup.governance.grants` decides).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.governance.grants import (
    GrantView,
    grant_purpose,
    granted_purposes,
    list_grants,
    revoke_grant,
)
from joinedup.governance.service.common import Caller, current_user

ROLE_VALUES = tuple(r.value for r in Role)


class GrantIn(BaseModel):
    purpose: str = Field(min_length=1, max_length=64, description="A purpose code")
    role: str = Field(min_length=1, max_length=20, description=", ".join(ROLE_VALUES))
    organisation: str | None = Field(
        None,
        max_length=64,
        description="An organisation's code; leave out to grant in every organisation (DPOs)",
    )


class GrantOut(BaseModel):
    purpose: str
    role: str
    organisation: str | None = Field(description="None: every organisation")
    granted_by: str
    granted_at: str


class GrantsOut(BaseModel):
    grants: list[GrantOut]
    yours: list[str] = Field(description="The purposes you may act under")


def _out(view: GrantView) -> GrantOut:
    return GrantOut(
        purpose=view.purpose,
        role=view.role,
        organisation=view.organisation,
        granted_by=view.granted_by,
        granted_at=view.granted_at,
    )


def grants_register(settings: Settings, caller: Caller) -> GrantsOut:
    """Every grant, and the purposes the caller may act under."""
    with session_scope(settings) as session:
        return GrantsOut(
            grants=[_out(g) for g in list_grants(session)],
            yours=granted_purposes(session, caller.role, caller.organisation_id),
        )


def add_grant(settings: Settings, caller: Caller, body: GrantIn) -> GrantOut:
    with session_scope(settings) as session:
        user = current_user(session, caller)
        return _out(grant_purpose(session, body.purpose, body.role, body.organisation, user))


def remove_grant(settings: Settings, caller: Caller, body: GrantIn) -> GrantOut:
    with session_scope(settings) as session:
        user = current_user(session, caller)
        return _out(revoke_grant(session, body.purpose, body.role, body.organisation, user))
