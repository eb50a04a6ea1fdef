"""What the web app tells its operators: request metrics, one log line per request, and
``/metrics``.

* :class:`ObserveMiddleware` (pure ASGI, outermost) times every request and records it by its
  route *template* (``/residents/{resident_id}``), never the raw path, in the
  ``joinedup_http_request_duration_seconds`` histogram and in one JSON log line
  (``request``: method, route, status, duration, a request id also sent back as
  ``X-Request-ID``). A request no route matches is recorded as ``<unmatched>``.
* ``/metrics`` (Prometheus text format) exists only when ``JOINEDUP_METRICS_TOKEN`` is set, and
  answers only a request bearing that token (``Authorization: Bearer ...``), so a hub never
  publishes its metrics by default. ``JOINEDUP_METRICS_BIND`` serves them on a separate
  listener instead (:func:`joinedup.metrics.start_listener`, started by ``joinedup serve``).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from joinedup import metrics
from joinedup.web.guards import OPEN

log = logging.getLogger("joinedup.web.request")

UNMATCHED = "<unmatched>"
REQUEST_ID_HEADER = b"x-request-id"


class RouteTemplates:
    """The full template of the route that answered a request (after routing), from the
    app's own route table: ``scope["route"]`` is the route object, whose own ``path`` lacks
    the prefixes of the routers that include it (a router included at two prefixes is told
    apart by matching the request's path). :data:`UNMATCHED` when no route answered."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._routes: dict[int, list[tuple[re.Pattern[str], str]]] | None = None
        self._mounts: list[str] = []
        self._ordered: list[tuple[re.Pattern[str], str]] = []

    def _table(self) -> dict[int, list[tuple[re.Pattern[str], str]]]:
        if self._routes is None:  # built on the first request, when every route is added
            table: dict[int, list[tuple[re.Pattern[str], str]]] = {}
            for context in iter_route_contexts(self.app.routes):
                path = context.path
                if isinstance(context.original_route, Mount):
                    self._mounts.append(str(path))
                elif path:
                    regex = compile_path(str(path))[0]
                    table.setdefault(id(context.original_route), []).append((regex, str(path)))
                    self._ordered.append((regex, str(path)))
            self._routes = table
        return self._routes

    def __call__(self, scope: Scope) -> str:
        table = self._table()
        path = str(scope.get("path", ""))
        route = scope.get("route")
        candidates = table.get(id(route)) if route is not None else None
        if candidates:
            return next((t for regex, t in candidates if regex.match(path)), candidates[0][1])
        if isinstance(route, Mount) or route is None:
            mount = next((m for m in self._mounts if path.startswith(f"{m}/")), None)
            if mount is not None:
                return f"{mount}/{{path}}"
        if route is None:  # a route the router does not name in the scope (/openapi.json)
            return next((t for regex, t in self._ordered if regex.match(path)), UNMATCHED)
        own = getattr(route, "path", None)
        return own if isinstance(own, str) and own else UNMATCHED


class ObserveMiddleware:
    """Times each request; see the module docstring."""

    def __init__(self, app: ASGIApp, templates: RouteTemplates) -> None:
        self.app = app
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = self.templates(scope)
            method = str(scope.get("method", ""))
            metrics.observe_request(method, route, status, seconds)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )


def _bearer(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def metrics_router(token: str) -> APIRouter:
    """``GET /metrics`` for requests bearing ``token`` (compared in constant time)."""
    router = APIRouter(tags=["health"])
    expected = token.encode()

    @router.get(
        "/metrics",
        summary="Prometheus metrics (needs the metrics token)",
        response_class=PlainTextResponse,
        include_in_schema=False,
        **OPEN.route(),
    )
    def prometheus_metrics(request: Request) -> Response:
        if not hmac.compare_digest(_bearer(request).encode(), expected):
            return PlainTextResponse(
                "Send the metrics token: Authorization: Bearer <JOINEDUP_METRICS_TOKEN>\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE_LATEST)

    return router


def install(app: FastAPI, metrics_token: str) -> None:
    """Add the middleware (call last, so it is outermost) and, with a token, ``/metrics``."""
    app.add_middleware(ObserveMiddleware, templates=RouteTemplates(app))
    if metrics_token:
        app.include_router(metrics_router(metrics_token))
