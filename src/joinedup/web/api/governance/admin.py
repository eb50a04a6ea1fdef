"""``/api/v1/organisations`` and ``/api/v1/users``: the register of organisations and user
accounts (hub admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request

from joinedup.governance.service.accounts import (
    UserCreated,
    UserIn,
    UserOut,
    add_user,
    end_user,
    list_users,
)
from joinedup.governance.service.organisations import (
    OrganisationIn,
    OrganisationOut,
    add_organisation,
    list_organisations,
)
from joinedup.web.api.governance.common import (
    ADMIN_ACTS,
    ADMIN_READS,
    AdminActing,
    AdminReading,
    resource_router,
)
from joinedup.web.api.responses import errors

router = resource_router()


@router.get(
    "/organisations",
    response_model=list[OrganisationOut],
    summary="List organisations",
    responses=errors(401, 403),
    **ADMIN_READS.route(),
)
def api_list_organisations(request: Request, principal: AdminReading) -> list[OrganisationOut]:
    return list_organisations(request.app.state.settings, principal)


@router.post(
    "/organisations",
    response_model=OrganisationOut,
    status_code=201,
    summary="Register an organisation",
    responses=errors(401, 403, 409, 422),
    **ADMIN_ACTS.route(csrf=True),
)
def api_add_organisation(
    request: Request, principal: AdminActing, body: OrganisationIn
) -> OrganisationOut:
    """Councils need their ONS GSS code (a local authority's: E06–E10, W06, S12 or N09)."""
    return add_organisation(request.app.state.settings, principal, body)


@router.get(
    "/users",
    response_model=list[UserOut],
    summary="List user accounts",
    responses=errors(401, 403),
    **ADMIN_READS.route(),
)
def api_list_users(request: Request, principal: AdminReading) -> list[UserOut]:
    return list_users(request.app.state.settings, principal)


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=201,
    summary="Create a user account",
    responses=errors(401, 403, 404, 422, described={404: "No such organisation"}),
    **ADMIN_ACTS.route(csrf=True),
)
def api_add_user(request: Request, principal: AdminActing, body: UserIn) -> UserCreated:
    """The generated password is in this answer only; it is stored as an argon2 hash."""
    return add_user(request.app.state.settings, principal, body)


@router.post(
    "/users/{username}/deactivate",
    response_model=UserOut,
    summary="Deactivate a user account",
    responses=errors(401, 403, 404, 409),
    **ADMIN_ACTS.route(csrf=True),
)
def api_deactivate_user(
    request: Request, principal: AdminActing, username: Annotated[str, Path(max_length=120)]
) -> UserOut:
    """The account can no longer sign in or use its tokens. Accounts are never deleted."""
    return end_user(request.app.state.settings, principal, username)
