"""What every rights function shares: who may act (a DPO under the subject-access purpose),
the errors, and the audit helper (events name records and residents by id only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, Role
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.access import Actor, audit_as
from joinedup.governance.audit_actions import AuditAction

#: The purpose a DPO acts under to answer residents' rights requests (UK GDPR Article
#: 6(1)(c), legal obligation; residents cannot object to it).
SAR_PURPOSE = "subject-access"
RIGHTS_ROLES = frozenset({Role.DPO.value})


class RightsError(JoinedupError, ValueError):
    """A rights request that cannot be done as asked; ``field`` names the input at fault."""

    def __init__(self, message: str, status: int = 422, field: str | None = None) -> None:
        super().__init__(message, status=status, field=field)


def check_dpo(actor: Actor) -> None:
    """Refuse (403) anyone but a data protection officer acting under subject access."""
    if actor.role not in RIGHTS_ROLES:
        raise RightsError("Only data protection officers answer residents' rights requests", 403)
    if actor.purpose != SAR_PURPOSE:
        raise RightsError(
            "Residents' rights requests are answered under the purpose "
            f"'{SAR_PURPOSE}': choose it first",
            403,
        )


def organisation_code(settings: Settings, organisation_id: int) -> str:
    with session_scope(settings) as session:
        code = session.scalar(select(Organisation.code).where(Organisation.id == organisation_id))
    if code is None:
        raise RightsError("your organisation is not in the register", 403)
    return str(code)


def audit(
    session: Session,
    actor: Actor,
    action: AuditAction,
    target_type: str,
    target_id: str,
    records: list[str] | None = None,
    details: dict[str, Any] | None = None,
    reason: str = "a residents' rights request",
) -> None:
    audit_as(
        session,
        actor,
        action,
        decision="allow",
        reason=reason,
        target_type=target_type,
        target_id=target_id,
        records=(records or [])[:1000],
        details=details or {},
    )
