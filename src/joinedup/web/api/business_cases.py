"""``/api/v1/business-cases``: an intervention's business case beside its measured impact
(analysts and data owners write it; DPOs read it too), and its PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.toolkit.business_case import (
    AUTHORS,
    READERS,
    BusinessCaseIn,
    BusinessCaseView,
    case_pdf,
    get_case,
    save_case,
)
from joinedup.web.api.responses import errors
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import guard

tag = {
    "name": "business cases",
    "description": "A business case per intervention: its cost, the residents reached and the "
    "measured impact (difference in differences), as JSON and PDF.",
}
router = APIRouter(prefix="/business-cases", tags=[tag["name"]])
READING = guard(SIGNED_IN, tuple(Role(r) for r in READERS), scope="read")
WRITING = guard(SIGNED_IN, tuple(Role(r) for r in AUTHORS), scope="governance")
Reader = Annotated[Principal, READING.depends]
Author = Annotated[Principal, WRITING.depends]
Intervention = Annotated[int, Path(ge=1, le=2**31 - 1, description="The intervention's id")]


@router.get(
    "/{intervention}",
    response_model=BusinessCaseView,
    summary="An intervention's business case and its impact estimate",
    responses=errors(401, 403, 404),
    **READING.route(),
)
async def api_get_case(
    request: Request, reader: Reader, intervention: Intervention
) -> BusinessCaseView:
    return await run_in_threadpool(get_case, request.app.state.settings, reader, intervention)


@router.put(
    "/{intervention}",
    response_model=BusinessCaseView,
    summary="Write or rewrite an intervention's business case",
    responses=errors(401, 403, 404, 422),
    **WRITING.route(csrf=True),
)
async def api_save_case(
    request: Request, author: Author, intervention: Intervention, body: BusinessCaseIn
) -> BusinessCaseView:
    return await run_in_threadpool(
        save_case, request.app.state.settings, author, intervention, body
    )


@router.get(
    "/{intervention}/pdf",
    summary="The business case as a PDF for a funding panel",
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF"},
        **errors(401, 403, 404, 409),
    },
    response_class=Response,
    **READING.route(),
)
async def api_case_pdf(request: Request, reader: Reader, intervention: Intervention) -> Response:
    _name, data = await run_in_threadpool(
        case_pdf, request.app.state.settings, reader, intervention
    )
    return Response(data, media_type="application/pdf")
