"""``/purposes/grants``: the purpose grants register. Everyone signed in sees it and the purposes
they may act under; data owners (for their own organisation) and DPOs grant and revoke, with the
same use cases as the API (:mod:`joinedup.governance.service.grants`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, Role
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.service.grants import (
    ROLE_VALUES,
    GrantIn,
    add_grant,
    grants_register,
    remove_grant,
)
from joinedup.governance.service.purposes import list_purposes
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.forms import Wording, error_summary, validate
from joinedup.web.guards import SIGNED_IN_USER, guard
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
#: Reached from the purposes page and the purpose chooser.
section = PageSection(router=router)

MANAGERS = guard(SIGNED_IN, (Role.DATA_OWNER, Role.DPO))
Manager = Annotated[Principal, MANAGERS.depends]
Viewer = Annotated[Principal, SIGNED_IN_USER.depends]
EVERY = "*"
FIELDS = ("purpose", "role", "organisation")
WORDING = {
    "purpose": Wording("Select a purpose", "The purpose"),
    "role": Wording("Select a role", "The role"),
    "organisation": Wording(name="The organisation"),
}
DONE = {
    "granted": "The grant was made. People in that role may now act under the purpose.",
    "revoked": "The grant was revoked. Requests made under it are refused from now on.",
}


def _choices(settings: Settings, principal: Principal) -> dict[str, Any]:
    with session_scope(settings) as session:
        organisations = [
            (o.code, o.name)
            for o in session.scalars(select(Organisation).order_by(Organisation.name))
            if principal.role == Role.DPO or o.id == principal.organisation_id
        ]
    return {
        "organisations": organisations,
        "purposes": list_purposes(settings),
        "roles": ROLE_VALUES,
        "every": EVERY,
    }


async def _render(
    request: Request,
    principal: Principal,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    register = await run_in_threadpool(grants_register, settings, principal)
    choices = await run_in_threadpool(_choices, settings, principal)
    errors = errors or {}
    manages = principal.role in (Role.DATA_OWNER, Role.DPO)
    return render(
        request,
        "pages/agreements/grants.html",
        {
            "principal": principal,
            "grants": register.grants,
            "yours": register.yours,
            "may_manage": manages,
            "may_revoke": lambda g: (
                manages
                and (principal.role == Role.DPO or g.organisation == principal.organisation_code)
            ),
            "values": values or {"organisation": principal.organisation_code},
            "errors": errors,
            "error_list": error_summary(errors, FIELDS),
            "done": DONE.get(done or ""),
            **choices,
        },
        status_code=status_code,
    )


@router.get("/purposes/grants", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def grants_page(request: Request, principal: Viewer, done: str | None = None) -> HTMLResponse:
    return await _render(request, principal, done=done)


async def _submit(request: Request, principal: Principal, revoke: bool) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip()[:100] for name in FIELDS}
    errors: dict[str, str] = {}
    organisation = None if values["organisation"] in ("", EVERY) else values["organisation"]
    body = validate(GrantIn, {**values, "organisation": organisation}, WORDING, errors)
    if errors or body is None:
        return await _render(request, principal, values, errors, 422)
    use = remove_grant if revoke else add_grant
    try:
        await run_in_threadpool(use, request.app.state.settings, principal, body)
    except JoinedupError as exc:
        return await _render(request, principal, values, exc.field_errors("role"), exc.status)
    done = "revoked" if revoke else "granted"
    return RedirectResponse(f"/purposes/grants?done={done}", status_code=303)


@router.post("/purposes/grants", **MANAGERS.route(csrf=True))
async def grant_submit(request: Request, principal: Manager) -> Response:
    return await _submit(request, principal, revoke=False)


@router.post("/purposes/grants/revoke", **MANAGERS.route(csrf=True))
async def revoke_submit(request: Request, principal: Manager) -> Response:
    return await _submit(request, principal, revoke=True)
