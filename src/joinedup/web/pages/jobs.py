"""Jobs: the recent jobs, and one job in words: what it did, its outcome and its inputs.

Signed-in users see their organisation's jobs (hub admins see all); see
:mod:`joinedup.jobs.service`. A job's parameters and result are shown as labelled values
(:mod:`joinedup.jobs.readable`), never as JSON; an upload's job says what became of the file
and links to the validation report and the dataset.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import JobStatus
from joinedup.ingest.service import dataset_path, list_organisations, mappings_for, version_path
from joinedup.jobs import readable
from joinedup.jobs.service import JobOut, count_visible_jobs, job_out, visible_job, visible_jobs
from joinedup.web.auth import Principal, require_principal
from joinedup.web.guards import SIGNED_IN_USER
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="jobs", text="Jobs", href="/jobs"))

PAGE_SIZE = 50
#: An upload's parameters in the order a person thinks of them, with their labels.
INGEST_PARAMS = {
    "organisation": "Organisation",
    "dataset": "Dataset",
    "filename": "File",
    "mapping": "Mapping",
    "standard": "Standard",
    "period": "Period",
}


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
            "titles": {row.kind: readable.kind_title(row.kind) for row in rows},
            "page_size": PAGE_SIZE,
            "status": status or "",
            "failed": count_visible_jobs(settings, principal, JobStatus.FAILED.value),
        },
    )


def _ingest_view(request: Request, job: JobOut, principal: Principal) -> dict[str, Any]:
    """An upload's outcome in a sentence, its links, and its inputs by their labels."""
    settings = request.app.state.settings
    names = dict(list_organisations(settings))
    params = dict(job.params)
    org = str(params.get("organisation", ""))
    params["organisation"] = names.get(org, org)
    if params.get("mapping"):
        labels = {m.name: m.label for m in mappings_for(settings, principal)}
        params["mapping"] = labels.get(str(params["mapping"]), params["mapping"])
    inputs = [
        (label, readable.text(params[k])) for k, label in INGEST_PARAMS.items() if params.get(k)
    ]
    view: dict[str, Any] = {"inputs": inputs, "outcome": None, "links": []}
    result = job.result or {}
    if job.status.value == "succeeded" and result.get("version") is not None:
        number = int(result["version"])
        dataset = str(result.get("dataset", params.get("dataset", "")))
        rows = int(result.get("rows", 0))
        if result.get("status") == "unchanged":
            view["outcome"] = (
                f"The file is identical to version {number} of {dataset}, so it was not "
                "stored again."
            )
        else:
            view["outcome"] = (
                f"The file was checked and stored as version {number} of {dataset}: "
                f"{int(result.get('accepted', 0)):,} of {rows:,} rows accepted, "
                f"{int(result.get('rejected', 0)):,} quarantined."
            )
        # an unchanged file's warning says what the outcome already says
        unchanged = result.get("status") == "unchanged"
        view["warnings"] = [] if unchanged else list(result.get("warnings") or [])
        view["links"] = [
            (f"See the validation report for version {number}", version_path(org, dataset, number)),
            (f"See the dataset {dataset} and all its versions", dataset_path(org, dataset)),
        ]
    return view


@router.get("/jobs/{job_id}", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def job_detail(
    request: Request, job_id: str, principal: Principal = Depends(require_principal)
) -> HTMLResponse:
    settings = request.app.state.settings
    row = await run_in_threadpool(visible_job, settings, principal, job_id)
    job = job_out(row, principal)
    context: dict[str, Any] = {
        "job": job,
        "title": readable.kind_title(job.kind),
        "params": readable.rows(job.params),
        "result": readable.rows(job.result) if job.result is not None else None,
        "ingest": None,
    }
    if job.kind == "ingest":
        context["ingest"] = await run_in_threadpool(_ingest_view, request, job, principal)
    return render(request, "pages/job.html", context)
