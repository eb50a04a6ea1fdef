"""Jobs: the recent jobs, and one job with its progress, parameters and result.

Signed-in users see their organisation's jobs (hub admins see all); see
:mod:`joinedup.jobs.service`.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from joinedup.catalog.models import JobStatus
from joinedup.jobs.service import count_visible_jobs, job_out, visible_job, visible_jobs
from joinedup.web.auth import Principal, require_principal
from joinedup.web.guards import SIGNED_IN_USER
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="jobs", text="Jobs", href="/jobs"))

PAGE_SIZE = 50


@router.get("/jobs", response_class=HTMLResponse, **SIGNED_IN_USER.route())
def job_list(
    request: Request,
    principal: Principal = Depends(require_principal),
    status: Annotated[str | None, Query(pattern=r"^(failed)?$")] = None,
) -> HTMLResponse:
    """The recent jobs, or with ``?status=failed`` only the failed ones (the hub admin's
    task on the home page)."""
    settings = request.app.state.settings
    rows = visible_jobs(settings, principal, limit=PAGE_SIZE, status=status or None)
    return render(
        request,
        "pages/jobs.html",
        {
            "jobs": [job_out(row, principal) for row in rows],
            "page_size": PAGE_SIZE,
            "status": status or "",
            "failed": count_visible_jobs(settings, principal, JobStatus.FAILED.value),
        },
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse, **SIGNED_IN_USER.route())
def job_detail(
    request: Request, job_id: str, principal: Principal = Depends(require_principal)
) -> HTMLResponse:
    job = job_out(visible_job(request.app.state.settings, principal, job_id), principal)
    return render(
        request,
        "pages/job.html",
        {
            "job": job,
            "params_json": json.dumps(job.params, indent=2, sort_keys=True, default=str),
            "result_json": (
                json.dumps(job.result, indent=2, sort_keys=True, default=str)
                if job.result is not None
                else None
            ),
        },
    )
