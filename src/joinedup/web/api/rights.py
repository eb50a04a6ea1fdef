"""``/api/v1/rights``: residents' rights requests, for data protection officers acting under
the purpose ``subject-access``: find a resident from their details, preview and release a
subject access export (JSON, portable JSON-LD with DPV, PDF), record disputes of records.
Data owners read and resolve the disputes of their organisation's data, and everyone reads
their own in-app notifications. The pages (:mod:`joinedup.web.pages.rights`) call the same
functions in :mod:`joinedup.rights`.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.constraints import NOT_BLANK, Matching
from joinedup.rights import disputes, exports, notifications
from joinedup.rights.common import SAR_PURPOSE
from joinedup.rights.find import MAX_NEAR_MISSES, Candidate, FindResult, PersonQuery, find_person
from joinedup.rights.subject import CollectOptions, collect
from joinedup.web.api.responses import errors
from joinedup.web.auth import (
    PERSONAL_DATA,
    SIGNED_IN,
    Principal,
)
from joinedup.web.downloads import download
from joinedup.web.guards import RIGHTS_REFUSAL, guard

tag = {
    "name": "rights",
    "description": "Residents' rights: find a resident, subject access and portable exports, "
    "disputes of records (rectification). For data protection officers acting under the "
    f"purpose `{SAR_PURPOSE}`; data owners see the disputes of their organisation's data.",
}
router = APIRouter(prefix="/rights", tags=[tag["name"]])
API_ROOT = "/api/v1/rights"

ResidentId = Annotated[str, Path(description="The resident's id, like `r-1a2b…`", max_length=64)]
ExportId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DisputeId = Annotated[int, Path(ge=1, le=2**31 - 1)]


#: Rights requests: DPOs acting under ``subject-access`` (tokens: ``read`` to read, and
#: ``governance`` to find, release and record). Disputes: DPOs and data owners.
DPO_READS = guard(
    PERSONAL_DATA, (Role.DPO,), purpose=SAR_PURPOSE, scope="read", refusal=RIGHTS_REFUSAL
)
DPO_ACTS = guard(
    PERSONAL_DATA, (Role.DPO,), purpose=SAR_PURPOSE, scope="governance", refusal=RIGHTS_REFUSAL
)
DISPUTE_READS = guard(SIGNED_IN, (Role.DPO, Role.DATA_OWNER), scope="read")
DISPUTE_ACTS = guard(SIGNED_IN, (Role.DPO, Role.DATA_OWNER), scope="governance")
SOMEONE = guard(SIGNED_IN, scope="read")
DpoReading = Annotated[Principal, DPO_READS.depends]
DpoActing = Annotated[Principal, DPO_ACTS.depends]
DisputeReader = Annotated[Principal, DISPUTE_READS.depends]
DisputeResolver = Annotated[Principal, DISPUTE_ACTS.depends]
Someone = Annotated[Principal, SOMEONE.depends]


#: How this module's routes word their refusals (the rest: :data:`responses.DESCRIBED`).
_errors = partial(
    errors,
    described={
        403: "Not a DPO acting under subject-access, or the token lacks the scope",
        404: "No such resident, export or dispute",
        409: "The dispute is already resolved",
    },
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- find --------------------------------------------------------------------------------


class FindIn(BaseModel):
    given_name: str | None = Field(None, max_length=80)
    middle_names: str | None = Field(None, max_length=120)
    family_name: str | None = Field(None, max_length=80)
    date_of_birth: str | None = Field(None, max_length=10, description="YYYY-MM-DD")
    postcode: str | None = Field(None, max_length=10)
    address_line_1: str | None = Field(None, max_length=120)
    nhs_number: str | None = Field(None, max_length=12)
    ni_number: str | None = Field(None, max_length=12)
    upn: str | None = Field(None, max_length=13)
    other_id: str | None = Field(None, max_length=60)


class CandidateOut(BaseModel):
    record_key: str
    organisation: str
    dataset: str
    version: int
    source_record_id: str
    resident_id: str
    match_probability: float | None = Field(description="None: joined to the resident")
    values: dict[str, str] | None
    withheld: str | None
    disputed: bool


class ResidentOut(BaseModel):
    resident_id: str
    best_probability: float
    organisations: list[str]
    records: list[CandidateOut]


class FindOut(BaseModel):
    run_id: int
    threshold: float
    near_miss_floor: float
    residents: list[ResidentOut]
    near_misses: list[CandidateOut] = Field(max_length=MAX_NEAR_MISSES)
    datasets_refused: list[str]
    seconds: float


def candidate_out(c: Candidate, disputed: set[str]) -> CandidateOut:
    r = c.record
    return CandidateOut(
        record_key=r.record_key,
        organisation=r.organisation,
        dataset=r.dataset,
        version=r.version,
        source_record_id=r.source_record_id,
        resident_id=r.resident_id,
        match_probability=c.match_probability,
        values=r.values,
        withheld=r.withheld,
        disputed=r.record_key in disputed,
    )


def find_out(settings: Settings, result: FindResult) -> FindOut:
    from joinedup.rights.find import NEAR_MISS_PROBABILITY

    disputed = disputes.disputed_in(settings, result)
    return FindOut(
        run_id=result.run.id,
        threshold=result.threshold,
        near_miss_floor=NEAR_MISS_PROBABILITY,
        residents=[
            ResidentOut(
                resident_id=r.resident_id,
                best_probability=r.best_probability,
                organisations=r.organisations,
                records=[candidate_out(c, disputed) for c in r.records],
            )
            for r in result.residents
        ],
        near_misses=[candidate_out(c, disputed) for c in result.near_misses],
        datasets_refused=result.datasets_refused,
        seconds=result.seconds,
    )


def _find(settings: Settings, principal: Principal, values: dict[str, Any]) -> FindOut:
    result = find_person(settings, principal.actor(), PersonQuery.parse(values))
    return find_out(settings, result)


@router.post(
    "/find",
    response_model=FindOut,
    summary="Find a resident from their details",
    responses=_errors(401, 403, 404, 422),
    **DPO_ACTS.route(csrf=True),
)
async def api_find(request: Request, principal: DpoActing, body: FindIn) -> FindOut:
    """Score the details against every linked record with the linkage model: the residents
    they match (with all their records) and the near misses below the threshold. Audited;
    the details are sent in the body so that they never appear in a URL or log."""
    return await run_in_threadpool(
        _find, _settings(request), principal, body.model_dump(exclude_none=True)
    )


# --- subject access --------------------------------------------------------------------------


class ExportIn(BaseModel):
    release_notes: bool = Field(
        False, description="Release caseworkers' free-text notes (withheld by default)"
    )


class ExportOut(BaseModel):
    id: int
    resident_id: str
    created_at: datetime
    released_by: str
    redactions: int
    summary: dict[str, int]
    links: dict[str, str]


def export_out(info: exports.ExportInfo) -> ExportOut:
    return ExportOut(
        id=info.id,
        resident_id=info.resident_id,
        created_at=info.created_at,
        released_by=info.released_by,
        redactions=info.redactions,
        summary=info.summary,
        links={f: f"{API_ROOT}/exports/{info.id}/{f}" for f in ("json", "jsonld", "pdf")},
    )


@router.get(
    "/residents/{resident_id}/preview",
    summary="Preview a resident's subject access export (with its redactions)",
    responses=_errors(401, 403, 404),
    **DPO_READS.route(),
)
async def api_preview(
    request: Request, principal: DpoReading, resident_id: ResidentId
) -> dict[str, Any]:
    """The document a release would produce now, for the DPO's review (audited)."""
    return await run_in_threadpool(
        collect, _settings(request), principal.actor(), resident_id, CollectOptions()
    )


