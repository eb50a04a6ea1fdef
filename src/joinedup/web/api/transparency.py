"""``/api/v1/transparency`` and ``/api/v1/ecosystem``: the public register of data sharing
(no sign-in) and the data ecosystem map (public counts without sign-in; exact counts for
signed-in staff). The pages at ``/transparency`` and ``/ecosystem`` show the same."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from joinedup.toolkit.ecosystem import EcosystemMap
from joinedup.toolkit.register import RegisterEntry, register
from joinedup.web.api.responses import errors
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import OPEN, guard
from joinedup.web.map_query import MapFilters, draw_map

tag = {
    "name": "transparency",
    "description": "The public register of data sharing, and the live data ecosystem map "
    "drawn from the agreements and the audit log.",
}
router = APIRouter(tags=[tag["name"]])
READER = guard(SIGNED_IN, scope="read")
Reader = Annotated[Principal, READER.depends]


@router.get(
    "/transparency/register",
    response_model=list[RegisterEntry],
    summary="The register of data sharing: every agreement in force (public)",
    **OPEN.route(),
)
async def api_register(request: Request) -> list[RegisterEntry]:
    return await run_in_threadpool(register, request.app.state.settings)


@router.get(
    "/transparency/map",
    response_model=EcosystemMap,
    summary="The data ecosystem map for a month, small counts withheld (public)",
    responses=errors(422),
    **OPEN.route(),
)
async def api_public_map(request: Request, query: MapFilters) -> EcosystemMap:
    return await draw_map(request, query, True)


@router.get(
    "/ecosystem",
    response_model=EcosystemMap,
    summary="The data ecosystem map for a month, with exact counts (staff)",
    responses=errors(401, 403, 422),
    **READER.route(),
)
async def api_staff_map(request: Request, _reader: Reader, query: MapFilters) -> EcosystemMap:
    return await draw_map(request, query, False)
