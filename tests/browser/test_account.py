"""Sign in, choose the purpose you act under, see it in the header, change it, sign out.

Every page the test opens is checked with axe (the ``page`` fixture fails a test otherwise).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import BROWSER_PASSWORD, ensure_browser_account

pytestmark = pytest.mark.browser


def test_sign_in_choose_a_purpose_and_sign_out(
    page: Any, visit: Any, assert_accessible: Any, assert_clean: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    ensure_browser_account(live_server.settings, "browser-analyst")

    # A page that needs signing in sends you to the form, and back afterwards.
    page.goto("/jobs")
    assert page.url.endswith("/sign-in?next=/jobs")
    assert_accessible(page)
    assert page.get_by_role("navigation", name="Menu").get_by_role("link", name="Sign in")

    # A wrong password: the GOV.UK error summary, focused, and nothing about which was wrong.
    page.get_by_label("Username").fill("browser-analyst")
    page.get_by_label("Password", exact=True).fill("not the right password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter a correct username and password")
    assert page.title() == "Error: Sign in – joinedup"
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/jobs")
    assert_accessible(page)
    bar = page.get_by_test_id("account-bar")
    expect(bar).to_contain_text("Signed in as Browser Analyst, Browser Council.")
    expect(bar).to_contain_text("No purpose chosen.")

    # Choose a purpose from the register, with its lawful basis shown.
    bar.get_by_role("link", name="Choose the purpose you are acting under").click()
    page.wait_for_url("**/purpose?next=/jobs")
    assert_accessible(page)
    expect(page.locator("h1")).to_have_text("Choose the purpose you are acting under")
    page.get_by_role("button", name="Continue").click()  # nothing chosen yet
    page.wait_for_load_state("load")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select the purpose you are acting under"
    )
    assert_accessible(page)
    page.get_by_label("Early help").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/jobs")
    assert_accessible(page)
    expect(page.get_by_test_id("account-bar")).to_contain_text("Acting for: Early help.")

    # Change it: the current one is selected.
    page.get_by_test_id("account-bar").get_by_role("link", name="Change").click()
    page.wait_for_url("**/purpose?next=/jobs")
    assert_accessible(page)
    expect(page.get_by_label("Early help")).to_be_checked()
    page.get_by_label("Statistics and research").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/jobs")
    assert_accessible(page)
    expect(page.get_by_test_id("account-bar")).to_contain_text(
        "Acting for: Statistics and research."
    )

    # Sign out: back to the sign-in page, and the jobs need signing in again.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in?signed-out=1")
    assert_accessible(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    expect(page.get_by_test_id("account-bar")).to_have_count(0)
    visit(page, "/jobs")  # lands on the sign-in form again
    assert "/sign-in?next=/jobs" in page.url
    assert_clean(page)
