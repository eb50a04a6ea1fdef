"""Ethics records: every purpose's and agreement's record and its state, one record with its
versions beside the fairness check and the objection counts, the form that drafts a new
version, and the DPO's sign-off. The use cases are :mod:`joinedup.toolkit.ethics`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.errors import JoinedupError
from joinedup.governance.ethics import QUESTION_KEYS, QUESTIONS
from joinedup.toolkit.ethics import (
    SUBJECT_PATTERN,
    EthicsDetail,
    EthicsIn,
    SignOffIn,
    draft,
    ethics_path,
    get_record,
    list_subjects,
    sign_off,
)
from joinedup.web.auth import SIGNED_IN, Principal, require_principal, require_roles
from joinedup.web.guards import SIGNED_IN_USER, guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.pages.agreements import govuk_date, parse_date
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="ethics", text="Ethics", href="/ethics"))
DRAFTERS = guard(SIGNED_IN, (Role.DATA_OWNER, Role.ANALYST, Role.DPO))
DPOS = guard(SIGNED_IN, (Role.DPO,))
SignedIn = Annotated[Principal, Depends(require_principal)]
Drafter = Annotated[Principal, Depends(require_roles(Role.DATA_OWNER, Role.ANALYST, Role.DPO))]
Dpo = Annotated[Principal, Depends(require_roles(Role.DPO))]
SubjectType = Annotated[Literal["purpose", "agreement"], Path()]
Subject = Annotated[str, Path(pattern=SUBJECT_PATTERN)]
FORM_FIELDS = (*QUESTION_KEYS, "review_date")
DONE = {
    "drafted": "The new version was saved as a draft. A DPO who did not draft it signs it off.",
    "signed": "The ethics record was signed off. It is in force until its review date.",
}


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _context(principal: Principal, **values: Any) -> dict[str, Any]:
    return {"principal": principal, "govuk_date": govuk_date, "questions": QUESTIONS, **values}


@router.get("/ethics", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def ethics_list(request: Request, principal: SignedIn) -> HTMLResponse:
    subjects = await run_in_threadpool(list_subjects, _settings(request))
    return render(request, "pages/ethics/list.html", _context(principal, subjects=subjects))


async def _render_detail(
    request: Request,
    principal: Principal,
    detail: EthicsDetail,
    *,
    done: str | None = None,
    error: JoinedupError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "pages/ethics/detail.html",
        _context(principal, record=detail, done=DONE.get(done or ""), error=error),
        status_code=status_code,
    )


@router.get(
    "/ethics/{subject_type}/{subject}", response_class=HTMLResponse, **SIGNED_IN_USER.route()
)
async def ethics_page(
    request: Request,
    principal: SignedIn,
    subject_type: SubjectType,
    subject: Subject,
    done: str | None = None,
) -> HTMLResponse:
    detail = await run_in_threadpool(
        get_record, _settings(request), principal, subject_type, subject
    )
    return await _render_detail(request, principal, detail, done=done)


def _render_form(
    request: Request,
    principal: Principal,
    detail: EthicsDetail,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    anchors = {k: (f"{k}-day" if k == "review_date" else k) for k in FORM_FIELDS}
    error_list = [{"text": errors[k], "href": f"#{anchors[k]}"} for k in FORM_FIELDS if k in errors]
    return render(
        request,
        "pages/ethics/new.html",
        _context(principal, record=detail, values=values, errors=errors, error_list=error_list),
        status_code=status_code,
    )


@router.get("/ethics/{subject_type}/{subject}/new", response_class=HTMLResponse, **DRAFTERS.route())
async def new_version_form(
    request: Request, principal: Drafter, subject_type: SubjectType, subject: Subject
) -> HTMLResponse:
    detail = await run_in_threadpool(
        get_record, _settings(request), principal, subject_type, subject
    )
    values: dict[str, Any] = {"review_date": {}}
    if detail.versions:  # start from the latest version's answers
        values |= {a.key: a.answer for a in detail.versions[0].answers}
    return _render_form(request, principal, detail, values, {})


@router.post("/ethics/{subject_type}/{subject}/new", **DRAFTERS.route(csrf=True))
async def new_version(
    request: Request, principal: Drafter, subject_type: SubjectType, subject: Subject
) -> Response:
    settings = _settings(request)
    form = await request.form()
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in QUESTION_KEYS}
    parts = {p: str(form.get(f"review_date-{p}", "")).strip() for p in ("day", "month", "year")}
    values["review_date"] = parts
    errors: dict[str, str] = {}
    for question in QUESTIONS:
        if not values[question.key]:
            errors[question.key] = f"Answer ‘{question.question}’"
    review, problem = parse_date(parts, "review date")
    if problem:
        errors["review_date"] = problem
    detail = await run_in_threadpool(get_record, settings, principal, subject_type, subject)
    if errors or review is None:
        return _render_form(request, principal, detail, values, errors, 422)
    body = EthicsIn(answers={k: values[k] for k in QUESTION_KEYS}, review_date=review)
    try:
        await run_in_threadpool(draft, settings, principal, subject_type, subject, body)
    except JoinedupError as exc:
        errors = exc.field_errors("review_date", FORM_FIELDS)
        return _render_form(request, principal, detail, values, errors, exc.status)
    return RedirectResponse(f"{ethics_path(subject_type, subject)}?done=drafted", 303)


@router.post("/ethics/{subject_type}/{subject}/sign-off", **DPOS.route(csrf=True))
async def sign_off_version(
    request: Request, principal: Dpo, subject_type: SubjectType, subject: Subject
) -> Response:
    settings = _settings(request)
    form = await request.form()
    version = str(form.get("version", ""))
    body = SignOffIn(
        version=int(version) if version.isdigit() and int(version) > 0 else 1,
        note=str(form.get("note", "")).strip()[:500],
    )
    try:
        await run_in_threadpool(sign_off, settings, principal, subject_type, subject, body)
    except JoinedupError as exc:
        if exc.status == 404:
            raise
        detail = await run_in_threadpool(get_record, settings, principal, subject_type, subject)
        return await _render_detail(request, principal, detail, error=exc, status_code=exc.status)
    return RedirectResponse(f"{ethics_path(subject_type, subject)}?done=signed", 303)
