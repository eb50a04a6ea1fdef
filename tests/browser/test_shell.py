"""The web shell in a real browser: GOV.UK layout, styles, scripts, CSP, accessibility.

Every page is opened with ``visit``, which runs axe-core and fails on console errors, CSP
violations or any request that tries to leave 127.0.0.1.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from joinedup import __version__

pytestmark = pytest.mark.browser

GENERIC_HEADER_BLACK = "rgb(11, 12, 12)"  # the generic header's colour in govuk-frontend 6


def test_home_page_has_the_hubs_own_header_with_its_stylesheet_loaded(
    page: Any, visit: Any
) -> None:
    visit(page, "/")

    assert page.title() == "Home – joinedup"
    header = page.locator(".govuk-generic-header")
    assert header.is_visible()
    assert header.get_by_role("link").inner_text().strip() == "joinedup"
    assert page.locator(".govuk-header, .govuk-footer__crown").count() == 0

    # The stylesheet is served (not a 404 page) and applied.
    sheets = page.evaluate(
        """() => [...document.styleSheets]
             .filter((s) => s.href)
             .map((s) => ({href: s.href, rules: s.cssRules.length}))"""
    )
    govuk = [s for s in sheets if s["href"].endswith("/vendor/govuk/govuk-frontend.min.css")]
    assert govuk and govuk[0]["rules"] > 100, sheets
    assert header.evaluate("(e) => getComputedStyle(e).backgroundColor") == GENERIC_HEADER_BLACK
    # Not the GOV.UK font: Helvetica or Arial, as the Design System advises off GOV.UK.
    heading_font = page.locator("h1").evaluate("(e) => getComputedStyle(e).fontFamily")
    assert heading_font == "helvetica, arial, sans-serif"
    assert not page.evaluate("[...document.fonts].some((f) => f.family.includes('Transport'))")


def test_inline_and_module_scripts_run_under_the_csp(page: Any, visit: Any) -> None:
    visit(page, "/")
    # The template's one inline script carries the nonce, so it ran...
    body_classes = page.evaluate("document.body.className").split()
    assert {"js-enabled", "govuk-frontend-supported"} <= set(body_classes)
    # ...and our module script started the GOV.UK components.
    navigation = page.locator(".govuk-service-navigation")
    navigation.and_(page.locator("[data-govuk-service-navigation-init]")).wait_for()


@pytest.mark.usefixtures("as_hub_admin")
def test_the_hub_admin_home_shows_tasks_the_version_and_the_data_directory(
    page: Any, visit: Any, live_server: Any
) -> None:
    visit(page, "/")
    assert page.locator("h1").inner_text() == "Your tasks"
    assert page.get_by_role("link", name="Look into failed jobs").is_visible()
    summary = page.locator(".govuk-summary-list")
    assert (
        __version__ in summary.locator(".govuk-summary-list__row", has_text="Version").inner_text()
    )
    directory = summary.locator(".govuk-summary-list__row", has_text="Data directory").inner_text()
    assert str(live_server.settings.home.resolve()) in directory
    assert "Exists" in directory
    database = summary.locator(".govuk-summary-list__row", has_text="database").inner_text()
    assert "SQLite" in database and "Schema up to date" in database


def test_visitors_see_only_the_public_sections(page: Any, visit: Any) -> None:
    visit(page, "/")
    nav = page.get_by_role("navigation", name="Menu")
    links = [text.strip() for text in nav.get_by_role("link").all_inner_texts()]
    assert links == ["Home", "Open data", "Data sharing", "Sign in"]
    assert nav.get_by_role("link", name="Home").get_attribute("aria-current") == "page"


def test_phase_banner_and_footer(page: Any, visit: Any) -> None:
    visit(page, "/")
    assert page.locator(".govuk-phase-banner .govuk-tag").inner_text().strip() == "Alpha"
    footer = page.locator(".govuk-footer")
    assert footer.get_by_role("link", name="MIT licence").is_visible()
    assert "Crown copyright" not in footer.inner_text()
    footer.get_by_role("link", name="Accessibility statement").click()
    page.wait_for_url("**/accessibility")
    assert page.locator("h1").inner_text() == "Accessibility statement for joinedup"
    visit(page, "/accessibility")


def test_skip_link_is_first_and_moves_focus_to_main_content(page: Any, visit: Any) -> None:
    visit(page, "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_404_page(page: Any, visit: Any) -> None:
    visit(page, "/no-such-page", expected_status=404)
    assert page.title() == "Page not found – joinedup"
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.get_by_role("navigation", name="Menu").is_visible()


def test_accessibility_statement(page: Any, visit: Any) -> None:
    visit(page, "/accessibility")
    assert page.title() == "Accessibility statement – joinedup"
    assert page.get_by_role("heading", name="Enforcement procedure").is_visible()
    assert page.locator("#reporting-problems").is_visible()


def test_api_page_lists_the_v1_operations(page: Any, visit: Any) -> None:
    visit(page, "/api")
    table_text = page.locator("main table").all_inner_texts()
    assert any("/api/v1/status" in text for text in table_text)
    assert page.get_by_role("link", name=re.compile("OpenAPI")).get_attribute("href") == (
        "/openapi.json"
    )


def test_small_screen_reflows_and_the_menu_opens(browser: Any, page: Any, visit: Any) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    toggle = page.get_by_role("button", name="Menu")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("link", name="Open data").is_visible()
