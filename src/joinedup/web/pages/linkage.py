"""Linkage pages for analysts under the purpose ``linkage``: the overview of the resident
index (latest run, runs, open a resident), the clerical review queue, one pair side by side
with its match-weight waterfall and the decision form, and a resident's explanation.

The data comes from :mod:`joinedup.linkage.explain` (records through the access gateway,
audited), the same functions as ``/api/v1/linkage``. The waterfall is an HTML table with one
small server-drawn SVG bar per row (no script; the table carries every number).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.linkage import explain
from joinedup.linkage.explain import DISPLAY_FIELDS, FIELD_TITLES, Evidence
from joinedup.linkage.review import MAX_NOTE, REVIEW_PURPOSE, ReviewError
from joinedup.rights.disputes import disputes_for
from joinedup.web.auth import (
    PERSONAL_DATA,
    Principal,
    verify_csrf,
)
from joinedup.web.forms import error_summary
from joinedup.web.guards import guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.pagination import govuk_pagination
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="linkage", text="Linkage", href="/linkage"))

CSRF = [Depends(verify_csrf)]
DONE = {
    "match": "Recorded: the two records are the same person.",
    "non_match": "Recorded: the two records are different people.",
    "skip": "Skipped: the pair stays in the queue.",
}
DECISION_TEXT = {"match": "Same person", "non_match": "Different people"}
BAR_WIDTH = 200.0


# --- the waterfall's geometry ----------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One row of the waterfall: label, level, weight, running total, and its bar."""

    title: str
    level: str
    weight: float | None
    cumulative: float
    x: float
    width: float
    kind: str  # "up", "down", "start" or "total"


def waterfall_bars(evidence: Evidence, width: float = BAR_WIDTH) -> tuple[list[Bar], float]:
    """The waterfall rows and the x of zero, on a shared scale ``0..width``."""
    points = [0.0, evidence.prior_weight, evidence.match_weight]
    points += [v for s in evidence.steps for v in (s.start, s.end)]
    low, high = min(points), max(points)
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return round((value - low) / span * width, 2)

    def bar(start: float, end: float) -> tuple[float, float]:
        left, right = sorted((x(start), x(end)))
        return left, max(round(right - left, 2), 1.0)

    rows = [
        Bar(
            "Prior",
            "two records picked at random",
            None,
            evidence.prior_weight,
            *bar(0.0, evidence.prior_weight),
            "start",
        ),
    ]
    for s in evidence.steps:
        weight = s.weight + s.tf_adjustment
        rows.append(
            Bar(
                s.title,
                s.level,
                weight,
                s.end,
                *bar(s.start, s.end),
                "up" if weight >= 0 else "down",
            )
        )
    rows.append(
        Bar(
            "Match weight",
            f"probability {evidence.match_probability:.3f}",
            None,
            evidence.match_weight,
            *bar(0.0, evidence.match_weight),
            "total",
        )
    )
    return rows, x(0.0)


def signed(value: float | None) -> str:
    """A weight with its sign and a true minus: ``+4.73``, ``−2.37``."""
    if value is None:
        return ""
    text = f"{abs(value):.2f}"
    return ("+" if value >= 0 else "\u2212") + text


def probability_text(value: float) -> str:
    return f"{value:.3f}"


def _pagination(page: int, pages: int) -> dict[str, Any] | None:
    return govuk_pagination(
        page, pages, lambda n: f"/linkage/review?page={n}", "Review queue pages"
    )


def _common() -> dict[str, Any]:
    return {
        "signed": signed,
        "probability_text": probability_text,
        "fields": DISPLAY_FIELDS,
        "field_titles": FIELD_TITLES,
        "decision_text": DECISION_TEXT,
        "bar_width": BAR_WIDTH,
    }


# --- pages -----------------------------------------------------------------------------------


#: Analysts acting under the purpose ``linkage`` (resident index maintenance).
REVIEWERS = guard(
    PERSONAL_DATA,
    (Role.ANALYST,),
    purpose=REVIEW_PURPOSE,
    refusal="Reviewing matches and explaining residents is part of resident index maintenance. "
    "You are acting under another purpose, so these pages are not open to you now.",
)
Reviewer = Annotated[Principal, REVIEWERS.depends]


