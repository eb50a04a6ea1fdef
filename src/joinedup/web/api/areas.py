"""``/api/v1/insight/areas``, ``/impact`` and ``/fairness``: flags by area and month, the
impact of interventions, and the fairness check.

These are counts derived from personal data (computed by the governed ``insight.areas``
job), not records: analysts read trends and define and estimate interventions; the fairness
check is for the data protection officer (and analysts, who write the rules). CSV downloads
carry the same figures as the JSON, with formula-like cells written as text.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import Role
from joinedup.config import Settings
from joinedup.insight.boundaries import feature_collection
from joinedup.insight.dashboard import (
    TREND_COLUMNS,
    TrendQuery,
    area_run_summary,
    to_csv,
    trend_rows,
)
from joinedup.insight.fairness import FAIRNESS_COLUMNS, read_fairness
from joinedup.insight.impact import (
    InterventionSpec,
    define_intervention,
    estimate_impact,
    list_interventions,
)
from joinedup.insight.trends import latest_area_run
from joinedup.web.api.responses import Responses, errors
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import guard

tag = {
    "name": "insight-areas",
    "description": "Flags by LSOA, ward and local authority per month, area boundaries, the "
    "impact of interventions (difference in differences) and the fairness check.",
}
router = APIRouter(prefix="/insight", tags=[tag["name"]])


#: Dashboards and impact estimates: analysts and DPOs (tokens: ``read``); defining an
#: intervention: analysts.
AREA_READERS = guard(SIGNED_IN, (Role.ANALYST, Role.DPO), scope="read")
DEFINERS = guard(SIGNED_IN, (Role.ANALYST,), scope="read")
Analyst = Annotated[Principal, AREA_READERS.depends]
Definer = Annotated[Principal, DEFINERS.depends]
RuleId = Annotated[str | None, Query(max_length=80, pattern=r"^[a-z0-9-]+$")]
Level = Annotated[Literal["lsoa", "ward", "lad"] | None, Query()]
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
AreaCode = Annotated[str | None, Query(pattern=r"^[A-Z0-9]{9}$")]


ERRORS = errors(401, 403, 404)
CSV_RESPONSES: Responses = {200: {"content": {"text/csv": {}}}, **ERRORS}


def trend_query(
    rule: RuleId = None, level: Level = None, month: Month = None, area: AreaCode = None
) -> TrendQuery:
    return TrendQuery(rule=rule, level=level, month=month, area=area)


Trends = Annotated[TrendQuery, Depends(trend_query)]


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class InterventionIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    area_code: str = Field(pattern=r"^[A-Z0-9]{9}$", description="GSS code of the area")
    start_month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    rule_id: str = Field(max_length=80, pattern=r"^[a-z0-9-]+$")
    outcome: Literal["flags", "rate"] = "flags"
    level: Literal["lsoa", "ward", "lad"] = "ward"
    comparison: list[Annotated[str, Field(pattern=r"^[A-Z0-9]{9}$")]] = Field(
        default_factory=list, max_length=5000
    )
    description: str = Field("", max_length=2000)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _trends(settings: Settings, query: TrendQuery) -> list[dict[str, Any]]:
    return trend_rows(settings, query)


InterventionId = Annotated[int, Path(ge=1, le=2**31 - 1, description="An intervention id")]


@router.get(
    "/areas/runs/latest",
    summary="The latest area run: months, rules and flags in the last month",
    **AREA_READERS.route(),
    responses=ERRORS,
)
def get_area_run(request: Request, _analyst: Analyst) -> dict[str, Any]:
    return area_run_summary(_settings(request))


@router.get(
    "/areas/trends",
    summary="Flags per indicator by area and month (counts)",
    **AREA_READERS.route(),
    responses=ERRORS,
)
async def get_trends(request: Request, _analyst: Analyst, query: Trends) -> list[dict[str, Any]]:
    """One row per rule, level, area and month: flagged residents, residents the councils
    hold a record of, the rate per 1,000 and the month of the data it was computed from."""
    return await run_in_threadpool(_trends, _settings(request), query)


@router.get(
    "/areas/trends.csv",
    summary="The same figures as CSV",
    **AREA_READERS.route(),
    responses=CSV_RESPONSES,
)
async def get_trends_csv(request: Request, _analyst: Analyst, query: Trends) -> Response:
    rows = await run_in_threadpool(_trends, _settings(request), query)
    return _csv(to_csv(rows, TREND_COLUMNS), "joinedup-trends.csv")


@router.get(
    "/areas/boundaries/{level}",
    summary="The loaded boundaries of a level as GeoJSON",
    **AREA_READERS.route(),
    responses=errors(401, 403),
)
async def get_boundaries(
    request: Request,
    _analyst: Analyst,
    level: Literal["lsoa", "ward", "lad"],
) -> dict[str, Any]:
    return await run_in_threadpool(feature_collection, _settings(request), level)


def _fairness(settings: Settings, rule: str | None, dimension: str | None) -> list[dict[str, Any]]:
    run = latest_area_run(settings)
    if run is None:
        raise HTTPException(404, "no area run yet: run `joinedup insight areas`")
    return [r.to_dict() for r in read_fairness(settings, run.fairness_sha256, rule, dimension)]


Dimension = Annotated[Literal["sex", "age_band", "lad", "ward"] | None, Query()]


@router.get(
    "/fairness",
    summary="Flag rates by sex, age band and area for each rule, with rate ratios",
    **AREA_READERS.route(),
    responses=ERRORS,
)
async def get_fairness(
    request: Request,
    _analyst: Analyst,
    rule: RuleId = None,
    dimension: Dimension = None,
) -> list[dict[str, Any]]:
    """Each group's flag rate against everyone else's (rate ratio with a 95% interval);
    ``marked`` when the difference is clear and large (docs/insight.md)."""
    return await run_in_threadpool(_fairness, _settings(request), rule, dimension)


@router.get(
    "/fairness.csv",
    summary="The fairness check as CSV",
    **AREA_READERS.route(),
    responses=CSV_RESPONSES,
)
async def get_fairness_csv(
    request: Request,
    _analyst: Analyst,
    rule: RuleId = None,
    dimension: Dimension = None,
) -> Response:
    rows = await run_in_threadpool(_fairness, _settings(request), rule, dimension)
    return _csv(to_csv(rows, FAIRNESS_COLUMNS), "joinedup-fairness.csv")


@router.get(
    "/impact/interventions",
    summary="The interventions analysts have defined",
    **AREA_READERS.route(),
    responses=errors(401, 403),
)
def get_interventions(request: Request, _analyst: Analyst) -> list[dict[str, Any]]:
    return list_interventions(_settings(request))


@router.post(
    "/impact/interventions",
    status_code=201,
    summary="Define an intervention (area, start month, indicator, outcome)",
    **DEFINERS.route(csrf=True),
    responses=errors(401, 403, 422),
)
def post_intervention(
    request: Request,
    body: InterventionIn,
    analyst: Definer,
) -> dict[str, Any]:
    spec = InterventionSpec(
        name=body.name,
        area_code=body.area_code,
        start_month=body.start_month,
        rule_id=body.rule_id,
        outcome=body.outcome,
        level=body.level,
        comparison=tuple(body.comparison),
        description=body.description,
    )
    return define_intervention(_settings(request), spec, analyst.username)


@router.get(
    "/impact/interventions/{intervention_id}",
    summary="An intervention's before/after and difference-in-differences estimate",
    **AREA_READERS.route(),
    responses=errors(401, 403, 404, 422),
)
async def get_impact(
    request: Request, intervention_id: InterventionId, analyst: Analyst
) -> dict[str, Any]:
    """The estimate with its 95% interval, the means before and after, and the series."""

    def run() -> dict[str, Any]:
        return estimate_impact(_settings(request), intervention_id, analyst.username).to_dict()

    return await run_in_threadpool(run)
