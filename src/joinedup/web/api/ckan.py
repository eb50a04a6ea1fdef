"""A CKAN-compatible, read-only Action API over the approved releases (public, no sign-in).

Every action in :data:`~joinedup.web.api.ckan_actions.ACTIONS` answers ``GET`` (parameters in
the query string) and ``POST`` (a JSON object, or a form, as ``ckanapi`` and CKAN's own
clients send) at ``/api/3/action/<name>`` and, as CKAN does, ``/api/action/<name>``. Answers
use CKAN's envelope ``{"help", "success": true, "result"}``; errors ``{"help", "success":
false, "error": {"__type", "message", <field>: [message]}}`` with CKAN's statuses (404 Not
Found Error, 409 Validation Error, 400 Bad Request), also for an unknown action. Parameters
are read here (:mod:`joinedup.web.api.ckan_params`), not by FastAPI, so that a bad or unknown
one gets CKAN's error rather than FastAPI's."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from joinedup.web.api.ckan_actions import ACTIONS, Action, Ctx
from joinedup.web.api.ckan_params import CkanError, read_params
from joinedup.web.guards import OPEN, READ_ONLY_KEY

tag = {
    "name": "ckan",
    "description": "A CKAN-compatible read-only Action API (/api/3/action/…, also "
    "/api/action/…) over the open data portal's published datasets. Every action takes GET "
    "(query string) and POST (JSON object or form). Public; CORS allowed.",
}
router = APIRouter(tags=[tag["name"]])
PREFIXES = ("/api/3/action", "/api/action")
MAX_BODY = 64 * 1024
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

_ERROR = {
    "type": "object",
    "required": ["__type", "message"],
    "properties": {"__type": {"type": "string"}, "message": {"type": "string"}},
}


def _envelope(success: bool) -> dict[str, Any]:
    key, schema = ("result", {}) if success else ("error", _ERROR)
    return {
        "type": "object",
        "required": ["help", "success", key],
        "properties": {
            "help": {"type": "string"},
            "success": {"type": "boolean", "enum": [success]},
            key: schema,
        },
    }


def _responses() -> dict[int | str, dict[str, Any]]:
    def answer(description: str, success: bool) -> dict[str, Any]:
        content = {"application/json": {"schema": _envelope(success)}}
        return {"description": description, "content": content}

    return {
        200: answer("CKAN's envelope with the result", True),
        400: answer(
            "Bad Request (the body is not a JSON object or a form), or Search Query "
            "Error (a q, fq, sort or facet outside the supported syntax)",
            False,
        ),
        404: answer("Not Found Error", False),
        409: answer(
            "Validation Error (a parameter is missing, unknown or invalid), or Search Query "
            "Error (a q, fq, sort or facet outside the supported syntax)",
            False,
        ),
    }


def _help(request: Request, action: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={action}"


def _answer(request: Request, action: str, body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse({"help": _help(request, action), **body}, status_code=status)


def ckan_error(request: Request, action: str, exc: CkanError) -> JSONResponse:
    error: dict[str, Any] = {"__type": exc.kind, "message": exc.message}
    if exc.field and exc.kind != "Bad Request":
        error[exc.field] = [exc.message]
    return _answer(request, action, {"success": False, "error": error}, exc.status)


async def _given(request: Request) -> dict[str, Any]:
    """The parameters: the query string, then (POST) the JSON object or form on top."""
    given: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return given
    body = await request.body()
    if len(body) > MAX_BODY:
        raise CkanError("Bad Request", f"Bad request - the body is over {MAX_BODY} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not body:  # nothing sent; white space is not JSON (CKAN: a JSON Error)
        return given
    if kind in FORMS:
        form = await request.form()
        return {**given, **{k: v for k, v in form.items() if isinstance(v, str)}}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CkanError("Bad Request", "Bad request - JSON Error: the body is not JSON") from None
    if not isinstance(document, dict):
        raise CkanError("Bad Request", "Bad request - JSON Error: not a JSON object")
    return {**given, **document}


def _handler(found: Action) -> Any:
    async def run(request: Request) -> JSONResponse:
        try:
            params = read_params(found.params, await _given(request))
            ctx = Ctx(request.app.state.settings, str(request.base_url).rstrip("/"))
            result = await run_in_threadpool(found.run, ctx, params)
        except CkanError as exc:
            return ckan_error(request, found.name, exc)
        body = {"success": True, "result": jsonable_encoder(result)}
        return _answer(request, found.name, body, 200)

    run.__name__ = found.name
    return run


def _body(found: Action) -> dict[str, Any]:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {p.name: p.body_schema() for p in found.params},
        "required": [p.name for p in found.params if p.required],
    }
    return {
        "required": False,
        "content": {"application/json": {"schema": schema}},
    }


for _action in ACTIONS.values():
    _extras = OPEN.route()
    router.add_api_route(
        f"/{_action.name}",
        _handler(_action),
        methods=["GET"],
        summary=_action.summary,
        operation_id=f"ckan_{_action.name}_get",
        responses=_responses(),
        openapi_extra={
            **_extras["openapi_extra"],
            "parameters": [p.openapi() for p in _action.params],
        },
        dependencies=_extras["dependencies"],
    )
    router.add_api_route(
        f"/{_action.name}",
        _handler(_action),
        methods=["POST"],
        summary=_action.summary,
        operation_id=f"ckan_{_action.name}_post",
        responses=_responses(),
        openapi_extra={
            **_extras["openapi_extra"],
            "requestBody": _body(_action),
            READ_ONLY_KEY: True,  # a read, by POST as CKAN's clients send it: no CSRF check
        },
        dependencies=_extras["dependencies"],
    )


async def unknown_action(request: Request) -> JSONResponse:
    name = request.path_params["action"][:80]
    exc = CkanError("Bad Request", f"Bad request - Action name not known: {name}")
    return ckan_error(request, name, exc)


def install(app: Any) -> None:
    """Serve the CKAN actions at both of CKAN's paths (only /api/3/action is documented), and
    CKAN's error for an action it does not have."""
    for index, prefix in enumerate(PREFIXES):
        app.include_router(router, prefix=prefix, include_in_schema=index == 0)
        extras = OPEN.route()
        app.add_api_route(
            prefix + "/{action}",
            unknown_action,
            methods=["GET", "POST"],
            include_in_schema=False,
            openapi_extra={**extras["openapi_extra"], READ_ONLY_KEY: True},
            dependencies=extras["dependencies"],
        )
