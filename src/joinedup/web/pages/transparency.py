"""The public register of data sharing and the live data ecosystem map (no sign-in), with
their open data (CSV, JSON, DCAT; JSON and SVG), and the staff's map with exact counts. The
content comes from :mod:`joinedup.toolkit.register` and :mod:`joinedup.toolkit.ecosystem`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.governance.service.purposes import list_purposes
from joinedup.toolkit.ecosystem_svg import render_svg
from joinedup.toolkit.register import register, register_csv, register_dcat, register_json
from joinedup.web.auth import Principal, require_principal
from joinedup.web.guards import OPEN, SIGNED_IN_USER
from joinedup.web.map_query import MapFilters, MapQuery, draw_map
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(
    router=router, nav=NavItem(key="transparency", text="Data sharing", href="/transparency")
)
SignedIn = Annotated[Principal, Depends(require_principal)]


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _download(body: str | bytes, media: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/transparency", response_class=HTMLResponse, **OPEN.route())
async def register_page(request: Request) -> HTMLResponse:
    entries = await run_in_threadpool(register, _settings(request))
    return render(request, "pages/transparency/register.html", {"entries": entries})


@router.get("/transparency/register.csv", **OPEN.route())
async def register_as_csv(request: Request) -> Response:
    entries = await run_in_threadpool(register, _settings(request))
    return _download(register_csv(entries), "text/csv; charset=utf-8", "register.csv")


@router.get("/transparency/register.json", **OPEN.route())
async def register_as_json(request: Request) -> Response:
    entries = await run_in_threadpool(register, _settings(request))
    return _download(
        json.dumps(register_json(entries), indent=2), "application/json", "register.json"
    )


@router.get("/transparency/register.jsonld", **OPEN.route())
async def register_as_dcat(request: Request) -> JSONResponse:
    entries = await run_in_threadpool(register, _settings(request))
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        register_dcat(base, entries, datetime.now(UTC)), media_type="application/ld+json"
    )


async def _map_page(request: Request, public: bool, base: str, query: MapQuery) -> HTMLResponse:
    data = await draw_map(request, query, public)
    everything = await draw_map(request, MapQuery(month=query.month), public)
    purposes = await run_in_threadpool(list_purposes, _settings(request))
    raw = request.url.query
    return render(
        request,
        "pages/transparency/map.html",
        {
            "map": data,
            "svg": render_svg(data),
            "base": base,
            "query": f"?{raw}" if raw else "",
            "choices": {
                "purpose": sorted({p for f in everything.flows for p in f.purposes}),
                "dataset": sorted({d for f in everything.flows for d in f.datasets}),
                "organisation": [(n.code, n.name) for n in everything.nodes],
            },
            "purpose_names": {p.code: p.name for p in purposes},
        },
    )


async def _export(request: Request, query: MapQuery, public: bool, kind: str) -> Response:
    data = await draw_map(request, query, public)
    if kind == "svg":
        return _download(render_svg(data), "image/svg+xml", f"map-{data.month}.svg")
    return _download(data.model_dump_json(indent=2), "application/json", f"map-{data.month}.json")


@router.get("/transparency/map", response_class=HTMLResponse, **OPEN.route())
async def public_map(request: Request, query: MapFilters) -> HTMLResponse:
    return await _map_page(request, True, "/transparency/map", query)


@router.get("/transparency/map.json", **OPEN.route())
async def public_map_json(request: Request, query: MapFilters) -> Response:
    return await _export(request, query, True, "json")


@router.get("/transparency/map.svg", **OPEN.route())
async def public_map_svg(request: Request, query: MapFilters) -> Response:
    return await _export(request, query, True, "svg")


@router.get("/ecosystem", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def staff_map(request: Request, _principal: SignedIn, query: MapFilters) -> HTMLResponse:
    return await _map_page(request, False, "/ecosystem", query)


@router.get("/ecosystem/map.json", **SIGNED_IN_USER.route())
async def staff_map_json(request: Request, _principal: SignedIn, query: MapFilters) -> Response:
    return await _export(request, query, False, "json")


@router.get("/ecosystem/map.svg", **SIGNED_IN_USER.route())
async def staff_map_svg(request: Request, _principal: SignedIn, query: MapFilters) -> Response:
    return await _export(request, query, False, "svg")
