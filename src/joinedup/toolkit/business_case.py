"""A business case per intervention (after the ODI's Business Case Canvas), tied to what the
hub measures: the intervention's impact estimate (difference in differences, with its 95%
interval, :func:`joinedup.insight.impact.estimate_impact`), the cost the service enters and
the residents it reached. Kept as a page and a PDF for a funding panel; saving and each PDF
export are audited. The figures are counts and estimates only: no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from pydantic import BaseModel, Field
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Role
from joinedup.catalog.models_toolkit import BusinessCase
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.errors import JoinedupError, Refused
from joinedup.governance.access import Actor, Caller, audit_as
from joinedup.governance.audit_actions import AuditAction
from joinedup.insight.impact import OUTCOME_LABELS, estimate_impact, get_intervention

#: Who writes a business case: the service's data owner or an analyst.
AUTHORS = (Role.ANALYST, Role.DATA_OWNER)
#: Who reads them: the authors and the DPO.
READERS = (*AUTHORS, Role.DPO)


class BusinessCaseIn(BaseModel):
    service: str = Field(min_length=1, max_length=200, description="The service that runs it")
    cost_pounds: int = Field(ge=0, le=10**12, description="What it cost, in whole pounds")
    period: str = Field(min_length=1, max_length=120, description="The period the cost covers")
    residents_reached: int = Field(ge=0, le=10**9, description="Residents the service reached")
    problem: str = Field(min_length=1, max_length=5000, description="The problem it solves")
    proposal: str = Field(min_length=1, max_length=5000, description="What the service does")
    beneficiaries: str = Field(min_length=1, max_length=5000, description="Who benefits, how")
    risks: str = Field(min_length=1, max_length=5000, description="Risks and how they are met")


class Impact(BaseModel):
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    outcome: str = Field(description="What the estimate measures")
    clear: bool = Field(description="The 95% interval excludes no change")
    reading: str = Field(description="The estimate in words")
    area_run: int
    method: str


class BusinessCaseView(BaseModel):
    intervention: dict[str, Any]
    case: BusinessCaseIn | None
    updated_by: str | None
    updated_at: datetime | None
    impact: Impact | None
    impact_problem: str | None = Field(description="Why there is no estimate, if there is none")
    cost_per_resident: float | None


def _actor(principal: Caller) -> Actor:
    return Actor(
        principal.user_id,
        principal.username,
        principal.organisation_id,
        principal.role,
        principal.purpose,
    )


def _require(principal: Caller, roles: tuple[str, ...], what: str) -> None:
    if principal.role not in roles:
        raise Refused(403, f"Only {what} may do this")


def _impact(settings: Settings, ident: int | str, actor: str) -> tuple[Impact | None, str | None]:
    try:
        result = estimate_impact(settings, ident, actor)
    except JoinedupError as exc:  # no area run yet, or no data either side of the start
        return None, exc.detail
    outcome = OUTCOME_LABELS.get(result.intervention["outcome"], result.intervention["outcome"])
    clear = result.ci_low > 0 or result.ci_high < 0
    direction = "fewer" if result.estimate < 0 else "more"
    reading = (
        f"After it started, the intervention's area had {abs(result.estimate):,.2f} {direction} "
        f"{outcome} per area and month than the comparison areas would suggest (95% interval "
        f"{result.ci_low:,.2f} to {result.ci_high:,.2f}). "
        + (
            "The interval does not include zero: a clear effect."
            if clear
            else "The interval includes zero: no clear effect yet."
        )
    )
    return (
        Impact(
            estimate=result.estimate,
            ci_low=result.ci_low,
            ci_high=result.ci_high,
            p_value=result.p_value,
            outcome=outcome,
            clear=clear,
            reading=reading,
            area_run=result.area_run,
            method=result.method,
        ),
        None,
    )


def _row(settings: Settings, intervention_id: int) -> BusinessCase | None:
    with session_scope(settings) as session:
        row = session.scalars(
            select(BusinessCase).where(BusinessCase.intervention_id == intervention_id)
        ).first()
        if row is not None:
            session.expunge(row)
        return row


def get_case(settings: Settings, principal: Caller, ident: int | str) -> BusinessCaseView:
    """The intervention, its business case (if written) and its impact estimate now."""
    _require(principal, READERS, "analysts, data owners and DPOs")
    intervention = get_intervention(settings, ident)
    row = _row(settings, int(intervention["id"]))
    impact, problem = _impact(settings, intervention["id"], principal.username)
    case = (
        BusinessCaseIn(
            service=row.service,
            cost_pounds=row.cost_pounds,
            period=row.period,
            residents_reached=row.residents_reached,
            problem=row.problem,
            proposal=row.proposal,
            beneficiaries=row.beneficiaries,
            risks=row.risks,
        )
        if row
        else None
    )
    return BusinessCaseView(
        intervention=intervention,
        case=case,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
        impact=impact,
        impact_problem=problem,
        cost_per_resident=(
            round(row.cost_pounds / row.residents_reached, 2)
            if row and row.residents_reached
            else None
        ),
    )


def save_case(
    settings: Settings, principal: Caller, ident: int | str, body: BusinessCaseIn
) -> BusinessCaseView:
    """Write (or rewrite) the intervention's business case; audited."""
    _require(principal, AUTHORS, "analysts and data owners")
    intervention = get_intervention(settings, ident)
    with session_scope(settings) as session:
        row = session.scalars(
            select(BusinessCase).where(BusinessCase.intervention_id == intervention["id"])
        ).first()
        if row is None:
            row = BusinessCase(intervention_id=intervention["id"])
            session.add(row)
        for key, value in body.model_dump().items():
            setattr(row, key, value)
        row.updated_by = principal.username
        row.updated_at = utcnow()
        audit_as(
            session,
            _actor(principal),
            AuditAction.BUSINESS_CASE_SAVE,
            target_type="insight_intervention",
            target_id=str(intervention["id"]),
            details={"cost_pounds": body.cost_pounds, "residents_reached": body.residents_reached},
        )
    return get_case(settings, principal, ident)


