"""``/api/v1/objections``: residents' objections (DPOs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from joinedup.governance.objections import ObjectionSubject
from joinedup.governance.service.objections import (
    ObjectionIn,
    ObjectionOut,
    add_objection,
    end_objection,
    list_objections,
)
from joinedup.web.api.governance.common import (
    DPO_ACTS,
    DPO_READS,
    DpoActing,
    DpoReading,
    resource_router,
)
from joinedup.web.api.responses import errors

router = resource_router()


@router.get(
    "/objections",
    response_model=list[ObjectionOut],
    summary="List residents' objections",
    responses=errors(401, 403),
    **DPO_READS.route(),
)
def api_list_objections(request: Request, principal: DpoReading) -> list[ObjectionOut]:
    """DPOs only; live and withdrawn, newest first."""
    return list_objections(request.app.state.settings, principal)


@router.post(
    "/objections",
    response_model=ObjectionOut,
    status_code=201,
    summary="Record a resident's objection",
    responses=errors(401, 403, 422),
    **DPO_ACTS.route(csrf=True),
)
def api_add_objection(request: Request, principal: DpoActing, body: ObjectionIn) -> ObjectionOut:
    """Name the resident by resident id, or by one source record (organisation, dataset and
    source record id). Without a purpose it applies to every purpose that allows objection."""
    subject = ObjectionSubject(
        resident_id=body.resident_id or None,
        organisation=body.organisation or None,
        dataset=body.dataset or None,
        source_record_id=body.source_record_id or None,
    )
    return add_objection(
        request.app.state.settings, principal, subject, body.purpose or None, body.note
    )


@router.post(
    "/objections/{objection_id}/withdraw",
    response_model=ObjectionOut,
    summary="Withdraw an objection",
    responses=errors(401, 403, 404, 409),
    **DPO_ACTS.route(csrf=True),
)
def api_withdraw_objection(
    request: Request, principal: DpoActing, objection_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> ObjectionOut:
    return end_objection(request.app.state.settings, principal, objection_id)
