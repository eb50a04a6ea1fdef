"""``/api/v1/publish``: publication definitions, releases and the DPO's decision.

Analysts define publications and start releases; DPOs approve or reject them. Releases hold
no personal data (only disclosure-controlled aggregates and non-personal datasets), but an
unapproved release is not public yet, so these routes are for those two roles. The public
reads approved releases through the portal pages and the CKAN API (:mod:`web.api.ckan`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.publish.definitions import NAME_PATTERN
from joinedup.publish.jobs import start_release
from joinedup.publish.releases import (
    MAX_NOTE,
    ReleaseView,
    decide,
    disclosure_checks,
    get_release,
    list_publications,
    list_releases,
    save_definition,
)
from joinedup.web.api.responses import errors
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import guard

tag = {
    "name": "publish",
    "description": "Open data publications: definitions, disclosure-controlled releases and "
    "their approval by a DPO (analysts and DPOs).",
}
router = APIRouter(prefix="/publish", tags=[tag["name"]])

#: Analysts and DPOs read publications (token scope ``read``); analysts define and release
#: them and DPOs decide on releases (``governance``).
STAFF = guard(SIGNED_IN, (Role.ANALYST, Role.DPO), scope="read")
ANALYSTS = guard(SIGNED_IN, (Role.ANALYST,), scope="governance")
DPOS = guard(SIGNED_IN, (Role.DPO,), scope="governance")
Staff = Annotated[Principal, STAFF.depends]
Analyst = Annotated[Principal, ANALYSTS.depends]
Dpo = Annotated[Principal, DPOS.depends]
Name = Annotated[str, Path(pattern=NAME_PATTERN, description="The publication's name")]
Version = Annotated[int, Path(ge=1, le=2**31 - 1, description="The release's version")]


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    note: str = Field("", max_length=MAX_NOTE)


class JobStarted(BaseModel):
    job: str = Field(description="Poll /api/v1/jobs/{job} for progress and the result")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def release_dict(view: ReleaseView) -> dict[str, Any]:
    return {
        "publication": view.publication,
        "title": view.title,
        "kind": view.kind,
        "version": view.version,
        "status": view.status,
        "rows": view.row_count,
        "csv_sha256": view.csv_sha256,
        "created_at": view.created_at.isoformat(),
        "created_by": view.created_by,
        "decided_at": view.decided_at.isoformat() if view.decided_at else None,
        "decided_by": view.decided_by,
        "decision_note": view.decision_note,
        "disclosure": view.disclosure,
        "sources": view.sources,
        "datapackage": view.descriptor,
    }


@router.get(
    "/publications",
    summary="Publication definitions",
    responses=errors(401, 403),
    **STAFF.route(),
)
def api_publications(request: Request, _staff: Staff) -> list[dict[str, Any]]:
    return list_publications(_settings(request))


@router.post(
    "/publications",
    summary="Define a publication (or replace the definition of that name)",
    status_code=201,
    responses=errors(401, 403, 422),
    **ANALYSTS.route(csrf=True),
)
async def api_define(
    request: Request,
    analyst: Analyst,
    document: Annotated[dict[str, Any], Body(description="A joinedup-publication/1 document")],
) -> dict[str, Any]:
    pub = await run_in_threadpool(save_definition, _settings(request), document, analyst.user_id)
    return {"name": pub.name, "kind": pub.kind, "title": pub.title}


@router.post(
    "/publications/{name}/releases",
    summary="Start the next release (a job); it waits for a DPO",
    status_code=202,
    response_model=JobStarted,
    responses=errors(401, 403, 404),
    **ANALYSTS.route(csrf=True),
)
async def api_release(request: Request, analyst: Analyst, name: Name) -> JobStarted:
    job_id = await run_in_threadpool(
        start_release, request.app.state.settings, name, analyst.user_id
    )
    return JobStarted(job=job_id)


@router.get(
    "/releases",
    summary="Every release, newest first, with its disclosure report",
    responses=errors(401, 403),
    **STAFF.route(),
)
def api_releases(request: Request, _staff: Staff) -> list[dict[str, Any]]:
    return [release_dict(v) for v in list_releases(_settings(request))]


@router.get(
    "/publications/{name}/releases/{version}",
    summary="One release, with the disclosure checks re-run on it",
    responses=errors(401, 403, 404),
    **STAFF.route(),
)
def api_release_detail(
    request: Request, _staff: Staff, name: Name, version: Version
) -> dict[str, Any]:
    settings = _settings(request)
    view = get_release(settings, name, version)
    return {**release_dict(view), "checks": disclosure_checks(settings, view)}


@router.post(
    "/publications/{name}/releases/{version}/decision",
    summary="Approve (publish) or reject a pending release",
    responses=errors(401, 403, 404, 409, 422),
    **DPOS.route(csrf=True),
)
async def api_decide(
    request: Request, dpo: Dpo, name: Name, version: Version, body: DecisionIn
) -> dict[str, Any]:
    view = await run_in_threadpool(
        decide,
        _settings(request),
        name,
        version,
        dpo.user_id,
        body.decision == "approve",
        body.note,
    )
    return release_dict(view)
