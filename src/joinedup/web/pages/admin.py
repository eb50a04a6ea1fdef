"""Administration: hub admins manage organisations and user accounts; everyone manages their own
API tokens.

A new account's generated password and a new token are shown once, on the page that answers
the form (never in a URL or a redirect), and are not stored: the password as an argon2 hash,
the token as a sha256 hash. Every change is audited by the governance core.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.models import OrganisationType, Role
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.service.accounts import (
    TOKEN_LIFETIMES,
    TokenIn,
    UserIn,
    add_token,
    add_user,
    end_token,
    end_user,
    find_user,
    list_tokens,
    list_users,
    scopes_for,
)
from joinedup.governance.service.organisations import (
    COUNCIL_GSS_PREFIXES,
    OrganisationIn,
    add_organisation,
    check_organisation,
    list_organisations,
)
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
    require_principal,
    require_roles,
    verify_csrf,
)
from joinedup.web.forms import Wording, confirmed, error_summary, validate
from joinedup.web.guards import SIGNED_IN_USER, guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(router=router, nav=NavItem(key="admin", text="Admin", href="/admin"))

HubAdmin = Annotated[Principal, Depends(require_roles(Role.HUB_ADMIN))]
SignedIn = Annotated[Principal, Depends(require_principal)]
CSRF = [Depends(verify_csrf)]
Username = Annotated[str, Path(max_length=120)]
TokenPrefix = Annotated[str, Path(max_length=16)]

ORG_FIELDS = ("code", "name", "type", "gss_code")
USER_FIELDS = ("username", "display_name", "email", "organisation", "role")
TOKEN_FIELDS = ("name", "scopes", "days")
ROLE_NAMES = {
    Role.HUB_ADMIN.value: "Hub administrator",
    Role.DATA_OWNER.value: "Data owner",
    Role.ANALYST.value: "Analyst",
    Role.CASEWORKER.value: "Caseworker",
    Role.DPO.value: "Data protection officer",
}
ROLE_HINTS = {
    Role.HUB_ADMIN.value: "Registers organisations, users and purposes. Never sees personal data.",
    Role.DATA_OWNER.value: "Uploads their organisation's data, proposes and approves agreements.",
    Role.ANALYST.value: "Runs linkage, reviews matches, writes indicator rules.",
    Role.CASEWORKER.value: "Works lists of flagged residents and records the action taken.",
    Role.DPO.value: "Audits who saw what and why, records objections.",
}
TYPE_NAMES = {
    OrganisationType.COUNCIL.value: "Council",
    OrganisationType.HEALTH.value: "Health",
    OrganisationType.VOLUNTARY.value: "Voluntary or community organisation",
    OrganisationType.HUB.value: "The hub",
    OrganisationType.OTHER.value: "Other",
}
SCOPE_HINTS = {
    "read": "Read agreements, purposes, the catalogue and jobs (and the audit log, for DPOs).",
    "ingest": "Upload files to your organisation's datasets.",
    "governance": "Draft, propose, approve and revoke agreements; record objections.",
    "review": "Record clerical review decisions on linkage pairs (analysts).",
    "admin": "Manage organisations and users.",
    "casework": "Record actions and outcomes on flags in your organisation's worklist.",
}
DONE = {
    "deactivated": "The account was deactivated. It can no longer sign in or use its tokens.",
    "organisation": "The organisation was registered.",
    "revoked": "The token was revoked. It no longer works.",
}


#: How the forms word the limits :class:`OrganisationIn` and :class:`UserIn` state.
ORG_WORDING = {
    "code": Wording("Enter a code", "The code"),
    "name": Wording("Enter the organisation's name", "The name"),
    "type": Wording("Select the type of organisation", invalid="Select the type of organisation"),
}
USER_WORDING = {
    "username": Wording("Enter a username", "The username"),
    "display_name": Wording("Enter the person's full name", "The name"),
    "email": Wording(
        invalid="Enter an email address in the correct format, like name@example.gov.uk"
    ),
    "organisation": Wording("Select the person's organisation", "The organisation"),
    "role": Wording("Select the person's role", invalid="Select the person's role"),
}
#: How the token form words the limits :class:`TokenIn` states.
TOKEN_WORDING = {
    "name": Wording("Enter a name for the token", "The name"),
    "scopes": Wording("Select what the token may do"),
    "days": Wording(invalid="Select when the token expires"),
}


def _common(principal: Principal, **values: Any) -> dict[str, Any]:
    return {
        "principal": principal,
        "role_names": ROLE_NAMES,
        "type_names": TYPE_NAMES,
        **values,
    }


ADMINS = guard(SIGNED_IN, (Role.HUB_ADMIN,))


@router.get("/admin", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def admin_index(request: Request, principal: SignedIn) -> HTMLResponse:
    return render(request, "pages/admin/index.html", _common(principal))


# --- organisations ---------------------------------------------------------------------------


@router.get("/admin/organisations", response_class=HTMLResponse, **ADMINS.route())
async def organisations_page(
    request: Request, principal: HubAdmin, done: str | None = None
) -> HTMLResponse:
    organisations = await run_in_threadpool(
        list_organisations, request.app.state.settings, principal
    )
    return render(
        request,
        "pages/admin/organisations.html",
        _common(principal, organisations=organisations, done=DONE.get(done or "")),
    )


def _render_org_form(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "pages/admin/organisation_new.html",
        _common(
            principal,
            values=values,
            errors=errors,
            error_list=error_summary(errors, ORG_FIELDS),
            council_prefixes=COUNCIL_GSS_PREFIXES,
        ),
        status_code=status_code,
    )


@router.get("/admin/organisations/new", response_class=HTMLResponse, **ADMINS.route())
async def new_organisation_form(request: Request, principal: HubAdmin) -> HTMLResponse:
    return _render_org_form(request, principal, {}, {})


@router.post("/admin/organisations/new", **ADMINS.route(csrf=True))
async def new_organisation(request: Request, principal: HubAdmin) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ORG_FIELDS}
    values["gss_code"] = values["gss_code"].upper()
    values["code"] = values["code"].lower()
    errors: dict[str, str] = {}
    body = validate(
        OrganisationIn, {**values, "gss_code": values["gss_code"] or None}, ORG_WORDING, errors
    )
    checked = check_organisation(
        values["code"], values["name"], values["type"], values["gss_code"] or None
    )
    for name, message in checked.items():
        errors.setdefault(name, message)
    if errors or body is None:
        return _render_org_form(request, principal, values, errors, 422)
    try:
        await run_in_threadpool(add_organisation, request.app.state.settings, principal, body)
    except JoinedupError as exc:
        return _render_org_form(request, principal, values, exc.field_errors("code"), exc.status)
    return RedirectResponse("/admin/organisations?done=organisation", status_code=303)


# --- users -----------------------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse, **ADMINS.route())
async def users_page(
    request: Request, principal: HubAdmin, done: str | None = None
) -> HTMLResponse:
    users = await run_in_threadpool(list_users, request.app.state.settings, principal)
    return render(
        request,
        "pages/admin/users.html",
        _common(principal, users=users, done=DONE.get(done or "")),
    )


async def _render_user_form(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    organisations = await run_in_threadpool(
        list_organisations, request.app.state.settings, principal
    )
    return render(
        request,
        "pages/admin/user_new.html",
        _common(
            principal,
            values=values,
            errors=errors,
            error_list=error_summary(errors, USER_FIELDS),
            organisations=organisations,
            role_hints=ROLE_HINTS,
        ),
        status_code=status_code,
    )


@router.get("/admin/users/new", response_class=HTMLResponse, **ADMINS.route())
async def new_user_form(request: Request, principal: HubAdmin) -> HTMLResponse:
    return await _render_user_form(request, principal, {}, {})


@router.post("/admin/users/new", **ADMINS.route(csrf=True))
async def new_user(request: Request, principal: HubAdmin) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in USER_FIELDS}
    values["username"] = values["username"].lower()
    errors: dict[str, str] = {}
    body = validate(UserIn, {**values, "email": values["email"] or None}, USER_WORDING, errors)
    if errors or body is None:
        return await _render_user_form(request, principal, values, errors, 422)
    try:
        created = await run_in_threadpool(add_user, request.app.state.settings, principal, body)
    except JoinedupError as exc:
        return await _render_user_form(
            request, principal, values, exc.field_errors("username"), exc.status
        )
    # The password is in this answer only (the layout sends Cache-Control: no-store).
    return render(
        request,
        "pages/admin/user_created.html",
        _common(principal, created=created),
        status_code=201,
    )


@router.get("/admin/users/{username}/deactivate", response_class=HTMLResponse, **ADMINS.route())
async def deactivate_form(
    request: Request, principal: HubAdmin, username: Username
) -> HTMLResponse:
    user = await run_in_threadpool(find_user, request.app.state.settings, principal, username)
    return render(
        request, "pages/admin/user_deactivate.html", _common(principal, user=user, error=None)
    )


@router.post("/admin/users/{username}/deactivate", **ADMINS.route(csrf=True))
async def deactivate(request: Request, principal: HubAdmin, username: Username) -> Response:
    settings: Settings = request.app.state.settings
    return await confirmed(
        request,
        partial(end_user, settings, principal, username),
        "pages/admin/user_deactivate.html",
        lambda: _common(principal, user=find_user(settings, principal, username)),
        "/admin/users?done=deactivated",
    )


# --- API tokens (your own) -------------------------------------------------------------------


@router.get("/account/tokens", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def tokens_page(
    request: Request, principal: SignedIn, done: str | None = None
) -> HTMLResponse:
    tokens = await run_in_threadpool(list_tokens, request.app.state.settings, principal)
    return render(
        request,
        "pages/admin/tokens.html",
        _common(principal, tokens=tokens, done=DONE.get(done or "")),
    )


def _render_token_form(
    request: Request,
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "pages/admin/token_new.html",
        _common(
            principal,
            values=values,
            errors=errors,
            error_list=error_summary(errors, TOKEN_FIELDS),
            scopes=scopes_for(principal.role),
            scope_hints=SCOPE_HINTS,
            lifetimes=TOKEN_LIFETIMES,
        ),
        status_code=status_code,
    )


@router.get("/account/tokens/new", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def new_token_form(request: Request, principal: SignedIn) -> HTMLResponse:
    return _render_token_form(request, principal, {"scopes": ["read"], "days": "90"}, {})


@router.post("/account/tokens/new", **SIGNED_IN_USER.route(csrf=True))
async def new_token(request: Request, principal: SignedIn) -> Response:
    form = await request.form()
    values: dict[str, Any] = {
        "name": str(form.get("name", "")).strip(),
        "scopes": [str(s) for s in form.getlist("scopes")],
        "days": str(form.get("days", "")),
    }
    errors: dict[str, str] = {}
    body = validate(TokenIn, values, TOKEN_WORDING, errors)
    if errors or body is None:
        # One problem at a time, the first on the form (as the form has always answered).
        first = next(f for f in (*TOKEN_FIELDS, *errors) if f in errors)
        return _render_token_form(request, principal, values, {first: errors[first]}, 422)
    try:
        issued = await run_in_threadpool(add_token, request.app.state.settings, principal, body)
    except JoinedupError as exc:
        return _render_token_form(request, principal, values, exc.field_errors("name"), exc.status)
    return render(
        request,
        "pages/admin/token_created.html",
        _common(principal, token=issued.token, plaintext=issued.plaintext),
        status_code=201,
    )


@router.post("/account/tokens/{prefix}/revoke", **SIGNED_IN_USER.route(csrf=True))
async def revoke_token(request: Request, principal: SignedIn, prefix: TokenPrefix) -> Response:
    await run_in_threadpool(end_token, request.app.state.settings, principal, prefix)
    return RedirectResponse("/account/tokens?done=revoked", status_code=303)
