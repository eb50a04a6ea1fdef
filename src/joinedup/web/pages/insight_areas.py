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
from joinedup.insight.boundaries import area_names
from joinedup.insight.dashboard import (
    NoAreaRun,
    TrendQuery,
    area_run_summary,
    choropleth_spec,
    has_figures,
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
#: Fairness groups as a person reads them (areas are named from their boundaries).
GROUP_LABELS = {
    "F": "Female",
    "M": "Male",
    "unknown": "Not known",
    "unplaced": "No address in the region",
}


def group_label(group: str, names: dict[str, str]) -> str:
    return GROUP_LABELS.get(group) or names.get(group, group)


def group_order(group: str, label: str) -> tuple[int, float, str]:
    """Groups in reading order: age bands by their first year ("5-10" before "11-15"),
    others by name, and not known or unplaced last."""
    if group in ("unknown", "unplaced"):
        return (2, 0, label)
    head = group.split("-")[0].rstrip("+")
    return (0, float(head), label) if head.isdigit() else (1, 0, label)


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
        "line_drawable": has_figures(r[measure] for r in lad_rows),
        "series": by_area,
        "map": choropleth_spec(settings, area_rows, level, measure),
        "map_drawable": has_figures(r[measure] for r in area_rows),
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
    names = await run_in_threadpool(area_names, settings)
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        groups.setdefault((r.rule_id, r.dimension), []).append(
            {"row": r, "label": group_label(r.group, names)}
        )
    for entries in groups.values():
        entries.sort(key=lambda e: group_order(e["row"].group, e["label"]))
    return render(
        request,
        "pages/insight/fairness.html",
        {
            "run": run,
            "rules": run.rules,
            "rule": rule or "",
            "names": {r["id"]: r["name"] for r in run.rules},
            "groups": groups,
            "dimensions": DIMENSIONS,
            "dimension_names": DIMENSION_NAMES,
            "marked": [r for r in rows if r.marked],
            "ratio": MARKED_RATIO,
        },
    )


def _area_options(settings: Settings, summary: dict[str, Any] | None) -> list[dict[str, str]]:
    """Every area of the latest run by name, local authorities first, for the area select."""
    if summary is None or not summary["rules"]:
        return []
    rows = trend_rows(
        settings, TrendQuery(rule=summary["rules"][0]["id"], month=summary["last_month"])
    )
    order = {"lad": 0, "ward": 1, "lsoa": 2}
    rows.sort(key=lambda r: (order.get(r["level"], 3), r["area_name"]))
    return [
        {
            "value": r["area_code"],
            "text": f"{r['area_name']} ({LEVEL_NAMES[r['level']].lower()})"
            if r["level"] != "lsoa"
            else f"{r['area_name']} (LSOA)",
        }
        for r in rows
    ]


def _impact_list_context(settings: Settings) -> dict[str, Any]:
    try:
        summary = area_run_summary(settings)
    except NoAreaRun:
        summary = None
    options = _area_options(settings, summary)
    names = {o["value"]: o["text"] for o in options}
    rules = {r["id"]: r["name"] for r in summary["rules"]} if summary else {}
    return {
        "interventions": list_interventions(settings),
        "summary": summary,
        "area_options": options,
        "area_labels": names,
        "rule_names": rules,
    }


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


#: The fields of the intervention form an error may name ("area": a malformed code).
FORM_FIELDS = ("name", "area", "area_code", "start_month", "rule_id", "outcome", "level")


def start_month(month: str, year: str) -> str:
    """The month and year typed in a GOV.UK date input as ``YYYY-MM``; an
    :class:`ImpactError` on ``start_month`` says what is wrong in plain words."""
    if not month and not year:
        raise ImpactError("Enter the month the intervention started", field="start_month")
    if not month:
        raise ImpactError("The start date must include a month", field="start_month")
    if not year:
        raise ImpactError("The start date must include a year", field="start_month")
    if not (month.isdigit() and 1 <= int(month) <= 12):
        raise ImpactError("The month must be a number from 1 to 12", field="start_month")
    if not (year.isdigit() and len(year) == 4):
        raise ImpactError("The year must be 4 numbers, for example 2026", field="start_month")
    return f"{int(year):04d}-{int(month):02d}"


@router.post(
    "/insight/impact",
    **DEFINERS.route(csrf=True),
)
async def impact_define(request: Request, analyst: Definer) -> Response:
    form = await request.form()
    values = {
        k: str(form.get(k, "")).strip()
        for k in (
            "name",
            "area_code",
            "start_month-month",
            "start_month-year",
            "rule_id",
            "outcome",
            "level",
            "description",
        )
    }
    settings = _settings(request)
    try:
        spec = InterventionSpec(
            name=values["name"],
            area_code=values["area_code"].upper(),
            start_month=start_month(values["start_month-month"], values["start_month-year"]),
            rule_id=values["rule_id"],
            outcome=values["outcome"] or "flags",
            level=values["level"] or "ward",
            description=values["description"][:2000],
        )
        if not spec.area_code:
            raise ImpactError("Select the area of the intervention", field="area_code")
        created = await run_in_threadpool(define_intervention, settings, spec, analyst.username)
    except (ImpactError, AreaError) as exc:
        context = await run_in_threadpool(_impact_list_context, settings)
        errors = exc.field_errors("name", FORM_FIELDS)
        if "area" in errors:  # the service names a malformed code's field "area"
            errors["area_code"] = errors.pop("area")
        context.update(errors=errors, values=values, outcomes=OUTCOME_LABELS, levels=LEVEL_PLURALS)
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
    names = await run_in_threadpool(area_names, settings)
    run = latest_area_run(settings)
    rules = {r["id"]: r["name"] for r in run.rules} if run else {}
    level = intervention["level"]
    return render(
        request,
        "pages/insight/impact.html",
        {
            "intervention": intervention,
            "area_name": names.get(intervention["area_code"], intervention["area_code"]),
            "rule_name": rules.get(intervention["rule_id"], intervention["rule_id"]),
            "level_name": LEVEL_NAMES[level].lower() if level != "lsoa" else "LSOA",
            "level_plural": LEVEL_PLURALS[level]
            if level == "lsoa"
            else LEVEL_PLURALS[level].lower(),
            "estimate": estimate,
            "error": error,
            "label": label,
            "chart": impact_spec(estimate.series, intervention["start_month"], label)
            if estimate
            else None,
        },
    )
