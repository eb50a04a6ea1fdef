"""Sharing agreement and purpose pages: the whole lifecycle through the web forms, the audit
entries it leaves, form validation, and who may do what."""

from __future__ import annotations

import html as html_lib
import re
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Agreement, AuditEvent, Purpose
from joinedup.config import Settings
from joinedup.governance.audit import verify_chain
from tests.support import csrf_of
from tests.web.conftest import SignedInFor, add_accounts

if TYPE_CHECKING:
    from fastapi.testclient import TestClient
    from httpx import Response

REFERENCE = "DSA-WEB-1"


def text_of(html: str) -> str:
    main = re.search(r"<main.*?</main>", html, re.S)
    assert main
    text = re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", main.group(0))))
    return re.sub(r"\( ", "(", re.sub(r" ([,.)])", r"\1", text)).strip()


def table_text(html: str, table_id: str) -> str:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    return text_of(f"<main>{table.group(0)}</main>")


def error_summary(html: str) -> list[str]:
    """The error summary's messages, in order, and the ids they link to."""
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary"
    return [
        f"{html_lib.unescape(text).strip()} #{anchor}"
        for anchor, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary.group(0), re.S)
    ]


def post_form(
    client: TestClient, page: str, action: str, data: dict[str, Any] | None = None
) -> Response:
    """GET ``page`` for its CSRF token, then POST ``data`` to ``action`` (no redirect follow)."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def agreement_form(**overrides: Any) -> dict[str, Any]:
    """A complete "New agreement" form: Lambeth and Southwark share with each other for FSM."""
    form: dict[str, Any] = {
        "reference": REFERENCE,
        "title": "Census and council tax for FSM",
        "description": "Both boroughs share for free school meals auto-enrolment.",
        "providers": ["lambeth", "southwark"],
        "recipients": ["lambeth", "southwark"],
        "share_count": "2",
        "share-0-provider": "lambeth",
        "share-0-dataset": "",
        "share-0-standard": "",
        "share-0-fields": "",
        "share-1-provider": "southwark",
        "share-1-dataset": "school-census",
        "share-1-standard": "school_census",
        "share-1-fields": "source_record_id, given_name, family_name fsm_eligible",
        "purposes": ["fsm"],
        "lawful_basis": "UK GDPR Article 6(1)(e): public task",
        "special_category_condition": "",
        "dpia_reference": "DPIA-2026-11",
        "start_date-day": "1",
        "start_date-month": "1",
        "start_date-year": "2026",
        "expiry_date-day": "31",
        "expiry_date-month": "12",
        "expiry_date-year": "2030",
        "retention": "Delete 12 months after the child leaves school",
    }
    form.update(overrides)
    return form


@pytest.fixture
def owners(signed_in_for: SignedInFor, db_settings: Settings) -> dict[str, TestClient]:
    add_accounts(db_settings)
    return {name: signed_in_for(db_settings, name) for name in ("lam-owner", "sou-owner")}


def create(client: TestClient, **overrides: Any) -> Response:
    return post_form(client, "/agreements/new", "/agreements/new", agreement_form(**overrides))


def step(client: TestClient, action: str, data: dict[str, str] | None = None) -> Response:
    return post_form(client, f"/agreements/{REFERENCE}", f"/agreements/{REFERENCE}/{action}", data)


def test_the_whole_lifecycle_through_the_forms(
    owners: dict[str, TestClient], db_settings: Settings
) -> None:
    lam, sou = owners["lam-owner"], owners["sou-owner"]

    created = create(lam)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/agreements/{REFERENCE}?done=created"
    page = lam.get(created.headers["location"]).text
    assert "saved as a draft" in text_of(page)
    assert re.search(r"govuk-tag--grey[^>]*>\s*Draft", page)
    assert "Propose agreement" in page and "Approve agreement" not in page
    summary = text_of(page)
    for fact in (
        "DPIA reference DPIA-2026-11",
        "Lambeth: every dataset, all fields",
        "Southwark: the dataset school-census (School census pupil), the fields source_record_id, "
        "given_name, family_name, fsm_eligible",
        "Lawful basis UK GDPR Article 6(1)(e): public task",
        "Article 9 condition None: no special category data",
        "Starts 1 January 2026",
        "Expires 31 December 2030",
        "Retention Delete 12 months after the child leaves school",
    ):
        assert fact in summary, fact

    proposed = step(lam, "propose")
    assert proposed.headers["location"].endswith("?done=proposed")
    page = sou.get(f"/agreements/{REFERENCE}").text
    assert "Approve agreement" in page and "Propose agreement" not in page
    assert re.search(r"govuk-tag--yellow[^>]*>\s*Proposed", page)

    assert step(sou, "approve").headers["location"].endswith("?done=approved")
    page = sou.get(f"/agreements/{REFERENCE}").text
    approvals = table_text(page, "approvals")
    assert "Southwark Approved by sou-owner" in approvals
    assert "Lambeth Waiting for approval" in approvals
    assert "Approve agreement" not in page  # Southwark has approved already

    again = step(sou, "approve")  # a stale form, posted again
    assert again.status_code == 409  # the button is gone; the page says why
    assert error_summary(again.text) == [
        "Your organisation has already approved this agreement #actions"
    ]
    activated = step(lam, "approve")
    assert activated.headers["location"].endswith("?done=activated")
    page = lam.get(activated.headers["location"]).text
    assert "Every provider has approved, so the agreement is active" in text_of(page)
    assert re.search(r"govuk-tag--green[^>]*>\s*Active", page)

    listing = sou.get("/agreements").text
    row = re.search(r"<tr[^>]*>\s*<td[^>]*>\s*<a[^>]*>" + REFERENCE + ".*?</tr>", listing, re.S)
    assert row, listing
    row_text = text_of(f"<main>{row.group(0)}</main>")
    assert "Active" in row_text and "fsm" in row_text
    assert "From: Lambeth, Southwark" in row_text and "1 January 2026" in row_text

    form = sou.get(f"/agreements/{REFERENCE}/revoke")
    assert form.status_code == 200
    missing = post_form(
        sou, f"/agreements/{REFERENCE}/revoke", f"/agreements/{REFERENCE}/revoke", {"reason": " "}
    )
    assert missing.status_code == 422
    assert error_summary(missing.text) == ["Enter the reason for revoking the agreement #reason"]
    revoked = post_form(
        sou,
        f"/agreements/{REFERENCE}/revoke",
        f"/agreements/{REFERENCE}/revoke",
        {"reason": "The DPIA was withdrawn"},
    )
    assert revoked.headers["location"].endswith("?done=revoked")
    page = sou.get(revoked.headers["location"]).text
    assert re.search(r"govuk-tag--red[^>]*>\s*Revoked", page)
    history = table_text(page, "history")
    assert "active to revoked sou-owner The DPIA was withdrawn" in history
    assert "There is nothing you can do with this agreement now" in text_of(page)

    with session_scope(db_settings) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "agreement", AuditEvent.target_id == REFERENCE)
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.action, e.actor) for e in events] == [
            ("agreement.draft", "lam-owner"),
            ("agreement.proposed", "lam-owner"),
            ("agreement.approve", "sou-owner"),
            ("agreement.approve", "lam-owner"),
            ("agreement.active", "lam-owner"),
            ("agreement.revoked", "sou-owner"),
        ]
        assert events[-1].details["note"] == "The DPIA was withdrawn"
        assert verify_chain(session) == []


def test_withdraw_to_draft_clears_approvals(
    owners: dict[str, TestClient], db_settings: Settings
) -> None:
    lam, sou = owners["lam-owner"], owners["sou-owner"]
    create(lam)
    step(lam, "propose")
    step(sou, "approve")
    assert step(sou, "withdraw").headers["location"].endswith("?done=withdrawn")
    page = lam.get(f"/agreements/{REFERENCE}").text
    assert "Approvals so far were cleared" not in page  # the banner is for the one who acted
    assert "Not yet asked" in text_of(page)
    with session_scope(db_settings) as session:
        agreement = session.scalars(select(Agreement)).one()
        assert agreement.status == "draft" and agreement.approvals == []


def test_expiry_and_start_show_as_the_effective_status(
    owners: dict[str, TestClient],
) -> None:
    lam, sou = owners["lam-owner"], owners["sou-owner"]
    create(lam, **{"start_date-year": "2099", "expiry_date-year": "2100"})
    step(lam, "propose")
    step(sou, "approve")
    step(lam, "approve")
    page = lam.get("/agreements").text
    assert "Now not yet started" in text_of(page)


def test_new_agreement_form_validation(owners: dict[str, TestClient]) -> None:
    lam = owners["lam-owner"]
    empty = post_form(
        lam,
        "/agreements/new",
        "/agreements/new",
        {"share_count": "2", "lawful_basis": "", "share-0-provider": ""},
    )
    assert empty.status_code == 422
    assert error_summary(empty.text) == [
        "Enter a reference #reference",
        "Enter a title #title",
        "Select the organisations that provide data #providers",
        "Select the organisations that receive data #recipients",
        "Add at least one data share: the provider and what it shares #share-0-provider",
        "Select the purposes the data may be used for #purposes",
        "Enter the lawful basis #lawful_basis",
        "Enter the DPIA reference #dpia_reference",
        "Enter the start date #start_date-day",
        "Enter the expiry date #expiry_date-day",
        "Enter how long the data is kept #retention",
    ]
    assert "<title>Error: New sharing agreement – joinedup</title>" in empty.text

    wrong = create(
        lam,
        reference="bad reference!",
        **{
            "share-1-provider": "hub",
            "share-1-fields": "given name; =cmd",
            "start_date-day": "31",
            "start_date-month": "2",
            "expiry_date-month": "",
        },
    )
    assert wrong.status_code == 422
    assert error_summary(wrong.text) == [
        "The reference must be up to 64 letters, digits, dots, dashes and underscores #reference",
        "The provider of data share 2 must be one of the providers selected above "
        "#share-1-provider",
        "The fields of data share 2 must be field names separated by commas, like given_name, "
        "family_name #share-1-fields",
        "The start date must be a real date #start_date-day",
        "The expiry date must include a month #expiry_date-day",
    ]
    # What was typed is shown again, the error fields marked.
    assert 'value="bad reference!"' in wrong.text
    assert (
        'class="govuk-input govuk-date-input__input govuk-input--width-2 govuk-input--error"'
        in (wrong.text)
    )

    order = create(lam, **{"expiry_date-year": "2025"})
    assert error_summary(order.text) == [
        "The expiry date must be after the start date #expiry_date-day"
    ]

    assert create(lam).status_code == 303
    duplicate = create(lam)
    assert duplicate.status_code == 422
    assert error_summary(duplicate.text) == [
        f"An agreement '{REFERENCE}' already exists #reference"
    ]

    outsider = create(
        lam,
        reference="DSA-NOT-OURS",
        providers=["southwark"],
        recipients=["hub"],
        **{
            "share-0-provider": "southwark",
            "share-1-provider": "",
            "share-1-dataset": "",
            "share-1-standard": "",
            "share-1-fields": "",
        },
    )
    assert outsider.status_code == 403
    assert error_summary(outsider.text) == [
        "Your organisation (Lambeth) must be a provider or a recipient #providers"
    ]


def test_add_another_data_share_keeps_what_was_typed(owners: dict[str, TestClient]) -> None:
    lam = owners["lam-owner"]
    more = create(lam, add_share="1", title="Kept")
    assert more.status_code == 200
    assert 'name="share_count" value="3"' in more.text
    assert 'id="share-2-provider"' in more.text and 'value="Kept"' in more.text
    assert "govuk-error-summary" not in more.text


def test_who_may_do_what(
    signed_in_for: SignedInFor,
    owners: dict[str, TestClient],
    db_settings: Settings,
    client_for: Any,
) -> None:
    lam = owners["lam-owner"]
    create(lam)
    case = signed_in_for(db_settings, "lam-case")
    listing = case.get("/agreements")
    assert listing.status_code == 200 and REFERENCE in listing.text
    assert "New agreement" not in listing.text
    assert case.get("/agreements/new").status_code == 403
    detail = case.get(f"/agreements/{REFERENCE}")
    assert detail.status_code == 200 and "There is nothing you can do" in detail.text
    token = csrf_of(detail.text)
    for action in ("propose", "approve", "withdraw", "revoke"):
        refused = case.post(
            f"/agreements/{REFERENCE}/{action}",
            data={"csrf_token": token, "reason": "x"},
            follow_redirects=False,
        )
        assert refused.status_code == 403, action

    admin = signed_in_for(db_settings, "admin")
    assert admin.get(f"/agreements/{REFERENCE}").status_code == 200
    assert admin.get("/agreements/new").status_code == 403

    # A DPO of an organisation that is not a party sees it but may do nothing with it.
    hub_dpo = signed_in_for(db_settings, "hub-dpo")
    page = hub_dpo.get(f"/agreements/{REFERENCE}").text
    assert "There is nothing you can do" in page
    refused = post_form(hub_dpo, f"/agreements/{REFERENCE}", f"/agreements/{REFERENCE}/propose")
    assert refused.status_code == 403
    assert "Only a data owner or DPO of a party can propose an agreement" in text_of(refused.text)

    # Forms need the CSRF token; pages need a signed-in user.
    forged = lam.post(
        f"/agreements/{REFERENCE}/propose",
        headers={"X-CSRF-Token": "forged"},  # the test client sends the real one by default
        follow_redirects=False,
    )
    assert forged.status_code == 403
    anonymous = client_for(db_settings)
    assert (
        anonymous.get("/agreements", follow_redirects=False)
        .headers["location"]
        .startswith("/sign-in")
    )
    assert lam.get("/agreements/NOPE").status_code == 404
    with session_scope(db_settings) as session:
        assert session.scalars(select(Agreement.status)).one() == "draft"


def test_purposes_register_and_adding_one(
    signed_in_for: SignedInFor, db_settings: Settings
) -> None:
    case = signed_in_for(db_settings, "lam-case")
    page = case.get("/purposes")
    assert page.status_code == 200
    rows = text_of(page.text)
    assert "Early help early-help" in rows and "UK GDPR Article 9(2)(g)" in rows
    assert "Register a purpose" not in page.text
    assert case.get("/purposes/new").status_code == 403

    admin = signed_in_for(db_settings, "admin")
    assert "Register a purpose" in admin.get("/purposes").text
    bad = post_form(
        admin, "/purposes/new", "/purposes/new", {"code": "Bad Code", "lawful_basis": ""}
    )
    assert bad.status_code == 422
    assert error_summary(bad.text) == [
        "The code must be 2 to 64 lower-case letters, numbers and hyphens #code",
        "Enter a name #name",
        "Enter the lawful basis #lawful_basis",
        "Select yes if residents may object to this purpose #objection_allowed",
    ]
    taken = post_form(
        admin,
        "/purposes/new",
        "/purposes/new",
        {"code": "fsm", "name": "x", "lawful_basis": "y", "objection_allowed": "yes"},
    )
    assert taken.status_code == 409
    assert error_summary(taken.text) == ["A purpose with the code 'fsm' already exists #code"]
    added = post_form(
        admin,
        "/purposes/new",
        "/purposes/new",
        {
            "code": "housing-allocation",
            "name": "Housing allocation",
            "lawful_basis": "UK GDPR Article 6(1)(e): public task",
            "objection_allowed": "no",
        },
    )
    assert added.status_code == 303
    page = admin.get(added.headers["location"]).text
    assert "The purpose housing-allocation was registered" in page
    with session_scope(db_settings) as session:
        purpose = session.scalars(select(Purpose).where(Purpose.code == "housing-allocation")).one()
        assert purpose.objection_allowed is False
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "purpose.create")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and (event.actor, event.target_id) == (
            "admin",
            "housing-allocation",
        )
