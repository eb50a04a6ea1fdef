"""Jobs as people may see them: a hub admin sees every job; anyone else the jobs started by
people of their own organisation (a job of another organisation, or one started from the
command line, is missing to them). Job parameters name files on the server: only hub admins
see those paths. The API (``/api/v1/jobs``) and the pages (``/jobs``) both read jobs here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Job, JobStatus, Role, User
from joinedup.config import Settings
from joinedup.errors import Missing
from joinedup.governance.access import Caller
from joinedup.ingest import mapping as mappings

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


def job_out(row: Job, principal: Caller) -> JobOut:
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
    settings: Settings, principal: Caller, limit: int = 50, status: str | None = None
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


def count_visible_jobs(settings: Settings, principal: Caller, status: str) -> int:
    """How many jobs in ``status`` ``principal`` may see (all for the hub admin)."""
    with session_scope(settings) as session:
        query = select(func.count(Job.id)).where(Job.status == status)
        if principal.role != Role.HUB_ADMIN:
            query = query.join(User, User.id == Job.created_by_id).where(
                User.organisation_id == principal.organisation_id
            )
        return int(session.scalar(query) or 0)


def visible_job(settings: Settings, principal: Caller, job_id: str) -> Job:
    """One job, if ``principal`` may see it; :class:`Missing` (404) otherwise, the same as a
    missing job."""
    with session_scope(settings) as session:
        row = session.get(Job, job_id[:36])
        if row is None:
            raise Missing("No such job")
        if principal.role != Role.HUB_ADMIN:
            creator = session.get(User, row.created_by_id) if row.created_by_id else None
            if creator is None or creator.organisation_id != principal.organisation_id:
                raise Missing("No such job")
        session.expunge(row)
        return row