def _latin(text: Any) -> str:
    return str(text if text is not None else "").encode("latin-1", "replace").decode("latin-1")


def case_pdf(settings: Settings, principal: Caller, ident: int | str) -> tuple[str, bytes]:
    """The business case as a PDF for a funding panel (fpdf2, Helvetica); audited."""
    view = get_case(settings, principal, ident)
    if view.case is None:
        raise Refused(409, "Write the business case before exporting it")
    case, name = view.case, str(view.intervention["name"])
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(f"Business case: {name}")
    pdf.set_creator("joinedup")
    pdf.add_page()

    def write(text: str, size: float = 10, style: str = "", gap: float = 5.2) -> None:
        pdf.set_font("helvetica", style, size)
        pdf.multi_cell(0, gap, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    write(f"Business case: {name}", 18, "B", 9)
    write(f"{case.service}. {view.intervention.get('description') or ''}", 10)
    pdf.ln(2)
    write("The case in figures", 13, "B", 7)
    write(f"Cost: £{case.cost_pounds:,} ({case.period})")
    write(f"Residents reached: {case.residents_reached:,}")
    if view.cost_per_resident is not None:
        write(f"Cost per resident reached: £{view.cost_per_resident:,.2f}")
    write("Measured impact", 13, "B", 7)
    if view.impact:
        write(view.impact.reading)
        write(
            f"Estimate {view.impact.estimate:,.3f}; p = {view.impact.p_value:.3f}. "
            f"Method: difference in differences ({view.impact.method}); "
            f"area run {view.impact.area_run}.",
            8,
        )
    else:
        write(f"No estimate yet: {view.impact_problem}")
    for title, text in (
        ("The problem", case.problem),
        ("What the service does", case.proposal),
        ("Who benefits", case.beneficiaries),
        ("Risks and how they are met", case.risks),
    ):
        write(title, 13, "B", 7)
        write(text)
    pdf.ln(2)
    write(f"Written by {view.updated_by}. Figures from the joinedup hub; no personal data.", 8)
    data = bytes(pdf.output())
    with session_scope(settings) as session:
        audit_as(
            session,
            _actor(principal),
            AuditAction.BUSINESS_CASE_EXPORT,
            target_type="insight_intervention",
            target_id=str(view.intervention["id"]),
        )
    return name, data
