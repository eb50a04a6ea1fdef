"""Upload a file: the form, streamed to disk, ingested as a job, then the job's page.

The page posts ``multipart/form-data`` to itself. The body is streamed to disk
(:mod:`joinedup.web.uploads`), checked with the same rules as the API
(:func:`joinedup.ingest.service.check_submission`), and the ingest starts on a background
thread; the answer is a 303 to ``/jobs/{id}``, which shows the job's progress. A file given no
mapping whose layout drifted from the one last accepted for the organisation and dataset is kept
as a draft instead, and the page shows the column diff and the mapping carried over, with one
button to confirm the changes and ingest (the guided page's confirmation step).

Only data owners (for their own organisation) and hub admins reach the form or may post it,
so nobody else can stream a file to disk. The form's CSRF token travels in the multipart body,
so it is checked right after the body is streamed, before anything is kept or started.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.config import Settings
from joinedup.ingest.layouts import layout_of_file
from joinedup.ingest.service import (
    NO_MAPPING,
    UPLOAD_ROLES,
    check_submission,
    ingest_params,
    mappings_for,
    standard_titles,
    start_ingest,
    upload_targets,
)
from joinedup.standards import list_standards
from joinedup.web.auth import (
    CSRF_FIELD,
    SIGNED_IN,
    Principal,
    check_form_csrf,
    streams_form,
)
from joinedup.web.drafts import keep_draft
from joinedup.web.guards import guard
from joinedup.web.pages import PageSection
from joinedup.web.templating import render
from joinedup.web.uploads import (
    UploadLimits,
    UploadTooLarge,
    authorise_upload,
    drain,
    human_size,
    receive_upload,
    require_uploader,
)

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)

#: Form fields in page order (the error summary lists errors in this order).
FIELDS = ("organisation", "dataset", "file", "mapping", "standard", "period")
ACCEPT = ".csv,.tsv,.txt,.xlsx,.xlsm,.json,.ndjson,.jsonl,.parquet"


def _form_context(
    settings: Settings, principal: Principal, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    titles = standard_titles()
    return {
        "values": values,
        "errors": errors,
        "error_list": [
            {"text": errors[name], "href": f"#{name}"} for name in FIELDS if name in errors
        ],
        "organisations": upload_targets(settings, principal),
        "mappings": mappings_for(settings, principal),
        "standards": [(name, titles[name]) for name in list_standards()],
        "titles": titles,
        "no_mapping": NO_MAPPING,
        "max_size": human_size(settings.max_upload_bytes),
        "accept": ACCEPT,
    }


async def _render_form(
    request: Request,
    principal: Principal,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    reselect_file: bool = False,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    context = await run_in_threadpool(
        _form_context, settings, principal, values or {}, errors or {}
    )
    context["reselect_file"] = reselect_file
    return render(request, "pages/upload.html", context, status_code=status_code)


def _values(fields: dict[str, str]) -> dict[str, str]:
    return {name: fields.get(name, "").strip() for name in FIELDS if name != "file"}


UPLOADERS = guard(SIGNED_IN, UPLOAD_ROLES)


@router.get("/upload", response_class=HTMLResponse, **UPLOADERS.route())
async def upload_form(
    request: Request, principal: Principal = Depends(require_uploader)
) -> HTMLResponse:
    prefill = {
        name: request.query_params.get(name, "")[:200] for name in ("organisation", "dataset")
    }
    return await _render_form(request, principal, prefill)


@router.post(
    "/upload",
    response_class=HTMLResponse,
    **UPLOADERS.route(csrf=True),
)
@streams_form
async def upload_submit(
    request: Request, principal: Principal = Depends(require_uploader)
) -> Response:
    settings: Settings = request.app.state.settings
    limits = UploadLimits.for_settings(settings)
    try:
        form = await receive_upload(request, settings, limits=limits)
    except UploadTooLarge as exc:
        await drain(request)
        check_form_csrf(request, exc.fields.get(CSRF_FIELD))
        message = f"The selected file must be smaller than {human_size(exc.limit)}"
        return await _render_form(request, principal, _values(exc.fields), {"file": message}, 413)

    handed_off = False  # once the ingest job owns the file, it deletes it
    try:
        # verify_csrf leaves multipart page forms to us: check before anything else happens.
        check_form_csrf(request, form.fields.get(CSRF_FIELD))
        values = _values(form.fields)
        upload = form.files.get("file")
        submission, errors = await run_in_threadpool(
            lambda: check_submission(
                settings,
                organisation=values["organisation"],
                dataset=values["dataset"],
                mapping=values["mapping"],
                standard=values["standard"],
                period=values["period"],
                upload=upload,
            )
        )
        if submission is None or upload is None:
            # A browser never keeps a chosen file after the page is shown again: say so
            # beside the field, while every other answer is kept.
            keep_note = "file" not in errors and upload is not None
            if keep_note and upload is not None:
                errors["file"] = f"Select the file again ({upload.filename})"
            return await _render_form(
                request, principal, values, errors, 422, reselect_file=keep_note
            )
        # The organisation is a form field here, so the permission check follows the form.
        uploader = await run_in_threadpool(authorise_upload, request, submission.organisation)
        if submission.mapping is None:  # layout memory: a drifted layout is confirmed once
            layout = await run_in_threadpool(
                layout_of_file,
                settings,
                submission.organisation,
                submission.dataset,
                upload.path,
                upload.filename,
            )
            known = layout if layout is not None and layout.status == "known" else None
            if known is not None and known.needs_period and not values["period"]:
                errors = {"period": "Enter the period: the mapping remembered for this "
                          "dataset fills a field from it, for example 2026-10"}  # fmt: skip
                errors["file"] = f"Select the file again ({upload.filename})"
                return await _render_form(
                    request, principal, values, errors, 422, reselect_file=True
                )
            if layout is not None and layout.status == "drifted":
                token, draft = keep_draft(
                    settings,
                    upload,
                    principal.username,
                    organisation=submission.organisation,
                    dataset=submission.dataset,
                    standard=layout.standard or "",
                )
                handed_off = True  # the draft owns the file now
                context = {
                    "draft": draft,
                    "token": token,
                    "match": layout,
                    "period": values["period"],
                }
                return render(request, "pages/onboard_layout.html", context)
        params = ingest_params(submission, upload, uploader)
        handed_off = True
        job_id = await run_in_threadpool(start_ingest, settings, params)
    finally:
        if not handed_off:
            form.discard()
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
