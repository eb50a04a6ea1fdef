"""User accounts (hub admins) and each user's own API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    ApiToken,
    Organisation,
    Role,
    User,
)
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.constraints import Matching
from joinedup.errors import Refused
from joinedup.governance.accounts import USERNAME_RE, USERNAME_RULE, create_user, deactivate_user
from joinedup.governance.service.common import (
    Caller,
    current_user,
    require_hub_admin,
)
from joinedup.governance.tokens import create_token, revoke_token

#: Which token scopes each role can use (a token never does more than its user may).
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    Role.HUB_ADMIN: ("read", "ingest", "governance", "admin"),
    Role.DATA_OWNER: ("read", "ingest", "governance"),
    Role.DPO: ("read", "governance"),
    Role.ANALYST: ("read", "review"),
    Role.CASEWORKER: ("read", "casework"),
}
TOKEN_LIFETIMES = (30, 90, 180, 365)  # days


#: An email address as far as the hub checks one: something either side of an ``@``, no spaces.
EMAIL = r"^[^@ ]+@[^@ ]+$"


class UserIn(BaseModel):
    username: Annotated[str, Matching(USERNAME_RE.pattern, USERNAME_RULE)] = Field(
        min_length=1, max_length=64
    )
    display_name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254, pattern=EMAIL)
    organisation: str = Field(min_length=1, max_length=64)
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


class TokenIn(BaseModel):
    """A new API token: what it is for, what it may do (within the caller's role, checked by
    :func:`add_token`) and how many days it lives (one of :data:`TOKEN_LIFETIMES`)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    scopes: list[str] = Field(min_length=1)
    days: int

    @field_validator("days")
    @classmethod
    def _a_lifetime(cls, days: int) -> int:
        if days not in TOKEN_LIFETIMES:
            raise ValueError(f"must be one of {', '.join(map(str, TOKEN_LIFETIMES))} days")
        return days


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


def list_users(settings: Settings, principal: Caller) -> list[UserOut]:
    require_hub_admin(principal)
    with session_scope(settings) as session:
        rows = session.execute(
            select(User, Organisation)
            .join(Organisation, User.organisation_id == Organisation.id)
            .order_by(Organisation.name, User.username)
        )
        return [_user_out(u, o) for u, o in rows]


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def add_user(settings: Settings, principal: Caller, body: UserIn) -> UserCreated:
    """Create an account with a generated password, returned once and never stored."""
    require_hub_admin(principal)
    password = generate_password()
    with session_scope(settings) as session:
        admin = current_user(session, principal)
        user = create_user(
            session,
            username=body.username,
            display_name=body.display_name,
            organisation=body.organisation,
            role=body.role.value,
            password=password,
            email=body.email or None,
            actor=admin.username,
        )
        org = session.get(Organisation, user.organisation_id)
        assert org is not None
        return UserCreated(user=_user_out(user, org), password=password)


def find_user(settings: Settings, principal: Caller, username: str) -> UserOut:
    require_hub_admin(principal)
    with session_scope(settings) as session:
        row = session.execute(
            select(User, Organisation)
            .join(Organisation, User.organisation_id == Organisation.id)
            .where(User.username == username)
        ).first()
        if row is None:
            raise Refused(404, f"No user {username!r}")
        return _user_out(row[0], row[1])


def end_user(settings: Settings, principal: Caller, username: str) -> UserOut:
    """Deactivate an account (hub admins; never their own)."""
    require_hub_admin(principal)
    with session_scope(settings) as session:
        admin = current_user(session, principal)
        target = session.scalars(select(User).where(User.username == username)).first()
        if target is None:
            raise Refused(404, f"No user {username!r}")
        deactivate_user(session, target, admin)
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


def list_tokens(settings: Settings, principal: Caller) -> list[TokenOut]:
    with session_scope(settings) as session:
        user = current_user(session, principal)
        rows = session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        ).all()
        return [_token_out(t) for t in rows]


@dataclass(frozen=True)
class IssuedTokenOut:
    token: TokenOut
    plaintext: str = field(repr=False)


def add_token(settings: Settings, principal: Caller, body: TokenIn) -> IssuedTokenOut:
    """Issue a token to the caller, with scopes their role can use; shown once."""
    allowed = scopes_for(principal.role)
    if any(s not in allowed for s in body.scopes):
        raise Refused(422, f"Your role can use these scopes: {', '.join(allowed)}", "scopes")
    with session_scope(settings) as session:
        user = current_user(session, principal)
        issued = create_token(
            session, user, body.name, list(body.scopes), utcnow() + timedelta(days=body.days)
        )
        return IssuedTokenOut(_token_out(issued.token), issued.plaintext)


def end_token(settings: Settings, principal: Caller, prefix: str) -> TokenOut:
    """Revoke one of the principal's own tokens (anyone else's is not found)."""
    with session_scope(settings) as session:
        user = current_user(session, principal)
        token = session.scalars(
            select(ApiToken).where(ApiToken.prefix == prefix, ApiToken.user_id == user.id)
        ).first()
        if token is None:
            raise Refused(404, "No such token")
        if token.revoked_at is not None:
            raise Refused(409, "The token is already revoked")
        revoke_token(session, token, user)
        return _token_out(token)
