"""The register of processing purposes, each with its lawful basis."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.models import Purpose
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.grants import ensure_default_grants

PUBLIC_TASK = "UK GDPR Article 6(1)(e): public task"


@dataclass(frozen=True)
class PurposeSpec:
    code: str
    name: str
    description: str
    lawful_basis: str = PUBLIC_TASK
    special_category_condition: str | None = None
    objection_allowed: bool = True


#: The purposes a new hub starts with (a hub admin can register more).
DEFAULT_PURPOSES = (
    PurposeSpec(
        "fsm",
        "Free school meals auto-enrolment",
        "Find children eligible for free school meals who are not registered, across "
        "boroughs, so that they can be enrolled.",
        objection_allowed=True,
    ),
    PurposeSpec(
        "early-help",
        "Early help",
        "Identify households who may need early help from council services and partners.",
        special_category_condition=(
            "UK GDPR Article 9(2)(g) with DPA 2018 Schedule 1 paragraph 18 "
            "(safeguarding of children and individuals at risk)"
        ),
        objection_allowed=False,
    ),
    PurposeSpec(
        "fraud-prevention",
        "Fraud prevention",
        "Reconcile discounts and claims against other records to prevent fraud.",
        lawful_basis="UK GDPR Article 6(1)(e): public task; DPA 2018 Schedule 2 paragraph 2",
        objection_allowed=False,
    ),
    PurposeSpec(
        "statistics",
        "Statistics and research",
        "Produce aggregate statistics and measure the impact of services.",
        objection_allowed=True,
    ),
    PurposeSpec(
        "linkage",
        "Resident index maintenance",
        "Link records about the same person across systems to keep a single view of each "
        "resident, for the other registered purposes.",
        objection_allowed=True,
    ),
    PurposeSpec(
        "subject-access",
        "Residents' rights requests",
        "Answer subject access, rectification and objection requests.",
        lawful_basis="UK GDPR Article 6(1)(c): legal obligation",
        objection_allowed=False,
    ),
)


def register_purpose(session: Session, spec: PurposeSpec, actor: str = "system") -> Purpose:
    """Create the purpose if its code is new (audited); return the stored one."""
    existing = session.scalars(select(Purpose).where(Purpose.code == spec.code)).first()
    if existing is not None:
        return existing
    purpose = Purpose(
        code=spec.code,
        name=spec.name,
        description=spec.description,
        lawful_basis=spec.lawful_basis,
        special_category_condition=spec.special_category_condition,
        objection_allowed=spec.objection_allowed,
    )
    session.add(purpose)
    session.flush()
    append_event(
        session,
        actor=actor,
        action=AuditAction.PURPOSE_CREATE,
        target_type="purpose",
        target_id=spec.code,
        details={"lawful_basis": spec.lawful_basis, "objection_allowed": spec.objection_allowed},
    )
    return purpose


def ensure_default_purposes(session: Session, actor: str = "system") -> list[Purpose]:
    """Register the default purposes and their default grants
    (:data:`joinedup.governance.grants.DEFAULT_GRANTS`) where missing."""
    purposes = [register_purpose(session, spec, actor) for spec in DEFAULT_PURPOSES]
    ensure_default_grants(session, actor)
    return purposes
