"""Sharing agreements and the purposes register: list, detail with approvals and history, the
"New agreement" form, the lifecycle buttons, and the purposes a hub admin registers.

Every change is a POST with a CSRF token, made by the functions in
:mod:`joinedup.governance.service.agreements`, which call the governance core (audited in the same
transaction). A refusal comes back as a GOV.UK error on the page it was asked from.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, Role
from joinedup.config import Settings
from joinedup.errors import JoinedupError, Refused
from joinedup.governance.agreements import AgreementDraft
from joinedup.governance.purposes import PUBLIC_TASK
from joinedup.governance.service.agreements import (
    DATASET_NAME,
    FIELD_NAME,
    AgreementDetail,
    AgreementIn,
    agreement_action,
    agreement_path,
    check_reference,
    create_agreement,
    draft_from,
    get_agreement,
    list_agreements,
    may_draft,
)
from joinedup.governance.service.purposes import (
    PURPOSE_CODE,
    PurposeIn,
    add_purpose,
    list_purposes,
    purpose_spec,
)
from joinedup.ingest.service import (
    standard_titles,
)
from joinedup.standards import list_standards
from joinedup.toolkit.ethics import subject_states
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
    require_principal,
    require_roles,
    verify_csrf,
)
from joinedup.web.forms import Wording, date_parts, error_summary, parse_date, validate
from joinedup.web.guards import SIGNED_IN_USER, guard
from joinedup.web.navigation import NavItem
from joinedup.web.pages import PageSection
from joinedup.web.templating import render

router = APIRouter(include_in_schema=False)
section = PageSection(
    router=router, nav=NavItem(key="agreements", text="Agreements", href="/agreements")
)

SignedIn = Annotated[Principal, Depends(require_principal)]
Owners = Annotated[Principal, Depends(require_roles(Role.DATA_OWNER, Role.DPO))]
DataOwner = Annotated[Principal, Depends(require_roles(Role.DATA_OWNER))]
HubAdmin = Annotated[Principal, Depends(require_roles(Role.HUB_ADMIN))]
CSRF = [Depends(verify_csrf)]

#: Success messages after a step, by the ``done`` query value (never text from the request).
DONE = {
    "created": "The agreement was saved as a draft. Propose it when it is ready.",
    "proposed": "The agreement was proposed. Each provider's data owner now needs to approve it.",
    "approved": "Your organisation's approval was recorded.",
    "activated": "Your approval was recorded. Every provider has approved, so the agreement is "
    "active.",
    "withdrawn": "The agreement was withdrawn to draft. Approvals so far were cleared.",
    "revoked": "The agreement was revoked. Access under it has stopped.",
    "left": "Your organisation withdrew from the agreement. It goes on for the other parties.",
}
DONE_AFTER = {"propose": "proposed", "approve": "approved", "withdraw": "withdrawn"}
STATUS_COLOURS = {
    "draft": "govuk-tag--grey",
    "proposed": "govuk-tag--yellow",
    "active": "govuk-tag--green",
    "not yet started": "govuk-tag--light-blue",
    "expired": "govuk-tag--orange",
    "revoked": "govuk-tag--red",
}
#: Field order on the form (the error summary lists errors in this order).
FORM_FIELDS = (
    "reference",
    "title",
    "description",
    "providers",
    "recipients",
    "shares",
    "purposes",
    "lawful_basis",
    "special_category_condition",
    "dpia_reference",
    "start_date",
    "expiry_date",
    "retention",
)
#: Where a draft's field (as the API and the core name it) is on the form, when not the same.
FORM_FIELD = {"data": "shares"}
DEFAULT_SHARES = 2
MAX_SHARES = 20
RESERVED_REFERENCES = {"new"}
#: How the form words the limits :class:`AgreementIn` states.
AGREEMENT_WORDING = {
    "title": Wording("Enter a title", "A title"),
    "description": Wording(name="The description"),
    "providers": Wording("Select the organisations that provide data"),
    "recipients": Wording("Select the organisations that receive data"),
    "shares": Wording("Add at least one data share: the provider and what it shares"),
    "purposes": Wording("Select the purposes the data may be used for"),
    "lawful_basis": Wording("Enter the lawful basis", "The lawful basis"),
    "special_category_condition": Wording(name="The Article 9 condition"),
    "dpia_reference": Wording("Enter the DPIA reference", "The DPIA reference"),
    "retention": Wording("Enter how long the data is kept", "How long the data is kept"),
}


def govuk_date(value: date | None) -> str:
    """GOV.UK style: ``1 January 2026``."""
    return f"{value.day} {value:%B %Y}" if value else ""


def _context(principal: Principal, **values: Any) -> dict[str, Any]:
    return {
        "principal": principal,
        "status_colours": STATUS_COLOURS,
        "govuk_date": govuk_date,
        "agreement_path": agreement_path,
        **values,
    }


# --- list and detail -------------------------------------------------------------------------


OWNERS = guard(SIGNED_IN, (Role.DATA_OWNER, Role.DPO))
ADMINS = guard(SIGNED_IN, (Role.HUB_ADMIN,))
PROVIDERS = guard(SIGNED_IN, (Role.DATA_OWNER,))


@router.get("/agreements", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def agreement_list(request: Request, principal: SignedIn) -> HTMLResponse:
    agreements = await run_in_threadpool(list_agreements, request.app.state.settings)
    return render(
        request,
        "pages/agreements/list.html",
        _context(principal, agreements=agreements, may_draft=may_draft(principal)),
    )


async def _render_detail(
    request: Request,
    principal: Principal,
    detail: AgreementDetail,
    *,
    done: str | None = None,
    error: JoinedupError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    titles = standard_titles()
    subjects = [("agreement", detail.reference)] + [("purpose", p) for p in detail.purposes]
    ethics = await run_in_threadpool(subject_states, request.app.state.settings, subjects)
    return render(
        request,
        "pages/agreements/detail.html",
        _context(
            principal,
            agreement=detail,
            ethics=ethics,
            done=DONE.get(done or ""),
            error=error,
            standard_titles=titles,
        ),
        status_code=status_code,
    )


@router.get("/agreements/new", response_class=HTMLResponse, **OWNERS.route())
async def new_agreement_form(
    request: Request,
    principal: Owners,
) -> HTMLResponse:
    values: dict[str, Any] = {"lawful_basis": PUBLIC_TASK, "shares": [{} for _ in range(2)]}
    if principal.organisation_code:
        values["providers"] = [principal.organisation_code]
        values["shares"][0] = {"provider": principal.organisation_code}
    return await _render_form(request, principal, values, {})


@router.get("/agreements/{reference}", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def agreement_page(
    request: Request, principal: SignedIn, reference: str, done: str | None = None
) -> Response:
    detail = await run_in_threadpool(
        get_agreement, request.app.state.settings, principal, reference
    )
    return await _render_detail(request, principal, detail, done=done)


async def _detail_or_error(
    settings: Settings, principal: Principal, reference: str, refusal: JoinedupError
) -> AgreementDetail:
    """The agreement to show a refusal on; without one (say, a 404) the refusal's error page."""
    if refusal.status != 404:
        try:
            return await run_in_threadpool(get_agreement, settings, principal, reference)
        except JoinedupError:
            pass
    raise refusal


