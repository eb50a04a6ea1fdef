"""The public open data portal (no sign-in): the datasets with search, each dataset's page
(preview, chart, data dictionary, licence, frequency, last updated, downloads), the downloads
themselves and the DCAT-AP catalogue. Only approved releases appear."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.insight.boundaries import area_names
from joinedup.insight.dashboard import has_figures
from joinedup.publish.ckan import download_paths, resource_id
from joinedup.publish.dcat import dcat_catalog, turtle
from joinedup.publish.definitions import NAME_PATTERN
from joinedup.publish.formats import OGL
from joinedup.publish.portal import MAX_QUERY, chart_figures, search_rows
from joinedup.publish.releases import (
    ReleaseView,
    public_release,
    public_releases,
    release_csv,
)
from joinedup.web.downloads import public_file
from joinedup.web.guards import OPEN
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem("open-data", "Open data", "/open-data"))
PREVIEW_ROWS = 20
Name = Annotated[str, Path(pattern=NAME_PATTERN)]
Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
FREQUENCY_LABELS = {
    "monthly": "Monthly",
    "quarterly": "Quarterly",
    "annual": "Every year",
    "weekly": "Weekly",
    "irregular": "When new data arrives",
}


def _settings(request: Request) -> Any:
    return request.app.state.settings


async def _public(request: Request, name: str, version: int | None = None) -> ReleaseView:
    return await run_in_threadpool(public_release, _settings(request), name, version)


@router.get("/open-data", response_class=HTMLResponse, **OPEN.route())
async def portal(
    request: Request, q: Annotated[str | None, Query(max_length=MAX_QUERY)] = None
) -> HTMLResponse:
    views = await run_in_threadpool(public_releases, _settings(request), q)
    return render(
        request,
        "pages/open_data/list.html",
        {"datasets": views, "q": q or "", "frequencies": FREQUENCY_LABELS},
    )


def csv_text(value: Any) -> str:
    """A preview cell as the CSV writes it: ``true``/``false``, empty for none."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def chart_spec(figures: list[dict[str, Any]], measure: str) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": [f for f in figures if f["value"] is not None]},
        # the chart is one image (the container's role and label) beside its table, so the
        # marks inside carry no ARIA of their own
        "mark": {"type": "bar", "aria": False},
        "config": {"aria": False},
        "encoding": {
            "y": {"field": "area", "type": "nominal", "title": "Area"},
            "x": {"field": "value", "type": "quantitative", "title": measure},
            # under the chart (a phone keeps the bars' width); none for a single indicator
            "color": {
                "field": "indicator",
                "type": "nominal",
                "title": "Indicator",
                "legend": {"orient": "bottom", "direction": "vertical", "labelLimit": 0}
                if len({f["indicator"] for f in figures}) > 1
                else None,
            },
            "yOffset": {"field": "indicator"},
        },
        "width": "container",
    }


async def _catalogue(request: Request) -> dict[str, Any]:
    settings = _settings(request)
    views = await run_in_threadpool(public_releases, settings)
    base = str(request.base_url).rstrip("/")
    return await run_in_threadpool(dcat_catalog, settings, views, base)


@router.api_route("/open-data/catalog.jsonld", methods=["GET", "HEAD"], **OPEN.route())
async def catalogue(request: Request) -> Response:
    """The DCAT-AP 3 catalogue as JSON-LD."""
    return public_file(
        request, json.dumps(await _catalogue(request)).encode(), "application/ld+json", None
    )


@router.api_route("/open-data/catalog.ttl", methods=["GET", "HEAD"], **OPEN.route())
async def catalogue_turtle(request: Request) -> Response:
    """The same catalogue as Turtle."""
    text = await run_in_threadpool(turtle, await _catalogue(request))
    return public_file(request, text.encode(), "text/turtle; charset=utf-8", None)


@router.get("/open-data/{name}", response_class=HTMLResponse, **OPEN.route())
async def dataset_page(request: Request, name: Name) -> HTMLResponse:
    view = await _public(request, name)
    settings = _settings(request)
    preview = await run_in_threadpool(lambda: search_rows(settings, view, limit=PREVIEW_ROWS))
    chart = await run_in_threadpool(chart_figures, settings, view)
    if chart:
        names = await run_in_threadpool(area_names, settings)
        for figure in chart["figures"]:
            figure["area"] = names.get(figure["area"], figure["area"])
    return render(
        request,
        "pages/open_data/dataset.html",
        {
            "view": view,
            "preview": preview,
            "preview_cells": [
                [csv_text(r[f["id"]]) for f in preview.fields] for r in preview.records
            ],
            "titles": {f["name"]: f.get("title") or f["name"] for f in view.fields},
            "drawable": has_figures(f["value"] for f in (chart or {}).get("figures", [])),
            "chart": chart,
            "spec": chart_spec(chart["figures"], chart["measure"]) if chart else None,
            "licence": OGL,
            "frequency": FREQUENCY_LABELS.get(view.frequency, view.frequency),
            "downloads": download_paths(view),
            "resource_id": resource_id(view),
        },
    )


DOWNLOAD = {"methods": ["GET", "HEAD"], **OPEN.route()}


@router.api_route("/open-data/{name}/v{version}/data.csv", **DOWNLOAD)
async def download_csv(request: Request, name: Name, version: Version) -> Response:
    view = await _public(request, name, version)
    data = await run_in_threadpool(release_csv, _settings(request), view)
    return public_file(
        request, data, "text/csv; charset=utf-8", view, filename=f"{name}-v{version}.csv"
    )


@router.api_route("/open-data/{name}/v{version}/datapackage.json", **DOWNLOAD)
async def download_package(request: Request, name: Name, version: Version) -> Response:
    view = await _public(request, name, version)
    return public_file(
        request,
        json.dumps(view.descriptor, indent=2).encode(),
        "application/json",
        view,
        filename=f"{name}-v{version}-datapackage.json",
    )
