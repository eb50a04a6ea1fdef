"""Local accounts: argon2 password hashes (pwdlib), sign-in with throttling.

Sign-in takes the same time whether or not the account exists (a dummy hash with the current
parameters is verified; a stored hash with older parameters is rehashed at its owner's next
sign-in), answers the same, and is throttled the same; no password or hash is ever logged.

Throttling slows an attacker without locking the real user out: within ``WINDOW``,

* ``MAX_FAILURES_PER_ADDRESS_AND_USER`` failures for one username from one address refuse that
  username *from that address* only;
* ``MAX_FAILURES_PER_REMOTE`` failures from one address refuse that address;
* ``MAX_FAILURES_PER_USER`` failures for one username from anywhere (an attacker spread over
  many addresses) refuse it from every address *except* those it signed in from successfully in
  the last ``KNOWN_FOR``, so its owner, at their usual address, still signs in.

The address is the client's as the web app resolves it: the peer, or, behind a proxy listed in
the ``trusted_proxies`` setting only, the address that proxy forwarded (ADR 0007 addendum).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from joinedup.catalog.models import LoginAttempt, Organisation, Role, User
from joinedup.catalog.types import utcnow
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_by, append_event
from joinedup.governance.audit_actions import AuditAction

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES_PER_ADDRESS_AND_USER = 5
MAX_FAILURES_PER_REMOTE = 20
MAX_FAILURES_PER_USER = 20
WINDOW = timedelta(minutes=15)
KNOWN_FOR = timedelta(days=30)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
USERNAME_RULE = "Usernames are 2-64 lower-case letters, digits, dots, dashes, _"

_hasher = PasswordHash.recommended()
_DUMMY_HASH = _hasher.hash("not a real password, only for constant-time misses")


def use_fast_hashing_for_tests() -> None:
    """Cheaper argon2 parameters, for test suites only (hashes stay valid argon2id)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    _DUMMY_HASH = _hasher.hash("not a real password, only for constant-time misses")


class AccountError(JoinedupError, ValueError):
    """An account that cannot be created as asked (422, with the ``field`` at fault), or
    changed in its current state (409)."""

    capitalised = True


class SignInThrottled(Exception):
    """Too many failed sign-ins; try again later."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    organisation: str,
    role: str,
    password: str | None,
    email: str | None = None,
    actor: str = "system",
) -> User:
    """Create a local account (audited). ``password`` None creates an account that cannot
    sign in until a password is set (API-token-only service accounts)."""
    if not USERNAME_RE.match(username):
        raise AccountError(USERNAME_RULE.lower(), field="username")
    if role not in {r.value for r in Role}:
        raise AccountError(
            f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}", field="role"
        )
    org = session.scalars(select(Organisation).where(Organisation.code == organisation)).first()
    if org is None:
        raise AccountError(f"no organisation {organisation!r}", status=404, field="organisation")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise AccountError(f"the username {username!r} is taken", field="username")
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        organisation_id=org.id,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    append_event(
        session,
        actor=actor,
        organisation_id=org.id,
        action=AuditAction.USER_CREATE,
        target_type="user",
        target_id=username,
        details={"role": role},
    )
    return user


@dataclass(frozen=True)
class SignIn:
    user: User | None
    reason: str


def _recent(session: Session, since: timedelta, succeeded: bool, **where: str) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= utcnow() - since, LoginAttempt.succeeded.is_(succeeded))
    )
    for column, value in where.items():
        query = query.where(getattr(LoginAttempt, column) == value)
    return session.scalar(query) or 0


def _throttled(session: Session, username: str, remote: str) -> bool:
    """See the module docstring: per address and user, per address, per user (not from a
    known address)."""
    if _recent(session, WINDOW, False, username=username, remote=remote) >= (
        MAX_FAILURES_PER_ADDRESS_AND_USER
    ):
        return True
    if _recent(session, WINDOW, False, remote=remote) >= MAX_FAILURES_PER_REMOTE:
        return True
    if _recent(session, WINDOW, False, username=username) < MAX_FAILURES_PER_USER:
        return False
    return _recent(session, KNOWN_FOR, True, username=username, remote=remote) == 0


def authenticate(session: Session, username: str, password: str, remote: str) -> SignIn:
    """Check a username and password; records the attempt; raises when throttled."""
    username = username.strip().lower()[:120]
    remote = remote[:64]
    if _throttled(session, username, remote):
        raise SignInThrottled("too many failed sign-in attempts; wait 15 minutes")
    user = session.scalars(select(User).where(User.username == username)).first()
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    valid, updated = _hasher.verify_and_update(password, stored)
    ok = bool(valid and user is not None and user.password_hash and user.is_active)
    if ok and updated is not None and user is not None:
        user.password_hash = updated  # older parameters: bring the hash (and its timing) up
    session.add(LoginAttempt(username=username, remote=remote, succeeded=ok))
    append_event(
        session,
        actor=username if ok else "anonymous",
        actor_user_id=user.id if ok and user else None,
        organisation_id=user.organisation_id if ok and user else None,
        action=AuditAction.SIGN_IN if ok else AuditAction.SIGN_IN_FAILED,
        target_type="user",
        target_id=username,
    )
    if not ok:
        return SignIn(None, "incorrect username or password")
    return SignIn(user, "signed in")


def deactivate_user(session: Session, user: User, actor: User) -> None:
    """Stop an account signing in or using its API tokens (audited). Accounts are never
    deleted: the audit log names them."""
    if user.id == actor.id:
        raise AccountError("you cannot deactivate your own account", status=409)
    if not user.is_active:
        raise AccountError(f"the account {user.username!r} is already deactivated", status=409)
    user.is_active = False
    append_by(
        session,
        actor,
        AuditAction.USER_DEACTIVATE,
        target_type="user",
        target_id=user.username,
    )


def set_password(session: Session, user: User, password: str, actor: str) -> None:
    user.password_hash = hash_password(password)
    append_event(
        session,
        actor=actor,
        organisation_id=user.organisation_id,
        action=AuditAction.USER_PASSWORD_SET,
        target_type="user",
        target_id=user.username,
    )
