"""A sharing agreement in the browser: one borough's data owner drafts and proposes it, both
providers' data owners approve it and the second sees it active, then a DPO finds every step
in the audit log. Every page is checked with axe (the ``page`` fixture enforces it)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import User
from joinedup.governance.accounts import create_user
from joinedup.governance.organisations import ensure_organisation
from joinedup.governance.purposes import ensure_default_purposes
from tests.support import PASSWORD, ethics_signed_off

pytestmark = pytest.mark.browser

REFERENCE = "DSA-BROWSER-1"
NORTH, SOUTH = "Governance North Council", "Governance South Council"


@pytest.fixture
def accounts(live_server: Any) -> None:
    """Two boroughs with a data owner each, and a DPO at the hub (the home is shared)."""
    with session_scope(live_server.settings) as session:
        ensure_default_purposes(session)
        ensure_organisation(session, code="gov-north", name=NORTH)
        ensure_organisation(session, code="gov-south", name=SOUTH)
        ensure_organisation(session, code="gov-hub", name="Governance hub", type="hub")
        for username, org, role in (
            ("gov-north-owner", "gov-north", "data_owner"),
            ("gov-south-owner", "gov-south", "data_owner"),
            ("gov-dpo", "gov-hub", "dpo"),
        ):
            if session.scalars(select(User).where(User.username == username)).first() is None:
                create_user(
                    session,
                    username=username,
                    display_name=username.replace("-", " ").title(),
                    organisation=org,
                    role=role,
                    password=PASSWORD,
                )
        ethics_signed_off(session)  # the purposes' ethics records, signed off


def sign_in(
    page: Any, visit: Any, assert_accessible: Any, username: str, password: str = PASSWORD
) -> None:
    visit(page, "/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    assert_accessible(page)


def sign_out(page: Any, assert_accessible: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    assert_accessible(page)


def test_propose_approve_and_audit_an_agreement(
    page: Any, visit: Any, assert_accessible: Any, assert_clean: Any, accounts: None
) -> None:
    from playwright.sync_api import expect

    sign_in(page, visit, assert_accessible, "gov-north-owner")
    visit(page, "/agreements")
    page.get_by_role("button", name="New agreement").click()
    page.wait_for_url("**/agreements/new")
    assert_accessible(page)

    # Saving an empty form shows the GOV.UK error summary (also checked with axe).
    page.get_by_label("Reference", exact=True).fill("")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Reference", exact=True).fill(REFERENCE)
    page.get_by_label("Title", exact=True).fill("Census FSM fields both ways")
    providers = page.get_by_role("group", name="Providers")
    providers.get_by_label(NORTH).check()
    providers.get_by_label(SOUTH).check()
    page.get_by_role("group", name="Recipients").get_by_label(NORTH).check()
    page.locator("#share-0-provider").select_option("gov-north")
    page.locator("#share-1-provider").select_option("gov-south")
    page.locator("#share-1-dataset").fill("school-census")
    page.locator("#share-1-fields").fill("given_name, family_name, fsm_eligible")
    page.get_by_role("group", name="Purposes").get_by_label(
        "Free school meals auto-enrolment"
    ).check()
    page.get_by_label("DPIA reference").fill("DPIA-BROWSER-1")
    for name, (day, month, year) in {
        "start_date": ("1", "1", "2026"),
        "expiry_date": ("31", "12", "2030"),
    }.items():
        page.locator(f"#{name}-day").fill(day)
        page.locator(f"#{name}-month").fill(month)
        page.locator(f"#{name}-year").fill(year)
    page.get_by_label("Retention", exact=True).fill("Delete a year after the child leaves school")
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url(re.compile(rf".*/agreements/{REFERENCE}\?done=created$"))
    assert_accessible(page)
    expect(page.locator("h1")).to_have_text("Census FSM fields both ways")

    page.get_by_role("button", name="Propose agreement").click()
    page.wait_for_url("**?done=proposed")
    assert_accessible(page)
    page.get_by_role("button", name="Approve agreement").click()  # North is a provider too
    page.wait_for_url("**?done=approved")
    assert_accessible(page)
    expect(page.locator("#approvals")).to_contain_text("Approved by gov-north-owner")
    sign_out(page, assert_accessible)

    sign_in(page, visit, assert_accessible, "gov-south-owner")
    visit(page, f"/agreements/{REFERENCE}")
    expect(page.locator("#approvals")).to_contain_text("Waiting for approval")
    page.get_by_role("button", name="Approve agreement").click()
    page.wait_for_url("**?done=activated")
    assert_accessible(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "the agreement is active"
    )
    expect(page.locator(".govuk-tag", has_text="Active").first).to_be_visible()
    visit(page, "/agreements")
    row = page.locator("#agreements tbody tr", has_text=REFERENCE)
    expect(row).to_contain_text("Active")
    sign_out(page, assert_accessible)

    sign_in(page, visit, assert_accessible, "gov-dpo")
    visit(page, "/audit")
    expect(page.locator("#chain-status")).to_contain_text("The audit log is intact")
    page.get_by_label("Agreement").fill(REFERENCE)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*/audit\?.*agreement=" + REFERENCE))
    assert_accessible(page)
    rows = page.locator("#audit-entries tbody tr")
    actions = [text.strip() for text in rows.locator("td:nth-child(4)").all_inner_texts()]
    assert actions == [
        "agreement.active",
        "agreement.approve",
        "agreement.approve",
        "agreement.proposed",
        "agreement.draft",
    ]
    expect(page.locator("#entries")).to_contain_text("Entries 1 to 5 of 5")
    assert_clean(page)


def test_every_governance_page_is_accessible(
    page: Any, visit: Any, assert_accessible: Any, live_server: Any, accounts: None
) -> None:
    """The pages the journey above does not open, in their normal and error states."""
    from playwright.sync_api import expect

    with session_scope(live_server.settings) as session:
        if session.scalars(select(User).where(User.username == "gov-admin")).first() is None:
            create_user(
                session,
                username="gov-admin",
                display_name="Governance Admin",
                organisation="gov-hub",
                role="hub_admin",
                password=PASSWORD,
            )

    def submit(button: str) -> None:
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state("load")
        assert_accessible(page)

    sign_in(page, visit, assert_accessible, "gov-admin")
    for path in (
        "/admin",
        "/admin/organisations",
        "/admin/users",
        "/purposes",
        "/purposes/new",
        "/account/tokens",
    ):
        visit(page, path)
    visit(page, "/admin/organisations/new")
    submit("Add organisation")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    visit(page, "/admin/users/new")
    submit("Add user")
    page.get_by_label("Username").fill("gov-new-analyst")
    page.get_by_label("Full name").fill("Gov New Analyst")
    page.get_by_label("Organisation").select_option("gov-north")
    page.get_by_label("Analyst").check()
    submit("Add user")
    expect(page.locator("#new-password")).to_be_visible()
    visit(page, "/admin/users/gov-new-analyst/deactivate")
    visit(page, "/account/tokens/new")
    page.get_by_label("Name").fill("browser token")
    submit("Create token")
    expect(page.locator("#new-token")).to_contain_text("jdu_")
    visit(page, "/account/tokens")
    sign_out(page, assert_accessible)

    sign_in(page, visit, assert_accessible, "gov-dpo")
    visit(page, "/objections")
    visit(page, "/objections/new")
    submit("Record objection")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.get_by_label("Resident ID").fill("R-BROWSER")
    page.get_by_label("Early help").check()
    submit("Record objection")  # refused: early help allows no objection
    expect(page.locator(".govuk-error-summary")).to_contain_text("Residents cannot object")
    page.get_by_label("Every purpose that allows objection").check()
    submit("Record objection")
    expect(page.locator("#live-objections")).to_contain_text("resident R-BROWSER")
    page.locator("#live-objections tbody tr", has_text="R-BROWSER").get_by_role(
        "link", name=re.compile("Withdraw")
    ).click()
    page.wait_for_load_state("load")
    assert_accessible(page)
    visit(page, "/audit?from-day=31&from-month=2&from-year=2026", expected_status=422)
    sign_out(page, assert_accessible)

    sign_in(page, visit, assert_accessible, "gov-north-owner")
    visit(page, f"/agreements/{REFERENCE}/revoke")
    submit("Revoke agreement")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the reason")
