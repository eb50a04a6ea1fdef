"""Three people's journeys through the demo hub, from sign-in to the task done, judged as a
person would read each page: the analyst (dashboard → fairness → an impact estimate), the hub
admin (failed jobs → a new user) and a member of the public (search → preview → chart →
download). Every step is screenshotted to ``tests/.screenshots/<role>/`` for review, checked
with axe, checked for raw JSON, Python reprs, field ids and file paths, and checked to fit
the window. The app serves a private copy of the demo region (the journeys change it)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, serve_home, sign_in_for
from tests.browser.readable import assert_fits, assert_readable, snap
from tests.regions import Region

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GSS = re.compile(r"\b[EWSN]\d{8}\b")


@pytest.fixture(scope="module")
def live_server(private_demo: Region) -> Iterator[LiveServer]:
    """This module's pages are served from a private copy of the demo region."""
    with serve_home(private_demo.settings) as server:
        yield server


@pytest.fixture
def step(page: Any, assert_accessible: Any, assert_clean: Any) -> Any:
    """``step(role, name)``: the page as it is now is one step of a journey: screenshot,
    axe, clean, plain English, and no wider than the window."""

    def check(role: str, name: str) -> None:
        page.wait_for_load_state("load")
        snap(page, role, name)
        assert_accessible(page)
        assert_clean(page)
        assert_readable(page)
        assert_fits(page)

    return check


def test_an_analyst_reads_the_dashboard_checks_fairness_and_estimates_an_impact(
    page: Any, visit: Any, step: Any, private_demo: Region
) -> None:
    role = "analyst"
    sign_in_for(page, "/sign-in", "hub.analyst", private_demo.logins["hub.analyst"])
    step(role, "home")

    page.get_by_role("link", name="Dashboard").first.click()
    page.wait_for_url("**/insight/dashboard")
    page.wait_for_selector("#trend-chart[data-chart-rendered='true'], #trend-no-chart")
    page.wait_for_selector("#area-map[data-chart-rendered='true'], #map-no-chart")
    step(role, "dashboard")
    # months down the side, by name; local authorities across, by name
    first_month = page.locator("#trend-table tbody th").first.inner_text()
    assert re.fullmatch(r"[A-Z][a-z]+ \d{4}", first_month), first_month
    heads = page.locator("#trend-table thead th").all_inner_texts()
    assert heads[0] == "Month" and not any(GSS.search(h) for h in heads)
    # the map names its areas, and its legend starts at 0
    if page.locator("#area-map svg").count():
        ward = page.locator("#area-table tbody td").first.inner_text()
        assert page.locator("#area-map svg text", has_text=ward).count() >= 1
        spec = page.locator("#area-map-spec").text_content()
        assert '"domainMin": 0' in spec

    page.get_by_label("Measure").select_option("rate_per_1000")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**measure=rate_per_1000**")
    step(role, "dashboard-rate")
    rates = page.locator("#area-table tbody td:nth-child(5)").all_inner_texts()
    assert all(re.fullmatch(r"(\d[\d,]*(\.\d)?)?", r) for r in rates), rates  # one decimal

    page.get_by_role("link", name="Fairness check").click()
    page.wait_for_url("**/insight/fairness")
    step(role, "fairness")
    groups = page.locator("table[id$='-lad'] tbody td:first-child").all_inner_texts()
    assert groups and not any(GSS.search(g) for g in groups), groups
    bands = (
        page.locator("table[id$='-age_band']").first.locator("tbody td:first-child")
    ).all_inner_texts()
    starts = [int(b.split("-")[0].rstrip("+")) for b in bands if b[0].isdigit()]
    assert starts == sorted(starts), bands
    page.get_by_text("How the comparison is worked out").click()
    assert "Katz" in page.locator("#fairness-method").inner_text()
    step(role, "fairness-method")

    page.get_by_role("link", name="Impact of interventions").click()
    page.wait_for_url("**/insight/impact")
    step(role, "impact-list")
    # a month with no year: a plain error beside the date input, the values kept
    page.get_by_label("Name").fill("Breakfast club pilot")
    page.get_by_label("Area").select_option(label="London Borough of Lewisham (local authority)")
    page.get_by_label("Month", exact=True).fill("9")
    page.get_by_role("button", name="Define intervention").click()
    page.wait_for_selector(".govuk-error-summary")
    step(role, "impact-error")
    summary = page.locator(".govuk-error-summary")
    assert "The start date must include a year" in summary.inner_text()
    assert summary.locator("a").get_attribute("href") == "#start_month-month"
    assert page.get_by_label("Name").input_value() == "Breakfast club pilot"

    months = page.locator("#define-intervention .govuk-hint").nth(1).inner_text()
    year = re.findall(r"\d{4}", months)[-1]
    page.get_by_label("Year").fill(year)
    page.get_by_role("button", name="Define intervention").click()
    page.wait_for_url(re.compile(r".*/insight/impact/\d+$"))
    if page.locator("#impact-error").count() == 0:
        page.wait_for_selector("#impact-chart[data-chart-rendered='true']")
    step(role, "impact-estimate")
    facts = page.locator("#intervention").inner_text()
    assert "London Borough of Lewisham" in facts and not GSS.search(facts)
    assert "fsm-" not in facts and "-" not in page.locator("#intervention dd").nth(1).inner_text()
    if page.locator("#impact-error").count() == 0:
        page.get_by_text("How this is estimated").click()
        assert "clustered" in page.locator("#impact-method").inner_text()
        means = page.locator("#impact-series tbody td:nth-child(3)").all_inner_texts()
        assert all(re.fullmatch(r"-?\d[\d,]*(\.\d)?", m) for m in means), means


