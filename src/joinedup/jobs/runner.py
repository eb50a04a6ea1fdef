"""Submitting, claiming and running jobs, with progress persisted for polling."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from sqlalchemy import select, update

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Job, JobStatus
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.jobs.registry import JobContext, ProgressListener, get_function
from joinedup.metrics import timed_job
from joinedup.processes import pid_alive

log = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL = 0.5  # seconds between progress writes to the database
MAX_ERROR_CHARS = 2000


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def submit(
    settings: Settings, kind: str, params: dict[str, Any] | None = None, user_id: int | None = None
) -> str:
    """Queue a job and return its id. The kind must be registered."""
    get_function(kind)
    job_id = str(uuid.uuid4())
    with session_scope(settings) as session:
        session.add(Job(id=job_id, kind=kind, params=params or {}, created_by_id=user_id))
    return job_id


def claim(settings: Settings, job_id: str) -> bool:
    """Atomically move a queued job to running; False if someone else took it."""
    now = utcnow()
    with session_scope(settings) as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
            .values(
                status=JobStatus.RUNNING.value,
                started_at=now,
                heartbeat_at=now,
                worker=worker_name(),
            )
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def claim_next(settings: Settings) -> str | None:
    """Claim the oldest queued job, if any."""
    with session_scope(settings) as session:
        candidates = session.scalars(
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED.value)
            .order_by(Job.created_at)
            .limit(5)
        ).all()
    for job_id in candidates:
        if claim(settings, job_id):
            return job_id
    return None


class _ProgressWriter:
    """Persists progress at most every PROGRESS_WRITE_INTERVAL and forwards it to a listener."""

    def __init__(self, settings: Settings, job_id: str, listener: ProgressListener | None) -> None:
        self.settings = settings
        self.job_id = job_id
        self.listener = listener
        self._last_write = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        if self.listener is not None:
            self.listener(fraction, message)
        now = time.monotonic()
        if now - self._last_write < PROGRESS_WRITE_INTERVAL and fraction < 1.0:
            return
        self._last_write = now
        with session_scope(self.settings) as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(progress=fraction, message=message[:500], heartbeat_at=utcnow())
            )


def _finish(settings: Settings, job_id: str, **values: Any) -> None:
    with session_scope(settings) as session:
        session.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))


def run_job(settings: Settings, job_id: str, listener: ProgressListener | None = None) -> Job:
    """Run a claimed (running) job to completion and return its final row.

    Failures are recorded on the job; the exception is not re-raised, so callers inspect
    ``status`` and ``error``. The stored error is the exception's type and message only.
    """
    with session_scope(settings) as session:
        row = session.get(Job, job_id)
        if row is None:
            raise KeyError(f"no job {job_id}")
        kind, params = row.kind, dict(row.params)
    reporter = _ProgressWriter(settings, job_id, listener)
    context = JobContext(job_id=job_id, settings=settings, params=params, report=reporter)
    started = time.perf_counter()
    fields: dict[str, Any] = {"job_id": job_id, "kind": kind}
    with timed_job(kind) as outcome:
        try:
            result = get_function(kind)(context)
        except Exception as exc:  # recorded on the job, never swallowed silently
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
            _finish(settings, job_id, status=JobStatus.FAILED.value, error=error)
            # the log names the error's type only: its message may quote a row's values
            fields.update(outcome="failed", error_type=type(exc).__name__)
        else:
            reporter(1.0, "Finished")
            _finish(settings, job_id, status=JobStatus.SUCCEEDED.value, progress=1.0, result=result)
            outcome["outcome"] = "succeeded"
            fields["outcome"] = "succeeded"
    fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
    if fields["outcome"] == "failed":
        log.warning("job", extra=fields)
    else:
        log.info("job", extra=fields)
    return get_job(settings, job_id)


def run_inline(
    settings: Settings,
    kind: str,
    params: dict[str, Any] | None = None,
    listener: ProgressListener | None = None,
    user_id: int | None = None,
) -> Job:
    """Submit and run a job in this process (the default way jobs run)."""
    job_id = submit(settings, kind, params, user_id)
    if not claim(settings, job_id):
        raise RuntimeError(f"job {job_id} was claimed by another worker")
    return run_job(settings, job_id, listener)


def run_in_thread(
    settings: Settings, kind: str, params: dict[str, Any] | None = None, user_id: int | None = None
) -> str:
    """Submit a job and run it on a background thread (the web app's default)."""
    job_id = submit(settings, kind, params, user_id)
    if not claim(settings, job_id):
        raise RuntimeError(f"job {job_id} was claimed by another worker")
    thread = threading.Thread(
        target=run_job, args=(settings, job_id), name=f"job-{job_id}", daemon=True
    )
    thread.start()
    return job_id


def get_job(settings: Settings, job_id: str) -> Job:
    with session_scope(settings) as session:
        row = session.get(Job, job_id)
        if row is None:
            raise KeyError(f"no job {job_id}")
        session.expunge(row)
        return row


def list_jobs(settings: Settings, limit: int = 50, status: str | None = None) -> list[Job]:
    with session_scope(settings) as session:
        query = select(Job).order_by(Job.created_at.desc()).limit(limit)
        if status:
            query = query.where(Job.status == status)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def fail_interrupted(settings: Settings, stale_after_seconds: float = 300) -> int:
    """Mark running jobs whose process died (no heartbeat for a while) as failed."""
    cutoff = utcnow().timestamp() - stale_after_seconds
    failed = 0
    with session_scope(settings) as session:
        for row in session.scalars(select(Job).where(Job.status == JobStatus.RUNNING.value)):
            beat = row.heartbeat_at or row.started_at or row.created_at
            host, _, pid = (row.worker or "").rpartition(":")
            same_host_dead = (
                host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))
            )
            if same_host_dead or beat.timestamp() < cutoff:
                row.status = JobStatus.FAILED.value
                row.error = "Interrupted: the process running this job stopped"
                row.finished_at = utcnow()
                failed += 1
    return failed


def work(settings: Settings, poll_seconds: float = 1.0, once: bool = False) -> int:
    """The ``joinedup worker`` loop: claim and run queued jobs. Returns jobs run."""
    ran = 0
    while True:
        job_id = claim_next(settings)
        if job_id is not None:
            run_job(settings, job_id)
            ran += 1
            continue
        if once:
            return ran
        time.sleep(poll_seconds)
