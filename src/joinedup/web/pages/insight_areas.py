"""Analysts' pages: the dashboard (flags by area and month, a line chart and a choropleth with
tables of the same figures and CSV downloads), interventions and their impact, and the
fairness check for the DPO. The figures come from :mod:`joinedup.insight.dashboard`,
:mod:`joinedup.insight.impact` and :mod:`joinedup.insight.fairness`, the same functions as
``/api/v1/insight/areas``, ``/impact`` and ``/fairness``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.insight.areas import LEVEL_NAMES, LEVEL_PLURALS, AreaError
from joinedup.insight.dashboard import (
    NoAreaRun,
    TrendQuery,
    area_run_summary,
    choropleth_spec,
    impact_spec,
    line_spec,
    trend_rows,
)
from joinedup.insight.fairness import DIMENSIONS, MARKED_RATIO, read_fairness
from joinedup.insight.impact import (
    OUTCOME_LABELS,
    ImpactError,
    InterventionSpec,
    define_intervention,
    estimate_impact,
    get_intervention,
    list_interventions,
)
from joinedup.insight.trends import latest_area_run
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
    require_roles,
)
from joinedup.web.guards import guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(
    router=router, nav=NavItem(key="insight", text="Dashboard", href="/insight/dashboard")
)
Analyst = Annotated[Principal, Depends(require_roles(Role.ANALYST, Role.DPO))]
Definer = Annotated[Principal, Depends(require_roles(Role.ANALYST))]
MonthQ = Annotated[str | None, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")]
RuleQ = Annotated[str | None, Query(max_length=80, pattern=r"^([a-z0-9-]+)?$")]
MEASURES = {"flags": "Flagged residents", "rate_per_1000": "Flagged per 1,000 residents known"}
DIMENSION_NAMES = {"sex": "Sex", "age_band": "Age band", "lad": "Local authority", "ward": "Ward"}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _no_run(request: Request, title: str) -> HTMLResponse:
    return render(request, "pages/insight/no_run.html", {"title": title}, status_code=200)


def _dashboard(
    settings: Settings, rule: str | None, level: str, month: str | None, measure: str
) -> dict[str, Any]:
    summary = area_run_summary(settings)
    rules = summary["rules"]
    rule = rule if rule in {r["id"] for r in rules} else rules[0]["id"]
    rule_name = next(r["name"] for r in rules if r["id"] == rule)
    month = month if month in summary["months"] else summary["last_month"]
    lad_rows = trend_rows(settings, TrendQuery(rule=rule, level="lad"))
    area_rows = trend_rows(settings, TrendQuery(rule=rule, level=level, month=month))
    months = summary["months"]
    by_area: dict[str, dict[str, Any]] = {}
    for r in lad_rows:
        entry = by_area.setdefault(r["area_code"], {"name": r["area_name"], "values": {}})
        entry["values"][r["month"]] = r[measure]
    return {
        "summary": summary,
        "rule": rule,
        "rule_name": rule_name,
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "level_plural": LEVEL_PLURALS[level],
        "month": month,
        "months": months,
        "measure": measure,
        "measure_name": MEASURES[measure],
        "line": line_spec(lad_rows, rule_name, measure),
        "series": by_area,
        "map": choropleth_spec(settings, area_rows, level, measure),
        "areas": area_rows,
        "csv_all": "/api/v1/insight/areas/trends.csv?" + urlencode({"rule": rule}),
        "csv_month": "/api/v1/insight/areas/trends.csv?"
        + urlencode({"rule": rule, "level": level, "month": month}),
        "csv_everything": "/api/v1/insight/areas/trends.csv",
    }


ANALYSTS = guard(SIGNED_IN, (Role.ANALYST, Role.DPO))
DEFINERS = guard(SIGNED_IN, (Role.ANALYST,))


@router.get("/insight/dashboard", **ANALYSTS.route())
async def dashboard(
    request: Request,
    _analyst: Analyst,
    rule: RuleQ = None,
    level: Annotated[str, Query(pattern=r"^(lsoa|ward|lad)$")] = "ward",
    month: MonthQ = None,
    measure: Annotated[str, Query(pattern=r"^(flags|rate_per_1000)$")] = "flags",
) -> HTMLResponse:
    try:
        context = await run_in_threadpool(
            _dashboard, _settings(request), rule, level, month or None, measure
        )
    except NoAreaRun:
        return _no_run(request, "Dashboard")
    context["levels"] = LEVEL_NAMES
    context["measures"] = MEASURES
    return render(request, "pages/insight/dashboard.html", context)


@router.get("/insight/fairness", **ANALYSTS.route())
async def fairness(request: Request, _analyst: Analyst, rule: RuleQ = None) -> HTMLResponse:
    settings = _settings(request)
    run = latest_area_run(settings)
    if run is None:
        return _no_run(request, "Fairness check")
    rows = await run_in_threadpool(read_fairness, settings, run.fairness_sha256, rule or None)
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        groups.setdefault((r.rule_id, r.dimension), []).append(r)
    names = {r["id"]: r["name"] for r in run.rules}
    return render(
        request,
        "pages/insight/fairness.html",
        {
            "run": run,
            "rules": run.rules,
            "rule": rule or "",
            "names": names,
            "groups": groups,
            "dimensions": DIMENSIONS,
            "dimension_names": DIMENSION_NAMES,
            "marked": [r for r in rows if r.marked],
            "ratio": MARKED_RATIO,
        },
    )


def _impact_list_context(settings: Settings) -> dict[str, Any]:
    try:
        summary = area_run_summary(settings)
    except NoAreaRun:
        summary = None
    return {"interventions": list_interventions(settings), "summary": summary}


@router.get("/insight/impact", **ANALYSTS.route())
async def impact_list(request: Request, _analyst: Analyst) -> HTMLResponse:
    context = await run_in_threadpool(_impact_list_context, _settings(request))
    context.update(
        errors={},
        values={"level": "ward", "outcome": "flags"},
        outcomes=OUTCOME_LABELS,
        levels=LEVEL_PLURALS,
    )
    return render(request, "pages/insight/impact_list.html", context)


@router.post(
    "/insight/impact",
    **DEFINERS.route(csrf=True),
)
async def impact_define(request: Request, analyst: Definer) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("name", "area_code", "start_month", "rule_id", "outcome", "level", "description")
    }
    settings = _settings(request)
    spec = InterventionSpec(
        name=values["name"],
        area_code=values["area_code"].upper(),
        start_month=values["start_month"],
        rule_id=values["rule_id"],
        outcome=values["outcome"] or "flags",
        level=values["level"] or "ward",
        description=values["description"][:2000],
    )
    try:
        created = await run_in_threadpool(define_intervention, settings, spec, analyst.username)
    except (ImpactError, AreaError) as exc:
        context = await run_in_threadpool(_impact_list_context, settings)
        context.update(
            errors=exc.field_errors("name", values),
            values=values,
            outcomes=OUTCOME_LABELS,
            levels=LEVEL_PLURALS,
        )
        return render(request, "pages/insight/impact_list.html", context, status_code=422)
    return RedirectResponse(f"/insight/impact/{created['id']}", status_code=303)


@router.get("/insight/impact/{intervention_id}", **ANALYSTS.route())
async def impact_detail(
    request: Request,
    intervention_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    analyst: Analyst,
) -> HTMLResponse:
    settings = _settings(request)
    intervention = await run_in_threadpool(get_intervention, settings, intervention_id)
    error = None
    estimate = None
    try:
        estimate = await run_in_threadpool(
            estimate_impact, settings, intervention_id, analyst.username
        )
    except ImpactError as exc:
        error = str(exc)
    label = OUTCOME_LABELS[intervention["outcome"]]
    return render(
        request,
        "pages/insight/impact.html",
        {
            "intervention": intervention,
            "estimate": estimate,
            "error": error,
            "label": label,
            "chart": impact_spec(estimate.series, intervention["start_month"], label)
            if estimate
            else None,
        },
    )
