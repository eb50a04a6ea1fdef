"""``/api/v1/jobs``: jobs with their status and progress (poll a job while it runs).

Who sees which job: a hub admin sees every job; anyone else sees the jobs started by people
of their own organisation (a job of another organisation, or one started from the command
line, is a 404 to them). Job parameters name files on the server: only hub admins see those
paths.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Job, JobStatus, Role, User
from joinedup.config import Settings
from joinedup.ingest import mapping as mappings
from joinedup.web.auth import SIGNED_IN, Principal, access, require_scope

tag = {
    "name": "jobs",
    "description": "Long work (ingest, linkage, insight) runs as jobs. Poll a job for progress. "
    "You see your organisation's jobs (a hub admin sees all).",
}
router = APIRouter(prefix="/jobs", tags=[tag["name"]])

#: Job parameters that hold a path on the server, shown only to hub admins.
SERVER_PATH_PARAMS = ("path", "mapping")


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: JobStatus
    progress: float
    message: str
    error: str | None
    params: dict[str, Any]
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status.finished


def _shown_path(key: str, value: Any) -> Any:
    """A server path as a non-admin may see it: a shipped mapping by its name, else nothing."""
    if key == "mapping" and isinstance(value, str):
        try:
            return Path(value).resolve().relative_to(mappings.MAPPINGS_DIR.resolve()).as_posix()
        except (ValueError, OSError):
            return Path(value).name
    return None


def job_out(row: Job, principal: Principal) -> JobOut:
    """The job as ``principal`` may see it (server paths only for hub admins)."""
    job = JobOut.model_validate(row)
    if principal.role != Role.HUB_ADMIN:
        params = dict(job.params)
        for key in SERVER_PATH_PARAMS:
            if key in params and params[key] is not None:
                shown = _shown_path(key, params[key])
                if shown is None:
                    params.pop(key)
                else:
                    params[key] = shown
        job = job.model_copy(update={"params": params})
    return job


def visible_jobs(
    settings: Settings, principal: Principal, limit: int = 50, status: str | None = None
) -> list[Job]:
    """Recent jobs ``principal`` may see, newest first."""
    with session_scope(settings) as session:
        query = select(Job).order_by(Job.created_at.desc()).limit(limit)
        if status:
            query = query.where(Job.status == status)
        if principal.role != Role.HUB_ADMIN:
            query = query.join(User, User.id == Job.created_by_id).where(
                User.organisation_id == principal.organisation_id
            )
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def visible_job(settings: Settings, principal: Principal, job_id: str) -> Job:
    """One job, if ``principal`` may see it; KeyError otherwise (same as a missing job)."""
    with session_scope(settings) as session:
        row = session.get(Job, job_id[:36])
        if row is None:
            raise KeyError(job_id)
        if principal.role != Role.HUB_ADMIN:
            creator = session.get(User, row.created_by_id) if row.created_by_id else None
            if creator is None or creator.organisation_id != principal.organisation_id:
                raise KeyError(job_id)
        session.expunge(row)
        return row


Reader = Annotated[Principal, Depends(require_scope("read"))]


@router.get(
    "",
    response_model=list[JobOut],
    summary="List recent jobs",
    openapi_extra=access(SIGNED_IN),
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
    openapi_extra=access(SIGNED_IN),
)
def get_job(request: Request, principal: Reader, job_id: str) -> JobOut:
    """A job's status and progress (0 to 1). Poll this while ``status`` is queued or running."""
    try:
        row = visible_job(request.app.state.settings, principal, job_id)
    except KeyError:
        raise HTTPException(404, "No such job") from None
    return job_out(row, principal)
