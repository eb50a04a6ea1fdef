"""Residents' objections, for data protection officers: record one, list them (live and
withdrawn), withdraw one. The governance core decides what may be recorded
(:func:`joinedup.governance.objections.record_objection`); its refusals show as GOV.UK errors.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, Role
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.objections import ObjectionSubject
from joinedup.governance.service.common import (
    MAX_NOTE,
)
from joinedup.governance.service.objections import (
    ObjectionIn,
    add_objection,
    end_objection,
    get_objection,
    list_objections,
)
from joinedup.governance.service.purposes import (
    list_purposes,
)
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
    require_roles,
    verify_csrf,
)
from joinedup.web.forms import Wording, confirmed, error_summary, validate
from joinedup.web.guards import guard
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
#: Not in the service navigation: DPOs reach it from the audit log and the admin page.
section = PageSection(router=router)

DPO = Annotated[Principal, Depends(require_roles(Role.DPO))]
CSRF = [Depends(verify_csrf)]
ALL_PURPOSES = "all"
FIELDS = (
    "resident_id",
    "organisation",
    "dataset",
    "source_record_id",
    "purpose",
    "note",
)
#: How the form words the limits :class:`ObjectionIn` states.
OBJECTION_WORDING = {
    "resident_id": Wording(name="The resident ID"),
    "organisation": Wording(name="The organisation"),
    "dataset": Wording(name="The dataset"),
    "source_record_id": Wording(name="The record ID"),
    "note": Wording(name="The note"),
}
ObjectionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DONE = {
    "recorded": "The objection was recorded. The resident is left out of processing for the "
    "purposes it covers from now on.",
    "withdrawn": "The objection was withdrawn.",
}


DPO_ONLY = guard(SIGNED_IN, (Role.DPO,))


@router.get("/objections", response_class=HTMLResponse, **DPO_ONLY.route())
async def objection_list(request: Request, principal: DPO, done: str | None = None) -> HTMLResponse:
    objections = await run_in_threadpool(list_objections, request.app.state.settings, principal)
    return render(
        request,
        "pages/objections/list.html",
        {
            "principal": principal,
            "live": [o for o in objections if not o.withdrawn],
            "withdrawn": [o for o in objections if o.withdrawn],
            "done": DONE.get(done or ""),
        },
    )


def _choices(settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        organisations = [
            (o.code, o.name)
            for o in session.scalars(select(Organisation).order_by(Organisation.name))
        ]
    return {"organisations": organisations, "purposes": list_purposes(settings)}


async def _render_form(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    choices = await run_in_threadpool(_choices, request.app.state.settings)
    error_list = error_summary(errors, FIELDS)
    return render(
        request,
        "pages/objections/new.html",
        {
            "principal": principal,
            "values": values,
            "errors": errors,
            "error_list": error_list,
            "all_purposes": ALL_PURPOSES,
            "max_note": MAX_NOTE,
            **choices,
        },
        status_code=status_code,
    )


@router.get("/objections/new", response_class=HTMLResponse, **DPO_ONLY.route())
async def new_objection_form(request: Request, principal: DPO) -> HTMLResponse:
    return await _render_form(request, principal, {"purpose": ALL_PURPOSES}, {})


def parse_objection_form(form: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The resident is named by resident ID, or by one record (organisation, dataset, ID); the
    lengths are :class:`ObjectionIn`'s."""
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    errors: dict[str, str] = {}
    record_parts = ("organisation", "dataset", "source_record_id")
    by_record = any(values[p] for p in record_parts)
    if values["resident_id"] and by_record:
        errors["resident_id"] = "Enter the resident ID or one of their records, not both"
    elif by_record:
        if not values["organisation"]:
            errors["organisation"] = "Select the organisation that holds the record"
        if not values["dataset"]:
            errors["dataset"] = "Enter the dataset that holds the record"
        if not values["source_record_id"]:
            errors["source_record_id"] = "Enter the record's ID"
    elif not values["resident_id"]:
        errors["resident_id"] = (
            "Enter the resident ID, or the organisation, dataset and ID of one of their records"
        )
    if not values["purpose"]:
        errors["purpose"] = "Select what the resident objects to"
    validate(ObjectionIn, values, OBJECTION_WORDING, errors)
    return values, errors


@router.post("/objections/new", **DPO_ONLY.route(csrf=True))
async def new_objection(request: Request, principal: DPO) -> Response:
    form = await request.form()
    values, errors = parse_objection_form(form)
    if errors:
        return await _render_form(request, principal, values, errors, 422)
    if values["resident_id"]:
        subject = ObjectionSubject(resident_id=values["resident_id"])
    else:
        subject = ObjectionSubject(
            organisation=values["organisation"],
            dataset=values["dataset"],
            source_record_id=values["source_record_id"],
        )
    purpose = None if values["purpose"] == ALL_PURPOSES else values["purpose"]
    try:
        await run_in_threadpool(
            add_objection,
            request.app.state.settings,
            principal,
            subject,
            purpose,
            values["note"],
        )
    except JoinedupError as exc:
        errors = exc.field_errors("resident_id", FIELDS)
        return await _render_form(request, principal, values, errors, 422)
    return RedirectResponse("/objections?done=recorded", status_code=303)


@router.get("/objections/{objection_id}/withdraw", response_class=HTMLResponse, **DPO_ONLY.route())
async def withdraw_form(
    request: Request, principal: DPO, objection_id: ObjectionId
) -> HTMLResponse:
    objection = await run_in_threadpool(
        get_objection, request.app.state.settings, principal, objection_id
    )
    return render(
        request,
        "pages/objections/withdraw.html",
        {"principal": principal, "objection": objection, "error": None},
    )


@router.post("/objections/{objection_id}/withdraw", **DPO_ONLY.route(csrf=True))
async def withdraw(request: Request, principal: DPO, objection_id: ObjectionId) -> Response:
    settings: Settings = request.app.state.settings
    return await confirmed(
        request,
        partial(end_objection, settings, principal, objection_id),
        "pages/objections/withdraw.html",
        lambda: {
            "principal": principal,
            "objection": get_objection(settings, principal, objection_id),
        },
        "/objections?done=withdrawn",
    )
