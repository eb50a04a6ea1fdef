"""A member of the public on the open data portal: no sign-in, search the datasets, open one,
see its preview, chart (drawn under the CSP), data dictionary, licence, frequency and last
updated date, and download its CSV. The app serves the session's demo region, whose demo
stage published the datasets. Every page is checked with axe (the ``page`` fixture)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.publish.server import serve
from tests.regions import Region

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def live_server(demo_home: Region) -> Iterator[LiveServer]:
    """This module's pages are served from the demo home (overrides the shared server)."""
    with serve(demo_home.settings) as url:
        yield LiveServer(url=url, settings=demo_home.settings)


def test_the_public_browses_the_portal_and_downloads_a_csv(
    page: Any, visit: Any, assert_accessible: Any
) -> None:
    visit(page, "/open-data")
    assert page.get_by_role("link", name="Sign out").count() == 0
    page.get_by_label("Search the datasets").fill("free school meals")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/open-data?q=*")
    assert_accessible(page)
    assert "1 dataset matching" in page.locator("#results-heading").inner_text()
    page.get_by_role("link", name="Children eligible for free school meals").click()
    page.wait_for_url("**/open-data/fsm-not-registered-by-ward")
    assert_accessible(page)
    facts = page.locator("#dataset-facts").inner_text()
    assert "Open Government Licence v3.0" in facts
    assert "Monthly" in facts and "Last updated" in facts
    assert page.locator("#preview tbody tr").count() > 0
    assert page.locator("#dictionary").inner_text().count("area_code") == 1
    figures = page.locator("#chart-table tbody td:nth-child(3)").all_inner_texts()
    assert figures
    if all(f == "Suppressed" for f in figures):  # nothing safe to draw: said, not drawn
        assert page.locator("#dataset-chart").count() == 0
        assert "below the disclosure threshold" in page.locator("#no-chart").inner_text()
    else:
        page.wait_for_selector("#dataset-chart[data-chart-rendered='true']")
        assert_accessible(page)  # again, with the chart drawn

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the data as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "fsm-not-registered-by-ward-v1.csv"
    with open(download.path(), encoding="utf-8") as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read())))
    assert rows and set(rows[0]) >= {"area_code", "month", "count", "suppressed"}
    assert all(r["count"] == "" or int(r["count"]) >= 10 for r in rows)


def test_the_spend_dataset_page_has_a_chart_and_its_table(page: Any, visit: Any) -> None:
    visit(page, "/open-data/regional-spend-over-500")
    page.wait_for_selector("#dataset-chart[data-chart-rendered='true']")
    assert "Net spend" in page.locator("#chart-table").inner_text()
