"""The guided mapping page for data owners: upload a sample, check each standard field's
suggested column (confidence, a few sample values, value shapes for personal fields), fix it
with drop-downs and code maps, preview the validation on the sample, and save: the hub then
remembers the layout. A later file in a known layout needs nothing; a drifted one shows its
column diff to confirm once, and is ingested.

The suggestion engine is the one ``joinedup mapping suggest`` uses. The sample is kept between
the steps as a signed draft (:mod:`joinedup.web.drafts`) and deleted on save or ingest.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.ingest.guided import check_choices, field_rows, mapping_from_choices, preview
from joinedup.ingest.layouts import match_layout, remember_layout
from joinedup.ingest.service import (
    MAX_PERIOD,
    UPLOAD_ROLES,
    standard_titles,
    start_ingest,
    upload_targets,
)
from joinedup.ingest.suggest import read_sample, suggest_mapping
from joinedup.standards import list_standards
from joinedup.web.auth import CSRF_FIELD, SIGNED_IN, Principal, check_form_csrf, streams_form
from joinedup.web.drafts import Draft, keep_draft, open_draft
from joinedup.web.guards import guard
from joinedup.web.pages import PageSection
from joinedup.web.templating import render
from joinedup.web.uploads import (
    UploadError,
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
GUIDED = guard(SIGNED_IN, UPLOAD_ROLES)
START_FIELDS = ("organisation", "dataset", "standard", "file")
NOT_MAPPED = ""


def _start_context(
    settings: Settings, principal: Principal, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    titles = standard_titles()
    return {
        "values": values,
        "errors": errors,
        "error_list": [{"text": errors[n], "href": f"#{n}"} for n in START_FIELDS if n in errors],
        "organisations": upload_targets(settings, principal),
        "standards": [(n, titles[n]) for n in list_standards()],
        "max_size": human_size(settings.max_upload_bytes),
    }


async def _start(
    request: Request,
    principal: Principal,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    context = await run_in_threadpool(
        _start_context, settings, principal, values or {}, errors or {}
    )
    return render(request, "pages/onboard_start.html", context, status_code=status_code)


@router.get("/mappings/guided", response_class=HTMLResponse, **GUIDED.route())
async def guided_form(
    request: Request, principal: Principal = Depends(require_uploader)
) -> HTMLResponse:
    return await _start(request, principal)


def _map_context(
    settings: Settings, draft: Draft, token: str, choices: dict[str, str] | None = None,
    codes: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    columns, sample = read_sample(settings, draft.path, name=draft.filename)
    _, suggestions = suggest_mapping(draft.standard, columns, sample)
    if choices is not None:  # the person's choices replace the suggestions they changed
        by_field = {s.field: s for s in suggestions}
        for name, column in choices.items():
            s = by_field[name]
            if (s.column or NOT_MAPPED) != column:
                s.column, s.score, s.review, s.problems = column or None, 1.0, False, []
                s.why, s.options = "chosen by you", {}
        for name, chosen in (codes or {}).items():
            by_field[name].options = {"codes": chosen}
    return {
        "draft": draft,
        "token": token,
        "columns": columns,
        "rows": field_rows(draft.standard, sample, suggestions),
        "title": standard_titles()[draft.standard],
    }


def _choices(form: Any, standard: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    from joinedup.standards import field_names

    columns = {n: str(form.get(f"column-{n}", "")) for n in field_names(standard)}
    codes: dict[str, dict[str, str]] = {}
    for key in form:
        if key.startswith("codesrc-"):
            name, index = key.removeprefix("codesrc-").rsplit("-", 1)
            codes.setdefault(name, {})[str(form[key])] = str(form.get(f"code-{name}-{index}", ""))
    return columns, codes


@router.post("/mappings/guided", response_class=HTMLResponse, **GUIDED.route(csrf=True))
@streams_form
async def guided_upload(
    request: Request, principal: Principal = Depends(require_uploader)
) -> Response:
    settings: Settings = request.app.state.settings
    try:
        form = await receive_upload(request, settings, limits=UploadLimits.for_settings(settings))
    except UploadTooLarge as exc:
        await drain(request)
        check_form_csrf(request, exc.fields.get(CSRF_FIELD))
        message = f"The selected file must be smaller than {human_size(exc.limit)}"
        return await _start(request, principal, dict(exc.fields), {"file": message}, 413)
    kept = False
    try:
        check_form_csrf(request, form.fields.get(CSRF_FIELD))
        values = {n: form.fields.get(n, "").strip() for n in START_FIELDS if n != "file"}
        upload = form.files.get("file")
        errors: dict[str, str] = {}
        if not values["organisation"]:
            errors["organisation"] = "Select the organisation the file comes from"
        if not values["dataset"]:
            errors["dataset"] = "Enter a dataset name"
        if values["standard"] and values["standard"] not in list_standards():
            errors["standard"] = "Select a standard from the list"
        if upload is None or upload.size == 0:
            errors["file"] = "Select a sample file"
        if errors or upload is None:
            return await _start(request, principal, values, errors, 422)
        await run_in_threadpool(authorise_upload, request, values["organisation"])
        try:
            columns, sample = await run_in_threadpool(
                read_sample, settings, upload.path, 500, upload.filename
            )
            match = await run_in_threadpool(
                match_layout, settings, values["organisation"], values["dataset"], columns, sample
            )
        except JoinedupError as exc:
            return await _start(request, principal, values, {"file": str(exc)}, 422)
        if match.status == "new" and not values["standard"]:
            message = "Select the standard the file should map to (this dataset has no layout yet)"
            return await _start(request, principal, values, {"standard": message}, 422)
        standard = match.standard or values["standard"]
        token, draft = keep_draft(
            settings,
            upload,
            principal.username,
            organisation=values["organisation"],
            dataset=values["dataset"],
            standard=standard,
        )
        kept = True
    finally:
        if not kept:
            form.discard()
    if match.status != "new":
        context = {"draft": draft, "token": token, "match": match}
        return render(request, "pages/onboard_layout.html", context)
    context = await run_in_threadpool(_map_context, settings, draft, token)
    return render(request, "pages/onboard_map.html", context)


@router.post("/mappings/guided/map", response_class=HTMLResponse, **GUIDED.route(csrf=True))
async def guided_map(
    request: Request, principal: Principal = Depends(require_uploader)
) -> Response:
    """Preview the validation of the chosen mapping on the sample, or save it."""
    settings: Settings = request.app.state.settings
    form = await request.form()
    token = str(form.get("token", ""))
    draft = open_draft(settings, token, principal.username)
    await run_in_threadpool(authorise_upload, request, draft.organisation)
    choices, codes = _choices(form, draft.standard)
    period = str(form.get("period", "")).strip()[:MAX_PERIOD]
    context = await run_in_threadpool(_map_context, settings, draft, token, choices, codes)
    context["period"] = period
    _, sample = await run_in_threadpool(read_sample, settings, draft.path, 500, draft.filename)
    mapping = mapping_from_choices(draft.standard, sample, choices, codes)
    errors = check_choices(mapping)
    if errors:
        context["errors"] = errors
        context["error_list"] = [{"text": t, "href": f"#column-{n}"} for n, t in errors.items()]
        return render(request, "pages/onboard_map.html", context, status_code=422)
    if form.get("action") == "save":
        await run_in_threadpool(
            lambda: remember_layout(
                settings,
                draft.organisation,
                draft.dataset,
                context["columns"],
                mapping,
                actor=principal.username,
                user_id=principal.user_id,
            )
        )
        draft.path.unlink(missing_ok=True)
        return render(request, "pages/onboard_layout.html", {"draft": draft, "saved": True})
    try:
        context["report"] = await run_in_threadpool(
            preview,
            settings,
            draft.path,
            mapping,
            draft.filename,
            date.today().isoformat(),
            period or None,
        )
    except JoinedupError as exc:
        where = "period" if getattr(exc, "field", None) == "period" else "preview"
        context["errors"] = {where: str(exc)}
        context["error_list"] = [{"text": str(exc), "href": f"#{where}"}]
    return render(request, "pages/onboard_map.html", context)


@router.post("/mappings/guided/ingest", **GUIDED.route(csrf=True))
async def guided_ingest(
    request: Request, principal: Principal = Depends(require_uploader)
) -> Response:
    """Ingest a file in a known layout, or in a drifted one the data owner has confirmed."""
    settings: Settings = request.app.state.settings
    form = await request.form()
    try:
        draft = open_draft(settings, str(form.get("token", "")), principal.username)
    except UploadError:
        expired = {"file": "The file has expired: upload it again"}
        return await _start(request, principal, {}, expired, 400)
    uploader = await run_in_threadpool(authorise_upload, request, draft.organisation)
    period = str(form.get("period", "")).strip()
    if not period:  # a mapping that fills a field from the reporting period needs one
        columns, sample = await run_in_threadpool(
            read_sample, settings, draft.path, 500, draft.filename
        )
        match = await run_in_threadpool(
            match_layout, settings, draft.organisation, draft.dataset, columns, sample
        )
        if match.needs_period:
            errors = {"period": "Enter the reporting period, for example 2026-10"}
            context = {"draft": draft, "token": str(form.get("token")), "match": match,
                       "errors": errors}  # fmt: skip
            return render(request, "pages/onboard_layout.html", context, status_code=422)
    params = {
        "organisation": draft.organisation,
        "dataset": draft.dataset,
        "path": str(draft.path),
        "filename": draft.filename,
        "period": period or None,
        "actor": uploader.actor,
        "user_id": uploader.user_id,
        "confirm_layout": form.get("confirm") == "yes",
        "delete_after": True,
    }
    job_id = await run_in_threadpool(start_ingest, settings, params)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