@router.get("/linkage", response_class=HTMLResponse, **REVIEWERS.route())
async def overview(request: Request, principal: Reviewer, resident: str | None = None) -> Response:
    settings = request.app.state.settings
    runs = await run_in_threadpool(explain.list_runs, settings, 20)
    error = None
    value = (resident or "").strip()[:100]
    if resident is not None:
        if not value:
            error = "Enter a resident ID"
        elif await run_in_threadpool(explain.find_resident, settings, principal.actor(), value):
            return RedirectResponse(f"/residents/{quote(value, safe='')}", status_code=303)
        else:
            error = "There is no resident with that ID in the latest run"
    waiting = None
    if runs:
        queue = await run_in_threadpool(
            partial(explain.review_queue, settings, 1, 1, actor=principal.actor())
        )
        waiting = queue.waiting
    return render(
        request,
        "pages/linkage/index.html",
        {
            "latest": runs[0] if runs else None,
            "runs": runs,
            "waiting": waiting,
            "resident": value,
            "error": error,
            **_common(),
        },
        status_code=422 if error else 200,
    )


@router.get("/linkage/review", response_class=HTMLResponse, **REVIEWERS.route())
async def queue_page(
    request: Request,
    principal: Reviewer,
    page: str = "1",
    done: str | None = None,
) -> Response:
    try:
        number = max(1, min(int(page), 1_000_000))
    except ValueError:
        number = 1
    queue = await run_in_threadpool(
        partial(
            explain.review_queue,
            request.app.state.settings,
            number,
            explain.PAGE_SIZE,
            actor=principal.actor(),
        )
    )
    first = (queue.page - 1) * queue.page_size + 1
    return render(
        request,
        "pages/linkage/queue.html",
        {
            "queue": queue,
            "first": first,
            "last": first + len(queue.items) - 1,
            "pagination": _pagination(queue.page, queue.pages),
            "done": DONE.get(done or ""),
            **_common(),
        },
    )


async def _pair_page(
    request: Request,
    principal: Principal,
    pair_id: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = await run_in_threadpool(
        explain.view_pair, request.app.state.settings, principal.actor(), pair_id
    )
    bars, zero = waterfall_bars(view.evidence)
    errors = errors or {}
    return render(
        request,
        "pages/linkage/pair.html",
        {
            "view": view,
            "evidence": view.evidence,
            "bars": bars,
            "zero": zero,
            "errors": errors,
            "error_list": error_summary(errors),
            "values": values or {},
            "max_note": MAX_NOTE,
            "done": DONE.get(done or ""),
            **_common(),
        },
        status_code=status_code,
    )


@router.get("/linkage/review/{pair_id}", response_class=HTMLResponse, **REVIEWERS.route())
async def pair_page(
    request: Request,
    principal: Reviewer,
    pair_id: str,
    done: str | None = None,
) -> Response:
    return await _pair_page(request, principal, pair_id[:64], done=done)


@router.post(
    "/linkage/review/{pair_id}",
    response_class=HTMLResponse,
    **REVIEWERS.route(csrf=True),
)
async def pair_decide(request: Request, principal: Reviewer, pair_id: str) -> Response:
    pair_id = pair_id[:64]
    form = await request.form()
    decision = str(form.get("decision", "")).strip()
    note = str(form.get("note", ""))
    values = {"decision": decision, "note": note[: MAX_NOTE * 2]}
    errors: dict[str, str] = {}
    if decision not in ("match", "non_match", "skip"):
        errors["decision"] = "Select whether the records are the same person, or skip the pair"
    if len(note.strip()) > MAX_NOTE:
        errors["note"] = f"The note must be {MAX_NOTE} characters or fewer"
    if errors:
        return await _pair_page(
            request, principal, pair_id, errors=errors, values=values, status_code=422
        )
    settings = request.app.state.settings
    try:
        if decision == "skip":
            await run_in_threadpool(explain.pair_evidence, settings, pair_id)  # 404 if unknown
            following = await run_in_threadpool(
                partial(explain.next_pair, settings, pair_id, actor=principal.actor())
            )
        else:
            _, following = await run_in_threadpool(
                explain.decide_pair, settings, principal.actor(), pair_id, decision, note
            )
    except ReviewError as exc:
        if exc.status == 403:
            raise
        errors = exc.field_errors("note")
        return await _pair_page(
            request, principal, pair_id, errors=errors, values=values, status_code=422
        )
    if following is None or (following == pair_id and decision == "skip"):
        return RedirectResponse(f"/linkage/review?done={decision}", status_code=303)
    return RedirectResponse(f"/linkage/review/{following}?done={decision}", status_code=303)


@router.get("/residents/{resident_id}", response_class=HTMLResponse, **REVIEWERS.route())
async def resident_page(request: Request, principal: Reviewer, resident_id: str) -> Response:
    view = await run_in_threadpool(
        explain.explain_resident,
        request.app.state.settings,
        principal.actor(),
        resident_id[:100],
    )
    disputed = await run_in_threadpool(
        disputes_for, request.app.state.settings, [r.record_key for r in view.records]
    )
    return render(
        request,
        "pages/linkage/resident.html",
        {"view": view, "waterfall_bars": waterfall_bars, "disputed": disputed, **_common()},
    )
