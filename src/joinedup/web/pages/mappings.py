"""Mappings: the shipped mappings, each readable, and a page that drafts a mapping from a
sample file (the web twin of ``joinedup mapping suggest``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.config import Settings
from joinedup.ingest.errors import IngestError
from joinedup.ingest.service import (
    mappings_for,
    shipped_mapping_path,
    shipped_mappings,
    standard_titles,
)
from joinedup.standards import UnknownStandardError, list_standards
from joinedup.web.auth import (
    CSRF_FIELD,
    Principal,
    check_form_csrf,
    require_principal,
    streams_form,
)
from joinedup.web.guards import SIGNED_IN_USER
from joinedup.web.pages import PageSection
from joinedup.web.templating import render
from joinedup.web.uploads import (
    UploadError,
    UploadLimits,
    UploadTooLarge,
    drain,
    human_size,
    receive_upload,
    suggest_upload,
)

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)


@router.get("/mappings", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def mappings_list(
    request: Request, principal: Principal = Depends(require_principal)
) -> HTMLResponse:
    titles = standard_titles()
    settings: Settings = request.app.state.settings
    choices = await run_in_threadpool(mappings_for, settings, principal)
    return render(
        request,
        "pages/mappings.html",
        {"mappings": choices, "titles": titles, "everyone": principal.role == "hub_admin"},
    )


@router.get("/mappings/view/{name:path}", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def mapping_view(
    request: Request, name: str, principal: Principal = Depends(require_principal)
) -> HTMLResponse:
    path = shipped_mapping_path(name)
    entry = next(m for m in shipped_mappings() if m.name == name)
    settings: Settings = request.app.state.settings
    labels = {c.name: c.label for c in mappings_for(settings, principal)}
    return render(
        request,
        "pages/mapping.html",
        {
            "mapping": entry,
            "label": labels.get(name, entry.title),
            "text": path.read_text(encoding="utf-8"),
        },
    )


def _suggest_context(settings: Settings) -> dict[str, object]:
    titles = standard_titles()
    return {
        "standards": [(n, titles[n]) for n in list_standards()],
        "max_size": human_size(settings.max_upload_bytes),
    }


@router.get("/mappings/suggest", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def suggest_form(
    request: Request, principal: Principal = Depends(require_principal)
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    return render(request, "pages/mapping_suggest.html", _suggest_context(settings))


@router.post(
    "/mappings/suggest",
    response_class=HTMLResponse,
    **SIGNED_IN_USER.route(csrf=True),
)
@streams_form
async def suggest_submit(
    request: Request, principal: Principal = Depends(require_principal)
) -> Response:
    settings: Settings = request.app.state.settings
    context = _suggest_context(settings)
    try:
        form = await receive_upload(request, settings, limits=UploadLimits.for_settings(settings))
    except UploadTooLarge as exc:
        await drain(request)
        check_form_csrf(request, exc.fields.get(CSRF_FIELD))
        context["errors"] = {
            "file": f"The selected file must be smaller than {context['max_size']}"
        }
        return render(request, "pages/mapping_suggest.html", context, status_code=413)
    try:
        check_form_csrf(request, form.fields.get(CSRF_FIELD))
        standard = form.field("standard")
        context["values"] = {"standard": standard}
        errors: dict[str, str] = {}
        if standard not in list_standards():
            errors["standard"] = "Select the standard the file should map to"
        if "file" not in form.files:
            errors["file"] = "Select a sample file"
        if errors:
            context["errors"] = errors
            return render(request, "pages/mapping_suggest.html", context, status_code=422)
        try:
            draft = await run_in_threadpool(suggest_upload, settings, form, standard)
        except (IngestError, UnknownStandardError, UploadError) as exc:
            context["errors"] = {"file": f"The file cannot be read: {exc}"}
            return render(request, "pages/mapping_suggest.html", context, status_code=422)
    finally:
        form.discard()
    context["draft"] = draft
    return render(request, "pages/mapping_suggest.html", context)
