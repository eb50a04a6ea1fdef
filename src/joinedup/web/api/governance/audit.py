"""``/api/v1/audit``: search the audit log (DPOs) and check its hash chain (DPOs, hub admins)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import HTTPException, Query, Request

from joinedup.governance.service.audit import (
    AUDIT_PAGE_SIZE,
    MAX_AUDIT_PAGE_SIZE,
    AuditPageOut,
    VerifyOut,
    audit_filter,
    organisation_id,
    search_audit,
    verify_audit,
)
from joinedup.web.api.governance.common import (
    CHECKERS,
    DPO_READS,
    Checker,
    DpoReading,
    resource_router,
)
from joinedup.web.api.responses import errors

router = resource_router()


@router.get(
    "/audit/events",
    response_model=AuditPageOut,
    summary="Search the audit log",
    responses=errors(401, 403, 422),
    **DPO_READS.route(),
)
def api_audit_events(
    request: Request,
    principal: DpoReading,
    user: Annotated[str | None, Query(max_length=120, description="The actor's username")] = None,
    record: Annotated[
        str | None, Query(max_length=120, description="A resident id or source record id")
    ] = None,
    organisation: Annotated[
        str | None, Query(max_length=64, description="The actor's organisation code")
    ] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    decision: Annotated[Literal["allow", "deny"] | None, Query()] = None,
    agreement: Annotated[
        str | None, Query(max_length=64, description="Changes to it and reads under it")
    ] = None,
    date_from: Annotated[date | None, Query(description="From this UK day")] = None,
    date_to: Annotated[date | None, Query(description="To this UK day, included")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE_SIZE)] = AUDIT_PAGE_SIZE,
) -> AuditPageOut:
    """DPOs only, newest first. Reading the log is itself recorded in it."""
    settings = request.app.state.settings
    org_id = None
    if organisation:
        org_id = organisation_id(settings, organisation)
        if org_id is None:
            raise HTTPException(422, f"No organisation {organisation!r}")
    where = audit_filter(
        user=user,
        record=record,
        organisation_id=org_id,
        action=action,
        purpose=purpose,
        decision=decision,
        agreement=agreement,
        date_from=date_from,
        date_to=date_to,
    )
    return search_audit(settings, principal, where, page, page_size).page


@router.get(
    "/audit/verify",
    response_model=VerifyOut,
    summary="Check the audit log's hash chain",
    responses=errors(401, 403),
    **CHECKERS.route(),
)
def api_audit_verify(request: Request, principal: Checker) -> VerifyOut:
    """Walks every entry; any edited, deleted or reordered entry is reported where it is.
    DPOs and hub admins."""
    return verify_audit(request.app.state.settings, principal)
