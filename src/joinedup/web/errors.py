"""Error responses: GOV.UK error pages for people, JSON for API clients.

Paths under ``/api/`` (and ``/healthz``, ``/openapi.json``) always answer JSON in FastAPI's usual
``{"detail": ...}`` shape. Static files answer plain text. Everything else gets a page.

Every refusal a route does not handle itself reaches :func:`joinedup_error` as a
:class:`joinedup.errors.JoinedupError` and is answered here, with its typed status and its
detail: routes do not translate errors into HTTP. A page that shows the form again with the
field highlighted catches the error itself and puts ``exc.field_message`` beside ``exc.field``.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from joinedup.errors import JoinedupError
from joinedup.web.auth import RedirectRequired
from joinedup.web.guards import WrongPurpose
from joinedup.web.security import apply_security_headers, csp_nonce
from joinedup.web.templating import render

log = logging.getLogger(__name__)

JSON_PATHS = ("/api/", "/healthz", "/openapi.json")

PAGE_TITLES = {
    400: "Sorry, there is a problem with the web address",
    401: "You need to sign in to see this page",
    403: "You do not have permission to see this page",
    405: "Page not found",
    413: "The file is too big",
}


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(JSON_PATHS):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _is_static(request: Request) -> bool:
    return request.url.path.startswith("/static/")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if wants_json(request):
        return await http_exception_handler(request, exc)
    if _is_static(request):
        return PlainTextResponse(
            HTTPStatus(exc.status_code).phrase, exc.status_code, headers=exc.headers
        )
    if exc.status_code == 404:
        return render(request, "errors/404.html", status_code=404)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else ""
    response = render(
        request,
        "errors/error.html",
        {"title": PAGE_TITLES.get(exc.status_code, phrase), "detail": detail},
        status_code=exc.status_code,
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def joinedup_error(request: Request, exc: Exception) -> Response:
    """Every refusal, answered the way an HTTP error is: JSON under /api, a page elsewhere."""
    assert isinstance(exc, JoinedupError)
    return await http_error(request, StarletteHTTPException(exc.status, exc.detail))


async def wrong_purpose(request: Request, exc: Exception) -> Response:
    """A guard's purpose refused: JSON under /api; on a page, a way to change purpose."""
    assert isinstance(exc, WrongPurpose)
    if wants_json(request):
        return await joinedup_error(request, exc)
    return render(
        request,
        "errors/purpose.html",
        {
            "purpose": exc.purpose,
            "message": exc.message,
            "next": quote(request.url.path, safe="/"),
        },
        status_code=exc.status,
    )


def _encodable(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error as JSON can carry it: the echoed ``input`` and ``ctx`` are left out
    when they cannot be encoded (a lone surrogate such as ``"\\ud800"``, or ``1e999999``,
    which parses as infinity)."""
    try:
        json.dumps(error, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError:  # UnicodeEncodeError is one
        return {k: v for k, v in error.items() if k not in ("input", "ctx")}
    return error


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        errors = [_encodable(e) for e in jsonable_encoder(exc.errors())]
        return JSONResponse({"detail": errors}, status_code=422)
    return render(
        request,
        "errors/error.html",
        {"title": PAGE_TITLES[400], "detail": "Check the web address is correct."},
        status_code=400,
    )


async def redirect_required(request: Request, exc: Exception) -> Response:
    """A page needs sign-in or a purpose first: 303 there (see :mod:`joinedup.web.auth`)."""
    assert isinstance(exc, RedirectRequired)
    return RedirectResponse(exc.location, status_code=303)


async def server_error(request: Request, exc: Exception) -> Response:
    """Unhandled exceptions. Starlette logs the traceback after this handler answers.

    This answer goes out through Starlette's outermost middleware, bypassing ours, so it adds
    the security headers itself.
    """
    response: Response
    if wants_json(request):
        response = JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    else:
        try:
            response = render(request, "errors/500.html", status_code=500)
        except Exception:  # the page itself failed: fall back to plain text
            log.exception("could not render the error page")
            response = PlainTextResponse(
                "Sorry, there is a problem with the service. Try again later.", 500
            )
    apply_security_headers(
        response.headers, csp_nonce(request), https=request.url.scheme == "https"
    )
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(JoinedupError, joinedup_error)
    app.add_exception_handler(WrongPurpose, wrong_purpose)
    app.add_exception_handler(RedirectRequired, redirect_required)
    app.add_exception_handler(Exception, server_error)
