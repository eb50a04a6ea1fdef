"""What every governance use case shares: who is asking, and small lookups."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.models import Organisation, Role, User
from joinedup.errors import Refused
from joinedup.governance.access import Caller

__all__ = ["MAX_NOTE", "Caller", "current_user", "org_codes", "require_hub_admin", "usernames"]

#: Where a revocation reason, objection note and so on are stored, the column holds 500.
MAX_NOTE = 500


def current_user(session: Session, caller: Caller) -> User:
    """The caller's account, which must still be active (401 otherwise)."""
    user = session.get(User, caller.user_id)
    if user is None or not user.is_active:
        raise Refused(401, "Sign in again: the account is not active")
    return user


def require_hub_admin(caller: Caller) -> None:
    if caller.role != Role.HUB_ADMIN:
        raise Refused(403, "Only hub administrators manage organisations and users")


def org_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.code)).all())


def usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return dict(rows.all())