@router.post(
    "/residents/{resident_id}/exports",
    response_model=ExportOut,
    status_code=201,
    summary="Release a subject access export",
    responses=_errors(401, 403, 404, 422),
    **DPO_ACTS.route(csrf=True),
)
async def api_release(
    request: Request, principal: DpoActing, resident_id: ResidentId, body: ExportIn
) -> ExportOut:
    """Collect the resident's data, redacted of other people's, store it and record the
    export (audited). Download it from the links."""
    info = await run_in_threadpool(
        exports.release_export,
        _settings(request),
        principal.actor(),
        resident_id,
        CollectOptions(release_notes=body.release_notes),
    )
    return export_out(info)


@router.get(
    "/exports",
    response_model=list[ExportOut],
    summary="Released exports",
    responses=_errors(401, 403),
    **DPO_READS.route(),
)
async def api_exports(request: Request, principal: DpoReading) -> list[ExportOut]:
    """Every released export, newest first (who, when, what was redacted; no contents)."""
    found = await run_in_threadpool(exports.list_exports, _settings(request), principal.actor())
    return [export_out(e) for e in found]


@router.get(
    "/exports/{export_id}/{fmt}",
    summary="Download a released export",
    responses={
        **_errors(401, 403, 404, 422),
        200: {"content": {t: {} for f, t in exports.FORMATS.items() if f != "html"}},
    },
    **DPO_READS.route(),
)
async def api_download(
    request: Request,
    principal: DpoReading,
    export_id: ExportId,
    fmt: Literal["json", "jsonld", "pdf"],
) -> Response:
    """The stored export as JSON, JSON-LD (W3C DPV; docs/portable-export.md) or PDF.
    Every download is audited."""
    return await download(request, principal, export_id, fmt)