async def _step(
    request: Request, principal: Principal, reference: str, action: str, reason: str = ""
) -> Response:
    settings: Settings = request.app.state.settings
    try:
        _, activated = await run_in_threadpool(
            agreement_action, settings, principal, reference, action, reason
        )
    except JoinedupError as exc:
        detail = await _detail_or_error(settings, principal, reference, exc)
        return await _render_detail(request, principal, detail, error=exc, status_code=exc.status)
    done = "activated" if activated else DONE_AFTER[action]
    return RedirectResponse(f"{agreement_path(reference)}?done={done}", status_code=303)


@router.post("/agreements/{reference}/propose", **OWNERS.route(csrf=True))
async def propose(request: Request, principal: Owners, reference: str) -> Response:
    return await _step(request, principal, reference, "propose")


@router.post(
    "/agreements/{reference}/approve",
    **PROVIDERS.route(csrf=True),
)
async def approve(request: Request, principal: DataOwner, reference: str) -> Response:
    return await _step(request, principal, reference, "approve")


@router.post("/agreements/{reference}/withdraw", **OWNERS.route(csrf=True))
async def withdraw(request: Request, principal: Owners, reference: str) -> Response:
    return await _step(request, principal, reference, "withdraw")


async def _render_revoke(
    request: Request,
    principal: Principal,
    detail: AgreementDetail,
    reason: str = "",
    error: str | None = None,
    status_code: int = 200,
    step: str = "revoke",
) -> HTMLResponse:
    return render(
        request,
        "pages/agreements/revoke.html",
        _context(principal, agreement=detail, reason=reason, error=error, step=step),
        status_code=status_code,
    )


