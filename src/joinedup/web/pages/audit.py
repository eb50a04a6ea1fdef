"""The audit log for data protection officers: filter, page through, check the hash chain,
download as CSV. Reading the log is itself recorded in it (``audit.view``, ``audit.export``).

Hub admins do not read the log here: its entries name residents' records, and hub admins
never see personal data. They can check the chain is intact (``joinedup audit verify`` or
``GET /api/v1/audit/verify``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.governance.audit_search import AuditFilter
from joinedup.governance.service.audit import (
    AUDIT_PAGE_SIZE,
    audit_choices,
    audit_filter,
    export_audit_csv,
    iter_file,
    organisation_id,
    search_audit,
    verify_audit,
)
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
    require_roles,
)
from joinedup.web.forms import error_summary, parse_date
from joinedup.web.guards import guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.pages.agreements import govuk_date
from joinedup.web.pagination import govuk_pagination
from joinedup.web.templating import UK_TIME, render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="audit", text="Audit", href="/audit"))

DPO = Annotated[Principal, Depends(require_roles(Role.DPO))]
TEXT_FILTERS = ("user", "record", "organisation", "action", "purpose", "decision", "agreement")
MAX_TEXT = 120


def short_when(value: datetime) -> Markup:
    """Compact UK time for a table cell, to the second: ``23 Nov 2026`` and ``2:07:05pm``."""
    local = value.astimezone(UK_TIME) if UK_TIME else value
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    zone = "" if UK_TIME else " UTC"
    day = f"{local.day}\u00a0{local:%b}\u00a0{local:%Y}"
    return Markup("{}<br>{}").format(day, f"{hour}:{local:%M:%S}{suffix}{zone}")


@dataclass
class Filters:
    """The filters as typed (to show again), their errors, and the parsed filter."""

    values: dict[str, Any]
    errors: dict[str, str]
    where: AuditFilter | None
    page: int

    def query(self, **extra: Any) -> str:
        """The query string for these filters (for pagination and the CSV link)."""
        pairs: list[tuple[str, str]] = []
        for name in TEXT_FILTERS:
            if self.values.get(name):
                pairs.append((name, self.values[name]))
        for name in ("from", "to"):
            for part in ("day", "month", "year"):
                value = self.values[name].get(part)
                if value:
                    pairs.append((f"{name}-{part}", value))
        pairs += [(k, str(v)) for k, v in extra.items()]
        return urlencode(pairs)


def parse_filters(settings: Settings, params: Any) -> Filters:
    values: dict[str, Any] = {
        name: str(params.get(name, "")).strip()[:MAX_TEXT] for name in TEXT_FILTERS
    }
    for name in ("from", "to"):
        values[name] = {
            part: str(params.get(f"{name}-{part}", "")).strip()[:4]
            for part in ("day", "month", "year")
        }
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name, label in (("from", "date from"), ("to", "date to")):
        if any(values[name].values()):
            days[name], problem = parse_date(values[name], label)
            if problem:
                errors[name] = problem
        else:
            days[name] = None
    if days.get("from") and days.get("to") and days["to"] < days["from"]:  # type: ignore[operator]
        errors["to"] = "The date to must be the same as or after the date from"
    if values["decision"] not in ("", "allow", "deny"):
        errors["decision"] = "Select allow or deny"
    org_id = None
    if values["organisation"]:
        org_id = organisation_id(settings, values["organisation"])
        if org_id is None:
            errors["organisation"] = "Select an organisation from the list"
    try:
        page = max(1, min(int(str(params.get("page", "1"))), 1_000_000))
    except ValueError:
        page = 1
    where = None
    if not errors:
        where = audit_filter(
            user=values["user"],
            record=values["record"],
            organisation_id=org_id,
            action=values["action"],
            purpose=values["purpose"],
            decision=values["decision"],
            agreement=values["agreement"],
            date_from=days.get("from"),
            date_to=days.get("to"),
        )
    return Filters(values, errors, where, page)


def _pagination(filters: Filters, total: int, page: int) -> dict[str, Any] | None:
    pages = max(1, math.ceil(total / AUDIT_PAGE_SIZE))
    return govuk_pagination(
        page, pages, lambda n: "/audit?" + filters.query(page=n), "Audit log pages"
    )


DPO_ONLY = guard(SIGNED_IN, (Role.DPO,))


@router.get("/audit", response_class=HTMLResponse, **DPO_ONLY.route())
async def audit_page(request: Request, principal: DPO) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    filters = await run_in_threadpool(parse_filters, settings, request.query_params)
    choices = await run_in_threadpool(audit_choices, settings)
    verify = await run_in_threadpool(verify_audit, settings, principal)
    results = None
    status_code = 200
    if filters.where is not None:
        results = await run_in_threadpool(
            search_audit, settings, principal, filters.where, filters.page
        )
    else:
        status_code = 422
    anchors = {"from": "from-day", "to": "to-day"}
    error_list = error_summary(filters.errors, anchors=anchors)
    page = results.page if results else None
    return render(
        request,
        "pages/audit/index.html",
        {
            "principal": principal,
            "filters": filters,
            "errors": filters.errors,
            "error_list": error_list,
            "choices": choices,
            "verify": verify,
            "results": page,
            "whole_log": results.scope.whole_log if results else True,
            "first": (page.page - 1) * page.page_size + 1 if page and page.events else 0,
            "last": (page.page - 1) * page.page_size + len(page.events) if page else 0,
            "pagination": _pagination(filters, page.total, page.page) if page else None,
            "csv_href": "/audit/export.csv" + ("?" + filters.query() if filters.query() else ""),
            "govuk_date": govuk_date,
            "short_when": short_when,
        },
        status_code=status_code,
    )


@router.get("/audit/export.csv", response_model=None, **DPO_ONLY.route())
async def audit_csv(request: Request, principal: DPO) -> Response:
    settings: Settings = request.app.state.settings
    filters = await run_in_threadpool(parse_filters, settings, request.query_params)
    if filters.where is None:
        return await audit_page(request, principal)
    handle = await run_in_threadpool(export_audit_csv, settings, principal, filters.where)
    today = date.today().isoformat()
    return StreamingResponse(
        iter_file(handle),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="joinedup-audit-{today}.csv"'},
    )
