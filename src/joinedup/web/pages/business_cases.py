"""Business cases: one per intervention, beside its measured impact; the form the service
fills in (cost, residents reached, the canvas's questions) and the PDF for a funding panel.
The use cases are :mod:`joinedup.toolkit.business_case`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.errors import JoinedupError
from joinedup.toolkit.business_case import (
    AUTHORS,
    READERS,
    BusinessCaseIn,
    BusinessCaseView,
    case_pdf,
    get_case,
    save_case,
)
from joinedup.web.auth import SIGNED_IN, Principal, require_roles
from joinedup.web.forms import Wording, error_summary, validate
from joinedup.web.guards import guard
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)
READING = guard(SIGNED_IN, tuple(Role(r) for r in READERS))
WRITING = guard(SIGNED_IN, tuple(Role(r) for r in AUTHORS))
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
Author = Annotated[Principal, Depends(require_roles(*AUTHORS))]
Intervention = Annotated[int, Path(ge=1, le=2**31 - 1)]
FIELDS = tuple(BusinessCaseIn.model_fields)
WORDING = {
    "service": Wording("Enter the service that runs it", "The service"),
    "cost_pounds": Wording("Enter the cost in whole pounds, like 25000", "The cost"),
    "period": Wording("Enter the period the cost covers", "The period"),
    "residents_reached": Wording("Enter how many residents the service reached", "The number"),
    "problem": Wording("Describe the problem it solves", "The problem"),
    "proposal": Wording("Describe what the service does", "What the service does"),
    "beneficiaries": Wording("Say who benefits and how", "Who benefits"),
    "risks": Wording("Say what the risks are and how they are met", "The risks"),
}


def _path(intervention: int) -> str:
    return f"/insight/impact/{intervention}/business-case"


@router.get(
    "/insight/impact/{intervention}/business-case",
    response_class=HTMLResponse,
    **READING.route(),
)
async def case_page(
    request: Request, principal: Reader, intervention: Intervention, done: str | None = None
) -> HTMLResponse:
    view = await run_in_threadpool(get_case, request.app.state.settings, principal, intervention)
    return render(
        request,
        "pages/business_cases/case.html",
        {
            "view": view,
            "path": _path(intervention),
            "may_edit": principal.role in AUTHORS,
            "saved": done == "saved",
        },
    )


def _form(
    request: Request,
    view: BusinessCaseView,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "pages/business_cases/edit.html",
        {
            "view": view,
            "path": _path(int(view.intervention["id"])),
            "values": values,
            "errors": errors,
            "error_list": error_summary(errors, FIELDS),
        },
        status_code=status_code,
    )


@router.get(
    "/insight/impact/{intervention}/business-case/edit",
    response_class=HTMLResponse,
    **WRITING.route(),
)
async def edit_form(request: Request, principal: Author, intervention: Intervention) -> Response:
    view = await run_in_threadpool(get_case, request.app.state.settings, principal, intervention)
    values = view.case.model_dump() if view.case else {}
    return _form(request, view, values, {})


@router.post("/insight/impact/{intervention}/business-case/edit", **WRITING.route(csrf=True))
async def save(request: Request, principal: Author, intervention: Intervention) -> Response:
    settings = request.app.state.settings
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    errors: dict[str, str] = {}
    for number in ("cost_pounds", "residents_reached"):
        if values[number] and not values[number].replace(",", "").isdigit():
            errors[number] = f"{WORDING[number].name} must be a whole number, like 25000"
    raw: dict[str, Any] = {
        **values,
        **{k: values[k].replace(",", "") for k in ("cost_pounds", "residents_reached")},
    }
    body = validate(BusinessCaseIn, raw, WORDING, errors)
    if errors or body is None:
        view = await run_in_threadpool(get_case, settings, principal, intervention)
        return _form(request, view, values, errors, 422)
    try:
        await run_in_threadpool(save_case, settings, principal, intervention, body)
    except JoinedupError as exc:
        view = await run_in_threadpool(get_case, settings, principal, intervention)
        return _form(request, view, values, exc.field_errors("service", FIELDS), exc.status)
    return RedirectResponse(f"{_path(intervention)}?done=saved", status_code=303)


@router.get("/insight/impact/{intervention}/business-case.pdf", **READING.route())
async def pdf(request: Request, principal: Reader, intervention: Intervention) -> Response:
    _name, data = await run_in_threadpool(
        case_pdf, request.app.state.settings, principal, intervention
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="business-case-{intervention}.pdf"'},
    )