async def _reason_form(
    request: Request, principal: Principal, reference: str, step: str
) -> Response:
    detail = await run_in_threadpool(
        get_agreement, request.app.state.settings, principal, reference
    )
    if step not in detail.actions:
        what = "revoke this agreement" if step == "revoke" else "withdraw from this agreement"
        return await _render_detail(
            request, principal, detail, error=Refused(403, f"You cannot {what}"), status_code=403
        )
    return await _render_revoke(request, principal, detail, step=step)


async def _reason_step(
    request: Request, principal: Principal, reference: str, step: str
) -> Response:
    settings: Settings = request.app.state.settings
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    try:
        await run_in_threadpool(agreement_action, settings, principal, reference, step, reason)
    except JoinedupError as exc:
        detail = await _detail_or_error(settings, principal, reference, exc)
        if exc.field == "reason":
            return await _render_revoke(
                request, principal, detail, reason, exc.field_message, 422, step
            )
        return await _render_detail(request, principal, detail, error=exc, status_code=exc.status)
    done = "revoked" if step == "revoke" else "left"
    return RedirectResponse(f"{agreement_path(reference)}?done={done}", status_code=303)


@router.get("/agreements/{reference}/revoke", response_class=HTMLResponse, **OWNERS.route())
async def revoke_form(request: Request, principal: Owners, reference: str) -> Response:
    return await _reason_form(request, principal, reference, "revoke")


@router.post("/agreements/{reference}/revoke", **OWNERS.route(csrf=True))
async def revoke(request: Request, principal: Owners, reference: str) -> Response:
    return await _reason_step(request, principal, reference, "revoke")


@router.get("/agreements/{reference}/leave", response_class=HTMLResponse, **OWNERS.route())
async def leave_form(request: Request, principal: Owners, reference: str) -> Response:
    return await _reason_form(request, principal, reference, "leave")


@router.post("/agreements/{reference}/leave", **OWNERS.route(csrf=True))
async def leave(request: Request, principal: Owners, reference: str) -> Response:
    return await _reason_step(request, principal, reference, "leave")


# --- the new agreement form ------------------------------------------------------------------


def _form_choices(settings: Settings) -> dict[str, Any]:
    with session_scope(settings) as session:
        organisations = [
            (o.code, o.name)
            for o in session.scalars(select(Organisation).order_by(Organisation.name))
        ]
    titles = standard_titles()
    return {
        "organisations": organisations,
        "purposes": list_purposes(settings),
        "standards": [(name, titles[name]) for name in list_standards()],
    }


