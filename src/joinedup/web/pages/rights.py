"""Residents' rights pages: a DPO finds a resident from their details, reviews the subject
access export and its redactions, releases it (printable page, PDF, JSON, portable JSON-LD),
and records disputes of records. Data owners see and resolve disputes of their data and
read their notifications. Everything calls :mod:`joinedup.rights` (as the API does).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.ingest.service import list_organisations
from joinedup.rights import disputes, exports, notifications
from joinedup.rights.common import SAR_PURPOSE, RightsError
from joinedup.rights.find import (
    NEAR_MISS_PROBABILITY,
    QUERY_FIELDS,
    QUERY_LABELS,
    PersonQuery,
    find_person,
)
from joinedup.rights.readable import record_fields
from joinedup.rights.subject import CollectOptions, collect
from joinedup.web.auth import (
    PERSONAL_DATA,
    SIGNED_IN,
    Principal,
)
from joinedup.web.downloads import download
from joinedup.web.forms import date_parts, error_summary, parse_date
from joinedup.web.guards import guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem("rights", "Rights requests", "/rights"))

ResidentId = Annotated[str, Path(max_length=64)]
ExportId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DisputeId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FIELD_LABELS = QUERY_LABELS


#: A DPO acting under ``subject-access``; disputes: DPOs and data owners.
DPO_PAGE = guard(
    PERSONAL_DATA,
    (Role.DPO,),
    purpose=SAR_PURPOSE,
    refusal="Residents' rights requests are answered under the purpose "
    "'Residents' rights requests': change the purpose you are acting under",
)
DISPUTE_PAGE = guard(SIGNED_IN, (Role.DPO, Role.DATA_OWNER))
SOMEONE_PAGE = guard(SIGNED_IN)
Dpo = Annotated[Principal, DPO_PAGE.depends]
DisputeReader = Annotated[Principal, DISPUTE_PAGE.depends]
Someone = Annotated[Principal, SOMEONE_PAGE.depends]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _find_page(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    result: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    recent = await run_in_threadpool(exports.list_exports, _settings(request), principal.actor())
    settings = _settings(request)
    disputed = await run_in_threadpool(disputes.disputed_in, settings, result) if result else set()
    return render(
        request,
        "pages/rights/find.html",
        {
            "values": values,
            "errors": errors,
            "error_list": error_summary(
                errors, list(QUERY_FIELDS), {"date_of_birth": "date_of_birth-day"}
            ),
            "labels": FIELD_LABELS,
            "result": result,
            "disputed": disputed,
            "near_floor": NEAR_MISS_PROBABILITY,
            "exports": recent[:10],
            "org_names": dict(await run_in_threadpool(list_organisations, settings)),
        },
        status_code=status_code,
    )


@router.get("/rights", response_class=HTMLResponse, **DPO_PAGE.route())
async def rights_home(request: Request, principal: Dpo) -> HTMLResponse:
    return await _find_page(request, principal, {}, {})


@router.post("/rights/find", response_class=HTMLResponse, **DPO_PAGE.route(csrf=True))
async def rights_find(request: Request, principal: Dpo) -> HTMLResponse:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip()[: QUERY_FIELDS[k] + 1] for k in QUERY_FIELDS}
    # the date of birth comes as the GOV.UK date input's three parts
    dob = {k: v[:4] for k, v in date_parts(form, "date_of_birth").items()}
    values.update({f"date_of_birth-{k}": v for k, v in dob.items()})
    born, problem = parse_date(dob, "date of birth") if any(dob.values()) else (None, None)
    values["date_of_birth"] = born.isoformat() if born else ""
    if problem:
        errors = {"date_of_birth": problem.replace("The date of birth", "Date of birth")}
        return await _find_page(request, principal, values, errors, status_code=422)
    try:
        query = PersonQuery.parse({k: v for k, v in values.items() if k in QUERY_FIELDS})
        result = await run_in_threadpool(find_person, _settings(request), principal.actor(), query)
    except RightsError as exc:
        if exc.status != 422:
            raise
        errors = exc.field_errors("given_name")
        return await _find_page(request, principal, values, errors, status_code=422)
    return await _find_page(request, principal, values, {}, result)


@router.get("/rights/residents/{resident_id}", response_class=HTMLResponse, **DPO_PAGE.route())
async def review_export(request: Request, principal: Dpo, resident_id: ResidentId) -> HTMLResponse:
    """The review step: the export as it would be released, and every redaction."""
    document = await run_in_threadpool(
        collect, _settings(request), principal.actor(), resident_id, CollectOptions()
    )
    return render(
        request,
        "pages/rights/review.html",
        {"doc": document, "export": None, "review": True, "fields_of": record_fields},
    )


@router.post("/rights/residents/{resident_id}/exports", **DPO_PAGE.route(csrf=True))
async def release(request: Request, principal: Dpo, resident_id: ResidentId) -> Response:
    form = await request.form()
    options = CollectOptions(release_notes=form.get("release_notes") == "yes")
    info = await run_in_threadpool(
        exports.release_export, _settings(request), principal.actor(), resident_id, options
    )
    return RedirectResponse(f"/rights/exports/{info.id}", status_code=303)


@router.get("/rights/exports/{export_id}", response_class=HTMLResponse, **DPO_PAGE.route())
async def export_page(request: Request, principal: Dpo, export_id: ExportId) -> HTMLResponse:
    """The released export as a printable page (a disclosure: audited)."""
    document, info = await run_in_threadpool(
        exports.load_export, _settings(request), principal.actor(), export_id, "html"
    )
    return render(
        request,
        "pages/rights/review.html",
        {"doc": document, "export": info, "review": False, "fields_of": record_fields},
    )


@router.get("/rights/exports/{export_id}/download/{fmt}", **DPO_PAGE.route())
async def export_download(
    request: Request, principal: Dpo, export_id: ExportId, fmt: str
) -> Response:
    if fmt not in ("json", "jsonld", "pdf"):
        raise HTTPException(404, "Download the export as json, jsonld or pdf")
    return await download(request, principal, export_id, fmt)


# --- disputes --------------------------------------------------------------------------------


def _dispute_form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "pages/rights/dispute_new.html",
        {
            "values": values,
            "errors": errors,
            "error_list": error_summary(
                errors, list(QUERY_FIELDS), {"date_of_birth": "date_of_birth-day"}
            ),
            "max_statement": disputes.MAX_STATEMENT,
        },
        status_code=status_code,
    )


@router.get("/rights/disputes/new", response_class=HTMLResponse, **DPO_PAGE.route())
async def new_dispute_form(
    request: Request, principal: Dpo, record: str = "", resident: str = ""
) -> HTMLResponse:
    del principal
    organisation, _, rest = record[:300].partition("/")
    dataset, _, source_record_id = rest.partition("/")
    values = {
        "organisation": organisation,
        "dataset": dataset,
        "source_record_id": source_record_id,
        "fields": "",
        "statement": "",
        "resident": resident[:64],
    }
    return _dispute_form(request, values, {})


@router.post("/rights/disputes/new", response_class=HTMLResponse, **DPO_PAGE.route(csrf=True))
async def new_dispute(request: Request, principal: Dpo) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k) or "").strip()
        for k in ("organisation", "dataset", "source_record_id", "fields", "statement", "resident")
    }
    errors = {
        k: f"Enter the record's {label}"
        for k, label in (
            ("organisation", "organisation"),
            ("dataset", "dataset"),
            ("source_record_id", "ID"),
        )
        if not values[k] or len(values[k]) > 120
    }
    if errors:
        return _dispute_form(request, values, errors, 422)
    try:
        info = await run_in_threadpool(
            lambda: disputes.record_dispute(
                _settings(request),
                principal.actor(),
                organisation=values["organisation"],
                dataset=values["dataset"],
                source_record_id=values["source_record_id"],
                fields=values["fields"].replace(";", ",").split(","),
                statement=values["statement"],
            )
        )
    except RightsError as exc:
        return _dispute_form(request, values, exc.field_errors("fields"), 422)
    return RedirectResponse(f"/rights/disputes/{info.id}?done=recorded", status_code=303)


@router.get("/rights/disputes", response_class=HTMLResponse, **DISPUTE_PAGE.route())
async def dispute_list(request: Request, principal: DisputeReader) -> HTMLResponse:
    found = await run_in_threadpool(disputes.list_disputes, _settings(request), principal.actor())
    return render(request, "pages/rights/disputes.html", {"disputes": found})


async def _dispute_page(
    request: Request,
    principal: Principal,
    dispute_id: int,
    error: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    info = await run_in_threadpool(
        disputes.get_dispute, _settings(request), principal.actor(), dispute_id
    )
    return render(
        request,
        "pages/rights/dispute.html",
        {"d": info, "error": error, "done": done, "max_resolution": disputes.MAX_RESOLUTION},
        status_code=status_code,
    )


@router.get("/rights/disputes/{dispute_id}", response_class=HTMLResponse, **DISPUTE_PAGE.route())
async def dispute_page(
    request: Request, principal: DisputeReader, dispute_id: DisputeId, done: str | None = None
) -> HTMLResponse:
    return await _dispute_page(request, principal, dispute_id, done=done)


@router.post("/rights/disputes/{dispute_id}/resolve", **DISPUTE_PAGE.route(csrf=True))
async def resolve(request: Request, principal: DisputeReader, dispute_id: DisputeId) -> Response:
    form = await request.form()
    try:
        await run_in_threadpool(
            disputes.resolve_dispute,
            _settings(request),
            principal.actor(),
            dispute_id,
            str(form.get("resolution") or ""),
        )
    except RightsError as exc:
        if exc.status in (403, 404):
            raise
        return await _dispute_page(request, principal, dispute_id, exc.message, status_code=422)
    return RedirectResponse(f"/rights/disputes/{dispute_id}?done=resolved", status_code=303)


# --- notifications ---------------------------------------------------------------------------


@router.get("/notifications", response_class=HTMLResponse, **SOMEONE_PAGE.route())
async def notification_list(request: Request, principal: Someone) -> HTMLResponse:
    found = await run_in_threadpool(
        notifications.list_notifications, _settings(request), principal.user_id
    )
    return render(request, "pages/rights/notifications.html", {"notices": found})


@router.post("/notifications/read", **SOMEONE_PAGE.route(csrf=True))
async def notifications_read(request: Request, principal: Someone) -> Response:
    await run_in_threadpool(notifications.mark_all_read, _settings(request), principal.user_id)
    return RedirectResponse("/notifications", status_code=303)
