"""``/api/v1/transparency`` and ``/api/v1/ecosystem``: the public register of data sharing
(no sign-in) and the data ecosystem map (public counts without sign-in; exact counts for
signed-in staff). The pages at ``/transparency`` and ``/ecosystem`` show the same."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from joinedup.toolkit.ecosystem import EcosystemMap, ecosystem_map
from joinedup.toolkit.register import RegisterEntry, register
from joinedup.web.api.responses import errors
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import OPEN, guard

tag = {
    "name": "transparency",
    "description": "The public register of data sharing, and the live data ecosystem map "
    "drawn from the agreements and the audit log.",
}
router = APIRouter(tags=[tag["name"]])
READER = guard(SIGNED_IN, scope="read")
Reader = Annotated[Principal, READER.depends]
Code = Annotated[str | None, Query(max_length=120, pattern=r"^[A-Za-z0-9._-]*$")]
Month = Annotated[
    str | None, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$", description="YYYY-MM (this month)")
]


@router.get(
    "/transparency/register",
    response_model=list[RegisterEntry],
    summary="The register of data sharing: every agreement in force (public)",
    **OPEN.route(),
)
async def api_register(request: Request) -> list[RegisterEntry]:
    return await run_in_threadpool(register, request.app.state.settings)


async def _map(
    request: Request,
    public: bool,
    month: str | None,
    purpose: str | None,
    dataset: str | None,
    organisation: str | None,
) -> EcosystemMap:
    return await run_in_threadpool(
        lambda: ecosystem_map(
            request.app.state.settings,
            month=month or None,
            purpose=purpose or None,
            dataset=dataset or None,
            organisation=organisation or None,
            public=public,
        )
    )


@router.get(
    "/transparency/map",
    response_model=EcosystemMap,
    summary="The data ecosystem map for a month, small counts withheld (public)",
    responses=errors(422),
    **OPEN.route(),
)
async def api_public_map(
    request: Request,
    month: Month = None,
    purpose: Code = None,
    dataset: Code = None,
    organisation: Code = None,
) -> EcosystemMap:
    return await _map(request, True, month, purpose, dataset, organisation)


@router.get(
    "/ecosystem",
    response_model=EcosystemMap,
    summary="The data ecosystem map for a month, with exact counts (staff)",
    responses=errors(401, 403, 422),
    **READER.route(),
)
async def api_staff_map(
    request: Request,
    _reader: Reader,
    month: Month = None,
    purpose: Code = None,
    dataset: Code = None,
    organisation: Code = None,
) -> EcosystemMap:
    return await _map(request, False, month, purpose, dataset, organisation)