async def _render_form(
    request: Request,
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    choices = await run_in_threadpool(_form_choices, request.app.state.settings)
    order = {name: i for i, name in enumerate(FORM_FIELDS)}

    def position(key: str) -> int:  # stable sort: data shares keep their row order
        return order.get("shares" if key.startswith("share-") else key, len(order))

    error_list = error_summary(
        errors, sorted(errors, key=position), {key: _anchor(key) for key in errors}
    )
    return render(
        request,
        "pages/agreements/new.html",
        _context(principal, values=values, errors=errors, error_list=error_list, **choices),
        status_code=status_code,
    )


def _anchor(key: str) -> str:
    """The id of the input an error links to."""
    if key in ("start_date", "expiry_date"):
        return f"{key}-day"
    if key == "shares":
        return "share-0-provider"
    return key


def _split_fields(text: str) -> list[str]:
    return [f for f in re.split(r"[\s,]+", text.strip()) if f]


def _form_field(loc: tuple[int | str, ...], rows: list[int]) -> str:
    """Where an error of :class:`AgreementIn` is on the form: a data share's part is in its
    row (``share-2-dataset``), the data shares as a whole at ``shares``."""
    if loc[0] != "data":
        return str(loc[0])
    if len(loc) >= 3 and isinstance(loc[1], int):
        return f"share-{rows[loc[1]]}-{loc[2]}"
    return "shares"


def parse_agreement_form(
    form: Any,
) -> tuple[dict[str, Any], dict[str, str], AgreementDraft | None]:
    """The form's values (to show again), field errors, and the draft when there are none."""
    text = {
        name: str(form.get(name, "")).strip()
        for name in (
            "reference",
            "title",
            "description",
            "lawful_basis",
            "special_category_condition",
            "dpia_reference",
            "retention",
        )
    }
    lists = {name: [str(v) for v in form.getlist(name)] for name in ("providers", "recipients")}
    purposes = [str(v) for v in form.getlist("purposes")]
    try:
        count = min(max(int(str(form.get("share_count", DEFAULT_SHARES))), 1), MAX_SHARES)
    except ValueError:
        count = DEFAULT_SHARES
    shares = [
        {
            part: str(form.get(f"share-{i}-{part}", "")).strip()
            for part in ("provider", "dataset", "standard", "fields")
        }
        for i in range(count)
    ]
    dates = {name: date_parts(form, name) for name in ("start_date", "expiry_date")}
    values: dict[str, Any] = {**text, **lists, "purposes": purposes, "shares": shares, **dates}

    errors: dict[str, str] = {}
    problem = check_reference(text["reference"])
    if problem:
        errors["reference"] = problem
    elif text["reference"].lower() in RESERVED_REFERENCES:
        errors["reference"] = "Choose another reference"

    data: list[dict[str, Any]] = []
    rows: list[int] = []  # the form row of each data share
    for i, share in enumerate(shares):
        if not any(share.values()):
            continue
        rows.append(i)
        n = i + 1
        if not share["provider"]:
            errors[f"share-{i}-provider"] = f"Select the organisation that provides data share {n}"
        elif lists["providers"] and share["provider"] not in lists["providers"]:
            errors[f"share-{i}-provider"] = (
                f"The provider of data share {n} must be one of the providers selected above"
            )
        if share["dataset"] and not DATASET_NAME.match(share["dataset"]):
            errors[f"share-{i}-dataset"] = (
                f"The dataset of data share {n} must be lower-case letters, numbers, hyphens "
                "and underscores"
            )
        fields = _split_fields(share["fields"]) or ["*"]
        if any(not FIELD_NAME.match(f) for f in fields):
            errors[f"share-{i}-fields"] = (
                f"The fields of data share {n} must be field names separated by commas, "
                "like given_name, family_name"
            )
        data.append({**share, "fields": fields})

    start, start_error = parse_date(dates["start_date"], "start date")
    expiry, expiry_error = parse_date(dates["expiry_date"], "expiry date")
    if start_error:
        errors["start_date"] = start_error
    if expiry_error:
        errors["expiry_date"] = expiry_error
    if start and expiry and expiry <= start:
        errors["expiry_date"] = "The expiry date must be after the start date"

    body = validate(
        AgreementIn,
        {
            **text,
            **lists,
            "purposes": purposes,
            "data": data,
            "special_category_condition": text["special_category_condition"] or None,
            "start_date": start,
            "expiry_date": expiry,
        },
        AGREEMENT_WORDING,
        errors,
        lambda loc: _form_field(loc, rows),
    )
    if errors or body is None:
        return values, errors, None
    return values, errors, draft_from(body)


@router.post("/agreements/new", **OWNERS.route(csrf=True))
async def new_agreement(
    request: Request,
    principal: Owners,
) -> Response:
    form = await request.form()
    values, errors, draft = parse_agreement_form(form)
    if form.get("add_share"):
        if len(values["shares"]) < MAX_SHARES:
            values["shares"].append({})
        return await _render_form(request, principal, values, {})
    if draft is None:
        return await _render_form(request, principal, values, errors, 422)
    try:
        await run_in_threadpool(create_agreement, request.app.state.settings, principal, draft)
    except JoinedupError as exc:
        errors = {FORM_FIELD.get(k, k): v for k, v in exc.field_errors("reference").items()}
        status = 403 if exc.status == 403 else 422
        return await _render_form(request, principal, values, errors, status)
    return RedirectResponse(f"{agreement_path(draft.reference)}?done=created", status_code=303)


# --- purposes --------------------------------------------------------------------------------


@router.get("/purposes", response_class=HTMLResponse, **SIGNED_IN_USER.route())
async def purposes_page(
    request: Request, principal: SignedIn, done: str | None = None
) -> HTMLResponse:
    purposes = await run_in_threadpool(list_purposes, request.app.state.settings)
    return render(
        request,
        "pages/agreements/purposes.html",
        _context(
            principal,
            purposes=purposes,
            may_add=principal.role == Role.HUB_ADMIN,
            added=done if done and PURPOSE_CODE.match(done) else None,
        ),
    )


#: How the form words the limits :class:`PurposeIn` states.
PURPOSE_WORDING = {
    "name": Wording("Enter a name", "The name"),
    "description": Wording(name="The description"),
    "lawful_basis": Wording("Enter the lawful basis", "The lawful basis"),
    "special_category_condition": Wording(name="The Article 9 condition"),
}
PURPOSE_FIELDS = (
    "code",
    "name",
    "description",
    "lawful_basis",
    "special_category_condition",
    "objection_allowed",
)


def _render_purpose_form(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    error_list = error_summary(errors, PURPOSE_FIELDS)
    return render(
        request,
        "pages/agreements/purpose_new.html",
        _context(principal, values=values, errors=errors, error_list=error_list),
        status_code=status_code,
    )


@router.get("/purposes/new", response_class=HTMLResponse, **ADMINS.route())
async def new_purpose_form(
    request: Request,
    principal: HubAdmin,
) -> HTMLResponse:
    return _render_purpose_form(request, principal, {"lawful_basis": PUBLIC_TASK}, {})


@router.post("/purposes/new", **ADMINS.route(csrf=True))
async def new_purpose(
    request: Request,
    principal: HubAdmin,
) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in PURPOSE_FIELDS}
    errors: dict[str, str] = {}
    if not values["code"]:
        errors["code"] = "Enter a code"
    elif not PURPOSE_CODE.match(values["code"]):
        errors["code"] = "The code must be 2 to 64 lower-case letters, numbers and hyphens"
    if values["objection_allowed"] not in ("yes", "no"):
        errors["objection_allowed"] = "Select yes if residents may object to this purpose"
    body = validate(
        PurposeIn,
        {
            **values,
            "special_category_condition": values["special_category_condition"] or None,
            "objection_allowed": values["objection_allowed"] == "yes",
        },
        PURPOSE_WORDING,
        errors,
    )
    if errors or body is None:
        return _render_purpose_form(request, principal, values, errors, 422)
    spec = purpose_spec(body)
    try:
        await run_in_threadpool(add_purpose, request.app.state.settings, principal, spec)
    except JoinedupError as exc:
        return _render_purpose_form(
            request, principal, values, exc.field_errors("code"), exc.status
        )
    return RedirectResponse(f"/purposes?done={spec.code}", status_code=303)
