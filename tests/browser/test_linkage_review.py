"""Clerical review in the browser: an analyst signs in, chooses the linkage purpose, opens the
review queue and a pair, sees the two records and the match-weight waterfall, and records a
decision. Every page is checked with axe (the ``page`` fixture enforces it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from joinedup.config import Settings
from joinedup.linkage.review import latest_decisions
from tests.browser.conftest import LiveServer, serve_home
from tests.linkage.region import REVIEWER, copy_home
from tests.regions import Region
from tests.support import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def linked(linked_region_template: Region, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A private copy of the session's small linked region (the test records a decision)."""
    return copy_home(linked_region_template, tmp_path_factory.mktemp("browser-review") / "home")


@pytest.fixture(scope="module")
def live_server(linked: Settings) -> Iterator[LiveServer]:
    """This module's pages are served from the linked region (overrides the shared server)."""
    with serve_home(linked) as server:
        yield server


def test_an_analyst_reviews_a_pair(
    linked: Any, page: Any, visit: Any, assert_accessible: Any, assert_clean: Any
) -> None:
    visit(page, "/sign-in")
    page.get_by_label("Username").fill(REVIEWER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    assert_accessible(page)

    # the linkage pages ask for the purpose first
    page.goto("/linkage")
    page.wait_for_url(re.compile(r".*/purpose\?next=/linkage$"))
    assert_accessible(page)
    page.get_by_label("Resident index maintenance").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/linkage$"))
    assert_accessible(page)
    expect(page.locator("#latest-run")).to_contain_text("Residents")

    page.get_by_role("link", name="Review uncertain matches").click()
    page.wait_for_url(re.compile(r".*/linkage/review$"))
    assert_accessible(page)
    expect(page.locator("#queue-counts")).to_contain_text("waiting for review")
    first = page.locator("#queue tbody tr").first.get_by_role("link")
    pair = re.search(r"p-[0-9a-f]{16}", first.get_attribute("href") or "")
    assert pair is not None
    first.click()
    page.wait_for_url(re.compile(rf".*/linkage/review/{pair.group(0)}$"))
    assert_accessible(page)

    # both records side by side, and the waterfall from the prior to the match weight
    expect(page.get_by_role("heading", name="Are these the same person?")).to_be_visible()
    expect(page.locator("#records")).to_contain_text("Family name")
    waterfall = page.locator("#waterfall")
    expect(waterfall).to_contain_text("Prior")
    expect(waterfall).to_contain_text("Match weight")
    expect(waterfall.locator("svg rect").first).to_be_attached()
    assert waterfall.locator("tbody tr").count() >= 5

    page.get_by_label("Not the same person").check()
    page.get_by_label("Note (optional)").fill("Different dates of birth on the school file")
    page.get_by_role("button", name="Save and go to the next pair").click()
    page.wait_for_url(re.compile(r".*/linkage/review.*done=non_match$"))
    assert_accessible(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("different people")
    assert_clean(page)
    assert "non_match" in latest_decisions(linked).values()

    # the next pair's first record: why its resident's records were joined
    resident = page.locator("#records a[href^='/residents/']").first
    resident_id = resident.inner_text().strip()
    resident.click()
    page.wait_for_url(re.compile(rf".*/residents/{resident_id}$"))
    assert_accessible(page)
    expect(page.get_by_role("heading", name="Source records")).to_be_visible()

    # and the same resident found from the search box on the overview
    visit(page, "/linkage")
    page.get_by_label("Resident ID").fill(resident_id)
    page.get_by_role("button", name="Show resident").click()
    page.wait_for_url(re.compile(rf".*/residents/{resident_id}$"))
    assert_accessible(page)
    assert_clean(page)