# --- disputes ------------------------------------------------------------------------------


class DisputeIn(BaseModel):
    organisation: str = Field(max_length=64)
    dataset: str = Field(max_length=120)
    source_record_id: str = Field(max_length=120)
    fields: list[Annotated[str, Matching(NOT_BLANK, "Name each field the resident disputes")]] = (
        Field(min_length=1, max_length=40)
    )
    statement: Annotated[str, Matching(NOT_BLANK, "Enter the resident's statement")] = Field(
        max_length=disputes.MAX_STATEMENT
    )


class ResolveIn(BaseModel):
    resolution: Annotated[str, Matching(NOT_BLANK, "Say what was done about the dispute")] = Field(
        max_length=disputes.MAX_RESOLUTION
    )


class DisputeOut(BaseModel):
    id: int
    record_key: str
    organisation: str
    dataset: str
    source_record_id: str
    fields: list[str]
    statement: str
    status: str
    recorded_at: datetime
    resolved_at: datetime | None
    resolution: str


def dispute_out(d: disputes.DisputeInfo) -> DisputeOut:
    return DisputeOut(
        id=d.id,
        record_key=d.record_key,
        organisation=d.organisation,
        dataset=d.dataset,
        source_record_id=d.source_record_id,
        fields=list(d.fields),
        statement=d.statement,
        status=d.status,
        recorded_at=d.recorded_at,
        resolved_at=d.resolved_at,
        resolution=d.resolution,
    )


@router.post(
    "/disputes",
    response_model=DisputeOut,
    status_code=201,
    summary="Record a resident's dispute of a record",
    responses=_errors(401, 403, 404, 422),
    **DPO_ACTS.route(csrf=True),
)
async def api_dispute(request: Request, principal: DpoActing, body: DisputeIn) -> DisputeOut:
    """The record shows as disputed wherever it appears; the source's data owners are
    notified in the app (audited)."""
    info = await run_in_threadpool(
        lambda: disputes.record_dispute(
            _settings(request),
            principal.actor(),
            organisation=body.organisation,
            dataset=body.dataset,
            source_record_id=body.source_record_id,
            fields=body.fields,
            statement=body.statement,
        )
    )
    return dispute_out(info)


@router.get(
    "/disputes",
    response_model=list[DisputeOut],
    summary="Disputes (the DPO: all; a data owner: their organisation's)",
    responses=_errors(401, 403),
    **DISPUTE_READS.route(),
)
async def api_disputes(request: Request, principal: DisputeReader) -> list[DisputeOut]:
    found = await run_in_threadpool(disputes.list_disputes, _settings(request), principal.actor())
    return [dispute_out(d) for d in found]


@router.post(
    "/disputes/{dispute_id}/resolve",
    response_model=DisputeOut,
    summary="Resolve a dispute",
    responses=_errors(401, 403, 404, 409, 422),
    **DISPUTE_ACTS.route(csrf=True),
)
async def api_resolve(
    request: Request, principal: DisputeResolver, dispute_id: DisputeId, body: ResolveIn
) -> DisputeOut:
    """Close the dispute with what was done (audited)."""
    info = await run_in_threadpool(
        disputes.resolve_dispute,
        _settings(request),
        principal.actor(),
        dispute_id,
        body.resolution,
    )
    return dispute_out(info)


# --- notifications ---------------------------------------------------------------------------


class NoticeOut(BaseModel):
    id: int
    kind: str
    message: str
    link: str
    created_at: datetime
    read: bool


@router.get(
    "/notifications",
    response_model=list[NoticeOut],
    summary="Your notifications",
    responses=_errors(401),
    **SOMEONE.route(),
)
async def api_notifications(request: Request, principal: Someone) -> list[NoticeOut]:
    found = await run_in_threadpool(
        notifications.list_notifications, _settings(request), principal.user_id
    )
    return [NoticeOut(**n.__dict__) for n in found]
