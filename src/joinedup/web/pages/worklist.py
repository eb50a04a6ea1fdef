"""The caseworker's worklist: flags with reasons, a household view, and actions on flags.

Everything shown comes from :mod:`joinedup.insight.flags`, which applies the policy decision
(the person's organisation raised the flag, under the purpose they act under; another
organisation's values only as the agreement shares them) and audits every read and action.
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.insight.flags import (
    FLAG_ROLES,
    MAX_NOTE,
    OUTCOME_LABELS,
    STATUSES,
    FlagError,
    FlagFilter,
    get_flag,
    list_flags,
    record_action,
)
from joinedup.rights.disputes import disputes_for
from joinedup.web.auth import PERSONAL_DATA, Principal, require_purpose
from joinedup.web.forms import error_summary
from joinedup.web.guards import guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.pagination import govuk_pagination
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="worklist", text="Worklist", href="/worklist"))

Worker = Annotated[Principal, Depends(require_purpose)]
FlagId = Annotated[str, Path(pattern=r"^f-[0-9a-f]{16}$")]
HouseholdId = Annotated[str, Path(pattern=r"^h-[0-9a-f]{16}$")]
SEVERITIES = (("high", "High"), ("medium", "Medium"), ("low", "Low"))
STATUS_LABELS = {"open": "Open", "quiet": "Acted on", "all": "All"}
DONE = {"recorded": "The action was recorded. The flag stays quiet until its data changes."}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _filters(params: Any) -> tuple[FlagFilter, dict[str, str]]:
    values = {
        "rule": str(params.get("rule", "")).strip()[:80],
        "severity": str(params.get("severity", "")).strip()[:10],
        "status": str(params.get("status", "open")).strip()[:10] or "open",
    }
    if values["severity"] not in ("", "high", "medium", "low"):
        values["severity"] = ""
    if values["status"] not in STATUSES:
        values["status"] = "open"
    if values["rule"] and not all(c.isalnum() or c == "-" for c in values["rule"]):
        values["rule"] = ""
    try:
        page = max(1, min(int(str(params.get("page", "1"))), 100_000))
    except ValueError:
        page = 1
    return (
        FlagFilter(
            rule=values["rule"] or None,
            severity=values["severity"] or None,
            status=values["status"],
            page=page,
        ),
        values,
    )


def _pagination(values: dict[str, str], total: int, page: int, size: int) -> dict[str, Any] | None:
    def href(n: int) -> str:
        return "/worklist?" + urlencode({**{k: v for k, v in values.items() if v}, "page": n})

    return govuk_pagination(page, max(1, math.ceil(total / size)), href, "Worklist pages")


#: The roles that work flags (the policy's own list), acting under a purpose.
WORKERS = guard(PERSONAL_DATA, tuple(Role(r) for r in sorted(FLAG_ROLES)))


@router.get("/worklist", response_class=HTMLResponse, **WORKERS.route())
async def worklist(request: Request, principal: Worker) -> HTMLResponse:
    filters, values = _filters(request.query_params)
    page = await run_in_threadpool(list_flags, _settings(request), principal.actor(), filters)
    first = (page.page - 1) * page.page_size + 1 if page.flags else 0
    return render(
        request,
        "pages/worklist/list.html",
        {
            "principal": principal,
            "page": page,
            "values": values,
            "severities": SEVERITIES,
            "statuses": STATUS_LABELS,
            "first": first,
            "last": first + len(page.flags) - 1 if page.flags else 0,
            "pagination": _pagination(values, page.total, page.page, page.page_size),
        },
    )


@router.get("/worklist/households/{household_id}", response_class=HTMLResponse, **WORKERS.route())
async def household(request: Request, principal: Worker, household_id: HouseholdId) -> HTMLResponse:
    filters = FlagFilter(household_id=household_id, status="all", page_size=500)
    page = await run_in_threadpool(list_flags, _settings(request), principal.actor(), filters)
    if not page.flags:
        raise HTTPException(404, "No flags for that household under your purpose")
    residents: dict[str, list[Any]] = {}
    for f in page.flags:
        residents.setdefault(f.resident_id, []).append(f)
    return render(
        request,
        "pages/worklist/household.html",
        {"principal": principal, "household_id": household_id, "residents": residents},
    )


async def _flag_page(
    request: Request,
    principal: Principal,
    flag_id: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    flag = await run_in_threadpool(get_flag, _settings(request), principal.actor(), flag_id)
    errors = errors or {}
    keys = [f"{r.organisation}/{r.dataset}/{r.source_record_id}" for r in flag.records if r.shown]
    disputed = await run_in_threadpool(disputes_for, _settings(request), keys)
    return render(
        request,
        "pages/worklist/flag.html",
        {
            "principal": principal,
            "flag": flag,
            "outcomes": OUTCOME_LABELS,
            "errors": errors,
            "error_list": error_summary(errors),
            "values": values or {},
            "max_note": MAX_NOTE,
            "done": DONE.get(done or ""),
            "can_act": principal.role == "caseworker",
            "disputed": disputed,
        },
        status_code=status_code,
    )


@router.get("/worklist/flags/{flag_id}", response_class=HTMLResponse, **WORKERS.route())
async def flag_detail(
    request: Request, principal: Worker, flag_id: FlagId, done: str | None = None
) -> HTMLResponse:
    return await _flag_page(request, principal, flag_id, done=done)


@router.post(
    "/worklist/flags/{flag_id}",
    **WORKERS.route(csrf=True),
)
async def flag_action(request: Request, principal: Worker, flag_id: FlagId) -> Response:
    form = await request.form()
    values = {
        "outcome": str(form.get("outcome", "")).strip(),
        "note": str(form.get("note", "")).strip(),
    }
    errors: dict[str, str] = {}
    if values["outcome"] not in OUTCOME_LABELS:
        errors["outcome"] = "Select what happened"
    if len(values["note"]) > MAX_NOTE:
        errors["note"] = f"The note must be {MAX_NOTE} characters or fewer"
    if errors:
        return await _flag_page(
            request, principal, flag_id, errors=errors, values=values, status_code=422
        )
    try:
        await run_in_threadpool(
            record_action,
            _settings(request),
            principal.actor(),
            flag_id,
            values["outcome"],
            values["note"],
        )
    except FlagError as exc:
        return await _flag_page(
            request,
            principal,
            flag_id,
            errors=exc.field_errors("outcome"),
            values=values,
            status_code=422,
        )
    return RedirectResponse(f"/worklist/flags/{flag_id}?done=recorded", status_code=303)
