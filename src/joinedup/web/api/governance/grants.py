"""``/api/v1/purposes/grants``: which roles may act under which purpose (read by anyone signed
in; changed by data owners, for their own organisation, and DPOs)."""

from __future__ import annotations

from fastapi import Request

from joinedup.governance.service.grants import (
    GrantIn,
    GrantOut,
    GrantsOut,
    add_grant,
    grants_register,
    remove_grant,
)
from joinedup.web.api.governance.common import (
    OWNERS,
    READER,
    Owners,
    SignedIn,
    resource_router,
)
from joinedup.web.api.responses import errors

router = resource_router()


@router.get(
    "/purposes/grants",
    response_model=GrantsOut,
    summary="The purpose grants register",
    responses=errors(401, 403),
    **READER.route(),
)
def api_list_grants(request: Request, principal: SignedIn) -> GrantsOut:
    """Every grant, and the purposes you may act under. A request made under any other
    purpose is refused (403) and the refusal audited."""
    return grants_register(request.app.state.settings, principal)


@router.post(
    "/purposes/grants",
    response_model=GrantOut,
    status_code=201,
    summary="Grant a role a purpose",
    responses=errors(401, 403, 404, 409, 422),
    **OWNERS.route(csrf=True),
)
def api_add_grant(request: Request, principal: Owners, body: GrantIn) -> GrantOut:
    """Data owners grant within their own organisation; DPOs in any, or in every one (leave
    out ``organisation``). ``subject-access`` belongs to the DPO role alone."""
    return add_grant(request.app.state.settings, principal, body)


@router.post(
    "/purposes/grants/revoke",
    response_model=GrantOut,
    summary="Revoke a grant",
    responses=errors(401, 403, 404, 422),
    **OWNERS.route(csrf=True),
)
def api_revoke_grant(request: Request, principal: Owners, body: GrantIn) -> GrantOut:
    """The role stops acting under the purpose at once: its next request under it is refused."""
    return remove_grant(request.app.state.settings, principal, body)
