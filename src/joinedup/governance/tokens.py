"""API tokens: shown once, stored as sha256 hashes, each with scopes.

A token looks like ``jdu_<prefix>_<secret>``. The prefix finds the row; the whole token's
sha256 is compared in constant time. Tokens are high-entropy random strings, so a fast hash is
the right tool (unlike passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from joinedup.catalog.models import ApiToken, User
from joinedup.catalog.types import utcnow
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_by, append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.scopes import SCOPES

TOKEN_PREFIX = "jdu"  # noqa: S105 - a public marker, not a secret
#: A token's ``last_used_at`` is written at most this often (not on every request).
LAST_USED_EVERY = timedelta(seconds=60)


class TokenError(JoinedupError, ValueError):
    """A token request that cannot be granted (422)."""

    capitalised = True


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown once, never stored


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(
    session: Session,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    actor: str | None = None,
) -> IssuedToken:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise TokenError(f"scopes must be among {', '.join(SCOPES)}; got {scopes}", field="scopes")
    prefix = secrets.token_hex(6)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=_digest(plaintext),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    append_event(
        session,
        actor=actor or user.username,
        actor_user_id=user.id,
        organisation_id=user.organisation_id,
        action=AuditAction.TOKEN_CREATE,
        target_type="api_token",
        target_id=prefix,
        details={"name": name, "scopes": token.scopes},
    )
    return IssuedToken(token, plaintext)


def verify_token(session: Session, plaintext: str) -> ApiToken | None:
    """The live token for this string, with its user and their organisation (one
    statement), or None. Updates ``last_used_at`` (at most once a :data:`LAST_USED_EVERY`,
    as a browser session's ``last_seen_at``: not a write on every request)."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = session.scalars(
        select(ApiToken)
        .where(ApiToken.prefix == parts[1])
        .options(joinedload(ApiToken.user).joinedload(User.organisation))
    ).first()
    if token is None or not hmac.compare_digest(token.token_hash, _digest(plaintext)):
        return None
    now = utcnow()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at < now):
        return None
    if not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        token.last_used_at = now
    return token


def revoke_token(session: Session, token: ApiToken, actor: User) -> None:
    token.revoked_at = utcnow()
    append_by(
        session,
        actor,
        AuditAction.TOKEN_REVOKE,
        target_type="api_token",
        target_id=token.prefix,
    )
