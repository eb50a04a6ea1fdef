import time
from typing import Any

import pytest

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Job
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.jobs import JobContext, get_job, job, list_jobs, run_in_thread, run_inline, submit
from joinedup.jobs.runner import fail_interrupted, work


@job("test.count")
def _count(ctx: JobContext) -> dict[str, Any]:
    n = int(ctx.params.get("n", 3))
    for i in range(n):
        ctx.progress((i + 1) / n, f"step {i + 1}")
        time.sleep(float(ctx.params.get("sleep", 0)))
    return {"counted": n}


@job("test.fail")
def _fail(ctx: JobContext) -> None:
    ctx.progress(0.5, "half way")
    raise ValueError("rule R1 failed on row 7")


def test_inline_job_reports_progress_and_result(db_settings: Settings) -> None:
    seen: list[tuple[float, str]] = []
    row = run_inline(db_settings, "test.count", {"n": 4}, lambda f, m: seen.append((f, m)))
    assert row.status == "succeeded"
    assert row.result == {"counted": 4}
    assert row.progress == 1.0
    assert [f for f, _ in seen][:4] == [0.25, 0.5, 0.75, 1.0]
    assert row.started_at is not None and row.finished_at is not None
    assert row.finished_at >= row.started_at


def test_failed_job_records_the_error(db_settings: Settings) -> None:
    row = run_inline(db_settings, "test.fail")
    assert row.status == "failed"
    assert row.error == "ValueError: rule R1 failed on row 7"
    assert row.progress == 0.5


def test_unknown_kind_is_refused(db_settings: Settings) -> None:
    with pytest.raises(KeyError, match="unknown job kind 'nope'"):
        submit(db_settings, "nope")


def test_background_job_progress_can_be_polled(home_settings: Settings) -> None:
    job_id = run_in_thread(home_settings, "test.count", {"n": 5, "sleep": 0.3})
    seen = set()
    deadline = time.monotonic() + 120  # generous: CI machines are loaded
    while time.monotonic() < deadline:
        row = get_job(home_settings, job_id)
        seen.add(row.status)
        if row.status == "succeeded":
            break
        time.sleep(0.1)
    assert "running" in seen and "succeeded" in seen
    assert get_job(home_settings, job_id).result == {"counted": 5}


def test_worker_runs_queued_jobs_once_each(db_settings: Settings) -> None:
    ids = [submit(db_settings, "test.count", {"n": 1}) for _ in range(3)]
    assert work(db_settings, once=True) == 3
    assert work(db_settings, once=True) == 0
    assert {get_job(db_settings, i).status for i in ids} == {"succeeded"}
    assert len(list_jobs(db_settings, status="succeeded")) == 3


def test_jobs_of_a_dead_process_are_marked_interrupted(db_settings: Settings) -> None:
    with session_scope(db_settings) as session:
        session.add(
            Job(
                id="j-dead",
                kind="test.count",
                status="running",
                worker="elsewhere:1",
                started_at=utcnow(),
                heartbeat_at=utcnow().replace(year=2020),
            )
        )
    assert fail_interrupted(db_settings) == 1
    row = get_job(db_settings, "j-dead")
    assert row.status == "failed"
    assert row.error is not None and "Interrupted" in row.error
