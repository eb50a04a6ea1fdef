"""``/api/v1/agreements`` and ``/api/v1/purposes``: sharing agreements and their lifecycle
(drafted by data owners and DPOs), and the purposes register (hub admins add to it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import JSONResponse

from joinedup.governance.service.agreements import (
    AgreementDetail,
    AgreementIn,
    AgreementSummary,
    RevokeIn,
    agreement_action,
    create_agreement,
    draft_from,
    get_agreement,
    list_agreements,
)
from joinedup.governance.service.purposes import (
    PurposeIn,
    PurposeOut,
    add_purpose,
    list_purposes,
    purpose_spec,
)
from joinedup.web.api.governance.common import (
    OWNERS,
    PROVIDERS,
    READER,
    REGISTRARS,
    DataOwner,
    Owners,
    Registrar,
    SignedIn,
    resource_router,
)
from joinedup.web.api.responses import errors
from joinedup.web.auth import Principal

Reference = Annotated[str, Path(description="The agreement's reference", max_length=64)]

router = resource_router()


@router.get(
    "/agreements",
    response_model=list[AgreementSummary],
    summary="List sharing agreements",
    responses=errors(401, 403),
    **READER.route(),
)
def api_list_agreements(request: Request, principal: SignedIn) -> list[AgreementSummary]:
    """Every agreement, newest first, with its recorded and effective status."""
    del principal
    return list_agreements(request.app.state.settings)


@router.get(
    "/agreements/{reference}",
    response_model=AgreementDetail,
    summary="One sharing agreement",
    responses=errors(401, 403, 404),
    **READER.route(),
)
def api_get_agreement(
    request: Request, principal: SignedIn, reference: Reference
) -> AgreementDetail:
    """Parties, data, purposes, basis, DPIA, dates, approvals, history, and the steps the
    caller may take."""
    return get_agreement(request.app.state.settings, principal, reference)


@router.post(
    "/agreements",
    response_model=AgreementDetail,
    status_code=201,
    summary="Draft a sharing agreement",
    responses=errors(401, 403, 422),
    **OWNERS.route(csrf=True),
)
def api_create_agreement(request: Request, principal: Owners, body: AgreementIn) -> Any:
    """Data owners and DPOs record a draft; propose it when it is ready."""
    detail = create_agreement(request.app.state.settings, principal, draft_from(body))
    return JSONResponse(
        detail.model_dump(mode="json"), status_code=201, headers={"Location": detail.url}
    )


def _step(
    request: Request, principal: Principal, reference: str, action: str, reason: str = ""
) -> AgreementDetail:
    detail, _ = agreement_action(request.app.state.settings, principal, reference, action, reason)
    return detail


STEP_ERRORS = errors(401, 403, 404, 409)


@router.post(
    "/agreements/{reference}/propose",
    response_model=AgreementDetail,
    summary="Propose a draft agreement",
    responses=STEP_ERRORS,
    **OWNERS.route(csrf=True),
)
def api_propose(request: Request, principal: Owners, reference: Reference) -> AgreementDetail:
    """A data owner or DPO of a party sends the draft to the providers for approval."""
    return _step(request, principal, reference, "propose")


@router.post(
    "/agreements/{reference}/approve",
    response_model=AgreementDetail,
    summary="Approve a proposed agreement",
    responses=STEP_ERRORS,
    **PROVIDERS.route(csrf=True),
)
def api_approve(request: Request, principal: DataOwner, reference: Reference) -> AgreementDetail:
    """A data owner of a provider approves; the agreement is active once every provider has."""
    return _step(request, principal, reference, "approve")


@router.post(
    "/agreements/{reference}/withdraw",
    response_model=AgreementDetail,
    summary="Withdraw a proposed agreement to draft",
    responses=STEP_ERRORS,
    **OWNERS.route(csrf=True),
)
def api_withdraw(request: Request, principal: Owners, reference: Reference) -> AgreementDetail:
    """Back to draft; approvals so far are cleared."""
    return _step(request, principal, reference, "withdraw")


@router.post(
    "/agreements/{reference}/leave",
    response_model=AgreementDetail,
    summary="Withdraw your organisation from an active agreement",
    responses=errors(401, 403, 404, 409, 422),
    **OWNERS.route(csrf=True),
)
def api_leave(
    request: Request, principal: Owners, reference: Reference, body: RevokeIn
) -> AgreementDetail:
    """Your organisation stops providing and receiving under the agreement at once; it goes on
    for the other parties while another provider and recipient remain (otherwise 409: revoke
    it). A reason is required."""
    return _step(request, principal, reference, "leave", body.reason)


@router.post(
    "/agreements/{reference}/revoke",
    response_model=AgreementDetail,
    summary="Revoke an agreement",
    responses=errors(401, 403, 404, 409, 422),
    **OWNERS.route(csrf=True),
)
def api_revoke(
    request: Request, principal: Owners, reference: Reference, body: RevokeIn
) -> AgreementDetail:
    """Stops access under the agreement at once. A reason is required."""
    return _step(request, principal, reference, "revoke", body.reason)


@router.get(
    "/purposes",
    response_model=list[PurposeOut],
    summary="List the registered purposes",
    responses=errors(401, 403),
    **READER.route(),
)
def api_list_purposes(request: Request, principal: SignedIn) -> list[PurposeOut]:
    del principal
    return list_purposes(request.app.state.settings)


@router.post(
    "/purposes",
    response_model=PurposeOut,
    status_code=201,
    summary="Register a purpose",
    responses=errors(401, 403, 409, 422),
    **REGISTRARS.route(csrf=True),
)
def api_add_purpose(request: Request, principal: Registrar, body: PurposeIn) -> PurposeOut:
    """Hub admins register a processing purpose with its lawful basis."""
    spec = purpose_spec(body)
    return add_purpose(request.app.state.settings, principal, spec)
