"""Publications for analysts and DPOs: the releases and their status, starting a release
(analysts), and the approval page (the disclosure checks, and a DPO's approve or reject)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.publish.definitions import NAME_PATTERN, PublicationError
from joinedup.publish.jobs import start_release
from joinedup.publish.releases import (
    MAX_NOTE,
    PublishRefused,
    decide,
    disclosure_checks,
    get_release,
    list_publications,
    list_releases,
)
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import guard
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
#: Not in the service navigation: analysts and DPOs reach it from the open data page.
section = PageSection(router=router)

STAFF = guard(SIGNED_IN, (Role.ANALYST, Role.DPO))
ANALYSTS = guard(SIGNED_IN, (Role.ANALYST,))
DPOS = guard(SIGNED_IN, (Role.DPO,))
Staff = Annotated[Principal, STAFF.depends]
Analyst = Annotated[Principal, ANALYSTS.depends]
Dpo = Annotated[Principal, DPOS.depends]
Name = Annotated[str, Path(pattern=NAME_PATTERN)]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
DONE = {
    "approved": "The release is approved: it is on the open data portal now.",
    "rejected": "The release is rejected. It will never be public.",
}


@router.get(
    "/publications",
    response_class=HTMLResponse,
    **STAFF.route(),
)
async def publications(request: Request, principal: Staff) -> HTMLResponse:
    settings = request.app.state.settings
    pubs = await run_in_threadpool(list_publications, settings)
    releases = await run_in_threadpool(list_releases, settings)
    return render(
        request,
        "pages/publications/list.html",
        {
            "principal": principal,
            "publications": pubs,
            "releases": releases,
            "is_analyst": principal.role == Role.ANALYST.value,
        },
    )


@router.post(
    "/publications/{name}/releases",
    **ANALYSTS.route(csrf=True),
)
async def release_submit(request: Request, analyst: Analyst, name: Name) -> Response:
    job_id = await run_in_threadpool(
        start_release, request.app.state.settings, name, analyst.user_id
    )
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


async def _render_release(
    request: Request,
    principal: Principal,
    name: str,
    version: int,
    error: str | None = None,
    done: str | None = None,
    note: str = "",
) -> HTMLResponse:
    settings = request.app.state.settings
    view = await run_in_threadpool(get_release, settings, name, version)
    checks = await run_in_threadpool(disclosure_checks, settings, view)
    return render(
        request,
        "pages/publications/release.html",
        {
            "principal": principal,
            "view": view,
            "checks": checks,
            "all_passed": all(c["passed"] for c in checks),
            "is_dpo": principal.role == Role.DPO.value,
            "error": error,
            "done": DONE.get(done or ""),
            "note": note,
            "max_note": MAX_NOTE,
        },
        status_code=422 if error else 200,
    )


@router.get(
    "/publications/{name}/releases/{version}",
    response_class=HTMLResponse,
    **STAFF.route(),
)
async def release_page(
    request: Request, principal: Staff, name: Name, version: Version, done: str | None = None
) -> HTMLResponse:
    return await _render_release(request, principal, name, version, done=done)


@router.post(
    "/publications/{name}/releases/{version}/decision",
    response_class=HTMLResponse,
    **DPOS.route(csrf=True),
)
async def release_decision(
    request: Request,
    dpo: Dpo,
    name: Name,
    version: Version,
    decision: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if decision not in ("approve", "reject"):
        return await _render_release(
            request, dpo, name, version, error="Choose approve or reject", note=note
        )
    try:
        view = await run_in_threadpool(
            decide,
            request.app.state.settings,
            name,
            version,
            dpo.user_id,
            decision == "approve",
            note,
        )
    except (PublicationError, PublishRefused) as exc:
        return await _render_release(
            request, dpo, name, version, error=exc.field_message, note=note
        )
    return RedirectResponse(
        f"/publications/{name}/releases/{version}?done={view.status}", status_code=303
    )