def test_a_hub_admin_looks_into_failed_jobs_and_adds_a_user(
    page: Any, visit: Any, step: Any, private_demo: Region
) -> None:
    role = "hub-admin"
    sign_in_for(page, "/sign-in", "hub.hub-admin", private_demo.logins["hub.hub-admin"])
    step(role, "home")
    page.get_by_role("link", name="Look into failed jobs").click()
    page.wait_for_url("**/jobs?status=failed")
    step(role, "failed-jobs")
    failed = page.locator("#job-filters").inner_text()
    count = int(re.search(r"Failed jobs \((\d+)\)", failed).group(1))
    assert page.locator("table tbody tr").count() == count
    if not count:
        assert page.locator("#no-jobs").inner_text() == "No job has failed."

    page.get_by_role("link", name="All jobs").click()
    page.wait_for_url("**/jobs")
    step(role, "jobs")
    assert page.locator("table tbody tr").count() > 0
    page.locator("table tbody tr a").first.click()
    page.wait_for_url("**/jobs/*")
    step(role, "job")

    page.get_by_role("link", name="Admin").first.click()
    page.wait_for_url("**/admin")
    step(role, "admin")
    visit(page, "/admin/users")
    step(role, "users")
    page.get_by_role("button", name="Add a user").click()
    page.wait_for_url("**/admin/users/new")
    step(role, "new-user")
    page.get_by_label("Username").fill("lambeth.analyst2")
    page.get_by_label("Full name").fill("Second Lambeth Analyst")
    page.get_by_label("Organisation").select_option(label="London Borough of Lambeth")
    page.get_by_label("Analyst").check()
    page.get_by_role("button", name="Add user").click()
    page.wait_for_load_state("load")
    step(role, "user-added")
    assert "lambeth.analyst2" in page.locator("main").inner_text()

    visit(page, "/admin/organisations")
    step(role, "organisations")
    assert "London Borough of Lambeth" in page.locator("main").inner_text()


def test_a_member_of_the_public_finds_previews_charts_and_downloads_open_data(
    page: Any, visit: Any, step: Any
) -> None:
    role = "public"
    visit(page, "/")
    step(role, "home")
    assert page.get_by_role("link", name="Sign out").count() == 0
    page.get_by_role("button", name="Find open data").click()
    page.wait_for_url("**/open-data")
    step(role, "open-data")

    page.get_by_label("Search the datasets").fill("early help")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/open-data?q=*")
    step(role, "search")
    page.get_by_role("link", name=re.compile("Households flagged for early help")).click()
    page.wait_for_url("**/open-data/vulnerability-indicators-by-ward")
    page.wait_for_selector("#dataset-chart[data-chart-rendered='true'], #no-chart")
    step(role, "aggregate-dataset")
    # the preview shows a boolean as the CSV writes it
    preview = page.locator("#preview tbody").inner_text()
    assert "True" not in preview and "False" not in preview
    assert re.search(r"\btrue\b|\bfalse\b", preview)
    # the chart's table names areas, not codes; with every count suppressed, no chart
    areas = page.locator("#chart-table tbody td:nth-child(2)").all_inner_texts()
    assert areas and not any(GSS.search(a) for a in areas), areas
    values = page.locator("#chart-table tbody td:nth-child(3)").all_inner_texts()
    if all(v == "Suppressed" for v in values):
        assert page.locator("#dataset-chart").count() == 0
        assert "below the disclosure threshold" in page.locator("#no-chart").inner_text()

    page.get_by_role("link", name="All open data").click()
    page.wait_for_url("**/open-data")
    page.get_by_role("link", name="Council spend over £500 across the region").click()
    page.wait_for_url("**/open-data/regional-spend-over-500")
    page.wait_for_selector("#dataset-chart[data-chart-rendered='true']")
    step(role, "spend-dataset")
    assert page.locator("#dataset-chart svg").count() == 1
    assert "0.000000" not in page.locator("#dataset-chart").inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the data as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "regional-spend-over-500-v1.csv"
    with open(download.path(), encoding="utf-8") as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read())))
    assert rows and "net_amount" in rows[0]
