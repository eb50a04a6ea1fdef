"""Signing in and out, and choosing the purpose you act under.

* ``/sign-in``: username and password (:func:`joinedup.governance.accounts.authenticate`
  checks, throttles and audits them). A wrong username and a wrong password get the same
  answer. ``next`` only ever leads to a path on this site.
* ``/sign-out``: a POST with the CSRF token; the session is revoked server-side (audited).
* ``/purpose``: the register's purposes as radios; the choice is kept in the session (audited)
  and is part of every personal-data decision from then on.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.db import session_scope
from joinedup.config import Settings
from joinedup.governance.accounts import SignInThrottled, authenticate
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.web.auth import (
    Principal,
    PurposeNotGranted,
    choose_purpose,
    end_session,
    registered_purposes,
    remote_address,
    require_principal,
    safe_next,
    start_session,
)
from joinedup.web.forms import error_summary
from joinedup.web.guards import OPEN, SIGNED_IN_USER
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
section = PageSection(router=router)

MAX_USERNAME = 120
MAX_PASSWORD = 1024  # argon2 takes any length; a cap stops a megabyte "password" costing CPU
INCORRECT = "Enter a correct username and password"
THROTTLED = (
    "There have been too many attempts to sign in. Wait 15 minutes, then try again, or ask "
    "your hub administrator for help"
)


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    error_list = error_summary(errors, ("username", "password", "form"), {"form": "username"})
    return render(
        request,
        "pages/sign_in.html",
        {
            "next_path": next_path,
            "username": username,
            "errors": errors,
            "error_list": error_list,
            "signed_out": request.query_params.get("signed-out") == "1",
        },
        status_code=status_code,
    )


@router.get("/sign-in", response_class=HTMLResponse, **OPEN.route())
def sign_in_form(request: Request) -> HTMLResponse:
    next_path = safe_next(request.query_params.get("next"))
    return _sign_in_page(request, next_path=next_path)


def _check_credentials(
    settings: Settings, username: str, password: str, remote: str
) -> tuple[int | None, bool]:
    """``(user id or None, throttled)``; the attempt (and its audit entry) is committed."""
    try:
        with session_scope(settings) as session:
            result = authenticate(session, username, password, remote)
            return (result.user.id if result.user is not None else None), False
    except SignInThrottled:
        with session_scope(settings) as session:
            append_event(
                session,
                actor="anonymous",
                action=AuditAction.SIGN_IN_THROTTLED,
                target_type="user",
                target_id=username.strip().lower()[:120],
            )
        return None, True


@router.post(
    "/sign-in",
    response_class=HTMLResponse,
    **OPEN.route(csrf=True),
)
async def sign_in(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()[:MAX_USERNAME]
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or ""))
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message, not a secret
    if errors:
        return _sign_in_page(
            request, next_path=next_path, username=username, errors=errors, status_code=422
        )
    if len(password) > MAX_PASSWORD:
        user_id, throttled = None, False
    else:
        settings: Settings = request.app.state.settings
        remote = remote_address(request)
        user_id, throttled = await run_in_threadpool(
            _check_credentials, settings, username, password, remote
        )
    if throttled:
        return _sign_in_page(
            request,
            next_path=next_path,
            username=username,
            errors={"form": THROTTLED},
            status_code=429,
        )
    if user_id is None:
        return _sign_in_page(
            request,
            next_path=next_path,
            username=username,
            errors={"form": INCORRECT},
            status_code=422,
        )
    await run_in_threadpool(start_session, request, user_id)
    return RedirectResponse(next_path, status_code=303)


@router.post("/sign-out", **OPEN.route(csrf=True))
def sign_out(request: Request) -> Response:
    """Public so that an expired session can still 'sign out' without a detour via sign-in."""
    end_session(request)
    return RedirectResponse("/sign-in?signed-out=1", status_code=303)


def _purpose_page(
    request: Request,
    principal: Principal,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    purposes = registered_purposes(settings, principal)
    context: dict[str, Any] = {
        "purposes": purposes,
        "current": principal.purpose,
        "next_path": next_path,
        "error": error,
    }
    return render(request, "pages/purpose.html", context, status_code=status_code)


@router.get("/purpose", response_class=HTMLResponse, **SIGNED_IN_USER.route())
def purpose_form(
    request: Request, principal: Principal = Depends(require_principal)
) -> HTMLResponse:
    next_path = safe_next(request.query_params.get("next"))
    return _purpose_page(request, principal, next_path=next_path)


@router.post(
    "/purpose",
    response_class=HTMLResponse,
    **SIGNED_IN_USER.route(csrf=True),
)
async def purpose_submit(
    request: Request, principal: Principal = Depends(require_principal)
) -> Response:
    form = await request.form()
    code = str(form.get("purpose") or "")[:64]
    next_path = safe_next(str(form.get("next") or ""))
    if code:
        try:
            await run_in_threadpool(choose_purpose, request, principal, code)
        except PurposeNotGranted:
            return await run_in_threadpool(
                lambda: _purpose_page(
                    request,
                    principal,
                    next_path=next_path,
                    error="Your role is not granted that purpose: choose one of these",
                    status_code=403,
                )
            )
        except ValueError:
            code = ""
    if not code:
        return await run_in_threadpool(
            lambda: _purpose_page(
                request,
                principal,
                next_path=next_path,
                error="Select the purpose you are acting under",
                status_code=422,
            )
        )
    return RedirectResponse(next_path, status_code=303)
