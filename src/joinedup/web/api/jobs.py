"""``/api/v1/jobs``: jobs with their status and progress (poll a job while it runs).

Who sees which job: a hub admin sees every job; anyone else sees the jobs started by people
of their own organisation (a job of another organisation, or one started from the command
line, is a 404 to them). Job parameters name files on the server: only hub admins see those
paths.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from joinedup.catalog.models import JobStatus
from joinedup.jobs.service import (
    JobOut,
    job_out,
    visible_job,
    visible_jobs,
)
from joinedup.web.auth import Principal
from joinedup.web.guards import READER

tag = {
    "name": "jobs",
    "description": "Long work (ingest, linkage, insight) runs as jobs. Poll a job for progress. "
    "You see your organisation's jobs (a hub admin sees all).",
}
router = APIRouter(prefix="/jobs", tags=[tag["name"]])

Reader = Annotated[Principal, READER.depends]


@router.get(
    "",
    response_model=list[JobOut],
    summary="List recent jobs",
    **READER.route(),
)
def list_jobs(
    request: Request,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500, description="How many jobs, newest first")] = 50,
    status: Annotated[JobStatus | None, Query(description="Only jobs with this status")] = None,
) -> list[JobOut]:
    rows = visible_jobs(request.app.state.settings, principal, limit=limit, status=status)
    return [job_out(row, principal) for row in rows]


@router.get(
    "/{job_id}",
    response_model=JobOut,
    summary="One job, with its progress",
    responses={404: {"description": "No such job (or not one of your organisation's)"}},
    **READER.route(),
)
def get_job(request: Request, principal: Reader, job_id: str) -> JobOut:
    """A job's status and progress (0 to 1). Poll this while ``status`` is queued or running."""
    row = visible_job(request.app.state.settings, principal, job_id)
    return job_out(row, principal)
