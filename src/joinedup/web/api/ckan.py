"""A CKAN-compatible, read-only Action API over the approved releases (public, no sign-in).

``GET /api/3/action/package_list``, ``package_show?id=``, ``package_search?q=&rows=&start=``
and ``datastore_search?resource_id=&limit=&offset=&q=&filters=`` answer in CKAN's envelope
``{"help": ..., "success": true, "result": ...}``; errors have ``success: false`` and an
``error`` object with CKAN's ``__type`` ("Not Found Error", "Validation Error"), so CKAN
clients such as ``ckanapi`` (``RemoteCKAN(url, get_only=True)``) raise their usual exceptions.
Only GET is served: the API changes nothing. Parameters are checked here, not by FastAPI,
so that bad ones get CKAN's error shape rather than FastAPI's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from joinedup.publish.portal import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY,
    SearchError,
    ckan_package,
    parse_filters,
    parse_resource_id,
    resource_id,
    search_rows,
)
from joinedup.publish.releases import NotFoundError, public_release, public_releases
from joinedup.web.guards import OPEN

tag = {
    "name": "ckan",
    "description": "A CKAN-compatible read-only Action API (/api/3/action/…) over the open "
    "data portal's published datasets. Public.",
}
#: Mounted at ``/api/3/action`` (in the OpenAPI document) and, as CKAN does, at
#: ``/api/action`` (ckanapi's default), by :func:`install`.
router = APIRouter(tags=[tag["name"]])
PREFIXES = ("/api/3/action", "/api/action")
Text = Annotated[str | None, Query(max_length=MAX_QUERY)]
Number = Annotated[str | None, Query(max_length=12, description="A whole number")]


class CkanError(Exception):
    def __init__(self, kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.field = kind, message, field


def _help(request: Request, action: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={action}"


def _ok(request: Request, action: str, result: Any) -> JSONResponse:
    return JSONResponse({"help": _help(request, action), "success": True, "result": result})


def _error(request: Request, action: str, exc: CkanError) -> JSONResponse:
    error: dict[str, Any] = {"__type": exc.kind, "message": exc.message}
    if exc.field:
        error[exc.field] = [exc.message]
    status = 404 if exc.kind == "Not Found Error" else 409
    return JSONResponse(
        {"help": _help(request, action), "success": False, "error": error}, status_code=status
    )


def _number(value: str | None, name: str, default: int, maximum: int) -> int:
    if value in (None, ""):
        return default
    if not value.isdigit():
        raise CkanError("Validation Error", f"{name}: must be a whole number of 0 or more", name)
    return min(int(value), maximum)


def install(app: Any) -> None:
    """Serve the CKAN actions at both of CKAN's paths."""
    for index, prefix in enumerate(PREFIXES):
        app.include_router(router, prefix=prefix, include_in_schema=index == 0)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/package_list", summary="Names of the published datasets", **OPEN.route())
async def package_list(request: Request) -> JSONResponse:
    views = await run_in_threadpool(public_releases, request.app.state.settings)
    return _ok(request, "package_list", sorted(v.publication for v in views))


@router.get("/package_show", summary="One published dataset", **OPEN.route())
async def package_show(request: Request, id: Text = None) -> JSONResponse:
    try:
        if not id:
            raise CkanError("Validation Error", "id: Missing value", "id")
        try:
            view = await run_in_threadpool(public_release, request.app.state.settings, id)
        except NotFoundError:
            raise CkanError("Not Found Error", "Not found") from None
    except CkanError as exc:
        return _error(request, "package_show", exc)
    return _ok(request, "package_show", ckan_package(view, _base(request)))


@router.get("/package_search", summary="Search the published datasets", **OPEN.route())
async def package_search(
    request: Request, q: Text = None, rows: Number = None, start: Number = None
) -> JSONResponse:
    try:
        limit = _number(rows, "rows", 10, MAX_LIMIT)
        offset = _number(start, "start", 0, MAX_OFFSET)
    except CkanError as exc:
        return _error(request, "package_search", exc)
    query = None if q in (None, "*:*") else q
    views = await run_in_threadpool(public_releases, request.app.state.settings, query)
    base = _base(request)
    return _ok(
        request,
        "package_search",
        {
            "count": len(views),
            "results": [ckan_package(v, base) for v in views[offset : offset + limit]],
            "sort": "title_string asc",
            "facets": {},
            "search_facets": {},
        },
    )


@router.get(
    "/datastore_search",
    summary="Rows of a published CSV: search, filters, paging",
    **OPEN.route(),
)
async def datastore_search(
    request: Request,
    resource_id_: Annotated[str | None, Query(alias="resource_id", max_length=120)] = None,
    limit: Number = None,
    offset: Number = None,
    q: Text = None,
    filters: Annotated[str | None, Query(max_length=4000)] = None,
) -> JSONResponse:
    settings = request.app.state.settings
    try:
        if not resource_id_:
            raise CkanError("Validation Error", "resource_id: Missing value", "resource_id")
        parsed = parse_resource_id(resource_id_)
        if parsed is None:
            raise CkanError("Not Found Error", "Resource not found")
        try:
            view = await run_in_threadpool(public_release, settings, parsed[0], parsed[1])
        except NotFoundError:
            raise CkanError("Not Found Error", "Resource not found") from None
        size = _number(limit, "limit", DEFAULT_LIMIT, MAX_LIMIT)
        skip = _number(offset, "offset", 0, MAX_OFFSET)
        try:
            wanted = parse_filters(filters, [f["name"] for f in view.fields])
            rows = await run_in_threadpool(
                lambda: search_rows(settings, view, limit=size, offset=skip, q=q, filters=wanted)
            )
        except SearchError as exc:
            raise CkanError("Validation Error", exc.message, exc.field) from None
    except CkanError as exc:
        return _error(request, "datastore_search", exc)
    rid = resource_id(view)
    path = f"/api/3/action/datastore_search?resource_id={rid}"
    return _ok(
        request,
        "datastore_search",
        {
            "resource_id": rid,
            "fields": rows.fields,
            "records": rows.records,
            "total": rows.total,
            "limit": rows.limit,
            "offset": rows.offset,
            "_links": {
                "start": path,
                "next": f"{path}&offset={rows.offset + rows.limit}&limit={rows.limit}",
            },
        },
    )
