"""A caseworker's worklist in the browser: sign in, choose the purpose, filter the worklist,
open a flag's reasons, record an action, see the flag go quiet, open the household. Every page
is checked with axe (the ``page`` fixture enforces it). The app serves a small synthetic region
run through every stage, so the flags are real."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import FSM, WORKLIST, LiveServer, serve_home, sign_in_for
from tests.regions import Region

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(demo_home: Region, tmp_path_factory: pytest.TempPathFactory) -> Region:
    """A private copy of the session's demo region (the test records an action)."""
    home = tmp_path_factory.mktemp("worklist") / "home"
    return demo_home.copy_to(home, secret_key="browser-worklist-secret")


@pytest.fixture(scope="module")
def live_server(demo: Region) -> Iterator[LiveServer]:
    """This module's pages are served from the demo home (overrides the shared server)."""
    with serve_home(demo.settings) as server:
        yield server


def test_a_caseworker_works_a_flag(
    page: Any, visit: Any, assert_accessible: Any, assert_clean: Any, demo: Region
) -> None:
    username = "lambeth.caseworker"
    # the worklist holds personal data: the purpose comes first
    sign_in_for(page, WORKLIST, username, demo.logins[username], FSM)
    assert page.get_by_role("heading", name="Worklist").is_visible()

    # filter to the FSM rule
    page.get_by_label("Rule").select_option("fsm-eligible-not-registered")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**rule=fsm-eligible-not-registered**")
    assert_accessible(page)
    rows = page.locator("#flags tbody tr")
    assert rows.count() > 0
    before = int(page.locator("#results-count").inner_text().split(" of ")[1].split()[0])
    assert "Eligible for free school meals but not registered" in rows.first.inner_text()
    assert "high" in rows.first.inner_text().lower()

    # a flag's reasons: the rule, its version, the records it fired on
    rows.first.locator("a").first.click()
    page.wait_for_url("**/worklist/flags/f-**")
    assert_accessible(page)
    assert "fsm-2026" in page.locator("#flag-summary").inner_text()
    reasons = page.locator("#reasons").inner_text()
    assert "Universal Credit" in reasons and "FSM eligible" in reasons
    assert (
        "makes this pupil eligible for free school meals"
        in page.locator("#reason-sentence").inner_text()
    )
    records = page.locator("#records").inner_text()
    assert "School census" in records and "Benefit claims" in records
    assert "No action recorded yet." in page.locator("#history").inner_text()

    # record an action; without an outcome it is an error first
    page.get_by_role("button", name="Record action").click()
    page.wait_for_load_state("load")
    assert_accessible(page)
    assert page.get_by_text("There is a problem").is_visible()
    page.get_by_label("Contacted").check()
    page.get_by_label("Note (optional)").fill("Left a message with the family")
    page.get_by_role("button", name="Record action").click()
    page.wait_for_url("**done=recorded")
    assert_accessible(page)
    assert page.get_by_text("The action was recorded").is_visible()
    history = page.locator("#history").inner_text()
    assert "Contacted" in history and "Left a message with the family" in history

    # the household view lists the flag as acted on
    page.get_by_role("link", name="See every flag in this household").click()
    page.wait_for_url("**/worklist/households/h-**")
    assert_accessible(page)
    assert "Acted on: Contacted" in page.locator("main").inner_text()

    # back on the worklist the flag is quiet: one fewer open flag
    visit(page, "/worklist?rule=fsm-eligible-not-registered")
    after = page.locator("#results-count").inner_text()
    assert (after.split(" of ")[1].split()[0] if " of " in after else "0") == str(before - 1)
    visit(page, "/worklist?rule=fsm-eligible-not-registered&status=quiet")
    assert page.locator("#flags tbody tr").count() == 1
    assert_clean(page)


def test_an_analyst_reads_the_dashboard_and_an_impact_estimate(
    page: Any, visit: Any, assert_accessible: Any, assert_clean: Any, demo: Region
) -> None:
    """The same demo home: the dashboard's line chart and choropleth render offline under the
    CSP (``data-chart-rendered``), beside their tables; the filters work; the intervention's
    estimate has its chart."""
    username = "hub.analyst"
    visit(page, "/sign-in?next=/insight/dashboard")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(demo.logins[username])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/insight/dashboard**")
    page.wait_for_selector("#trend-chart[data-chart-rendered='true']", timeout=15_000)
    page.wait_for_selector("#area-map[data-chart-rendered='true']", timeout=15_000)
    assert page.locator("#trend-chart svg").count() == 1
    assert page.locator("#area-map svg path").count() > 0
    assert page.locator("#area-table tbody tr").count() > 0
    assert_accessible(page)
    assert_clean(page)

    page.get_by_label("Indicator").select_option("fsm-eligible-not-registered")
    page.get_by_label("Areas").select_option("lsoa")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**level=lsoa**")
    page.wait_for_selector("#area-map[data-chart-rendered='true']", timeout=15_000)
    assert "LSOAs in" in page.locator("#map-heading").inner_text()
    assert (
        page.locator("#csv-month")
        .get_attribute("href")
        .startswith("/api/v1/insight/areas/trends.csv?")
    )
    assert_accessible(page)
    assert_clean(page)

    page.get_by_role("link", name="Impact of interventions").click()
    page.wait_for_url("**/insight/impact")
    assert_accessible(page)
    page.locator("#interventions a").first.click()
    page.wait_for_url("**/insight/impact/*")
    if page.locator("#impact-error").count() == 0:
        page.wait_for_selector("#impact-chart[data-chart-rendered='true']", timeout=15_000)
        assert "confidence interval" in page.locator("#impact-estimate").inner_text()
    assert_accessible(page)
    assert_clean(page)

    visit(page, "/insight/fairness?rule=fsm-eligible-not-registered")
    assert page.locator("#fairness-fsm-eligible-not-registered-sex tbody tr").count() >= 2
    assert_clean(page)
