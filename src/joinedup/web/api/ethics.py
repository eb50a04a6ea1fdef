"""``/api/v1/ethics``: ethics records (the ODI Data Ethics Canvas) per purpose and per
agreement. Any signed-in person reads them; data owners, analysts and DPOs draft versions; a
DPO signs a draft off. An agreement becomes active only when each of its purposes has a
signed-off record in date (:mod:`joinedup.governance.ethics`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.toolkit.ethics import (
    SUBJECT_PATTERN,
    EthicsDetail,
    EthicsIn,
    SignOffIn,
    SubjectState,
    draft,
    get_record,
    list_subjects,
    sign_off,
)
from joinedup.web.api.responses import errors
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import guard

tag = {
    "name": "ethics",
    "description": "Ethics records per purpose and per agreement: drafted by data owners, "
    "analysts and DPOs, signed off by a DPO, with the fairness check and objection counts.",
}
router = APIRouter(prefix="/ethics", tags=[tag["name"]])

READER = guard(SIGNED_IN, scope="read")
DRAFTERS = guard(SIGNED_IN, (Role.DATA_OWNER, Role.ANALYST, Role.DPO), scope="governance")
DPOS = guard(SIGNED_IN, (Role.DPO,), scope="governance")
Reader = Annotated[Principal, READER.depends]
Drafter = Annotated[Principal, DRAFTERS.depends]
Dpo = Annotated[Principal, DPOS.depends]
SubjectType = Annotated[Literal["purpose", "agreement"], Path(description="What the record is for")]
Subject = Annotated[
    str,
    Path(pattern=SUBJECT_PATTERN, description="The purpose's code or the agreement's reference"),
]


@router.get(
    "",
    response_model=list[SubjectState],
    summary="Every purpose and agreement with its ethics record's state",
    responses=errors(401, 403),
    **READER.route(),
)
async def api_list(request: Request, _reader: Reader) -> list[SubjectState]:
    return await run_in_threadpool(list_subjects, request.app.state.settings)


@router.get(
    "/{subject_type}/{subject}",
    response_model=EthicsDetail,
    summary="One ethics record: its versions, the fairness check and objection counts",
    responses=errors(401, 403, 404),
    **READER.route(),
)
async def api_get(
    request: Request, reader: Reader, subject_type: SubjectType, subject: Subject
) -> EthicsDetail:
    return await run_in_threadpool(
        get_record, request.app.state.settings, reader, subject_type, subject
    )


@router.post(
    "/{subject_type}/{subject}",
    response_model=EthicsDetail,
    status_code=201,
    summary="Draft a new version of the ethics record",
    responses=errors(401, 403, 404, 422),
    **DRAFTERS.route(csrf=True),
)
async def api_draft(
    request: Request, drafter: Drafter, subject_type: SubjectType, subject: Subject, body: EthicsIn
) -> EthicsDetail:
    return await run_in_threadpool(
        draft, request.app.state.settings, drafter, subject_type, subject, body
    )


@router.post(
    "/{subject_type}/{subject}/sign-off",
    response_model=EthicsDetail,
    summary="Sign off a draft version (a DPO who did not draft it)",
    responses=errors(401, 403, 404, 409, 422),
    **DPOS.route(csrf=True),
)
async def api_sign_off(
    request: Request, dpo: Dpo, subject_type: SubjectType, subject: Subject, body: SignOffIn
) -> EthicsDetail:
    return await run_in_threadpool(
        sign_off, request.app.state.settings, dpo, subject_type, subject, body
    )
