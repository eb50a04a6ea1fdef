"""A DPO answers a subject access request in the browser: sign in, act under the
subject-access purpose, find a synthetic resident held by several boroughs from their details,
review the redactions, release the export and download it as JSON and PDF. Every page is
checked with axe (the ``page`` fixture enforces it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, serve_home, sign_in_for
from tests.regions import Region
from tests.rights.conftest import details_of, flagged_resident

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(private_demo: Region) -> Region:
    return private_demo


@pytest.fixture(scope="module")
def live_server(demo: Region) -> Iterator[LiveServer]:
    with serve_home(demo.settings) as server:
        yield server


def test_a_dpo_finds_a_resident_and_exports_their_data(
    page: Any, assert_accessible: Any, assert_clean: Any, demo: Region, tmp_path: Path
) -> None:
    resident = flagged_resident(demo, "school-outside-home-borough")
    given, family, dob, postcode = details_of(demo, resident)
    purpose = "Residents' rights requests"
    sign_in_for(page, "/sign-in?next=/rights", "hub.dpo", demo.logins["hub.dpo"], purpose)

    page.get_by_label("Given name").fill(given.title())
    page.get_by_label("Family name").fill(family.title())
    year, month, day = dob.split("-")
    page.get_by_label("Day").fill(str(int(day)))
    page.get_by_label("Month").fill(str(int(month)))
    page.get_by_label("Year").fill(year)
    page.get_by_label("Postcode").fill(postcode or "")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/rights/find")
    assert_accessible(page)
    match = page.get_by_test_id("resident-match").first
    assert resident in match.inner_text()
    assert match.locator("tbody tr").count() >= 2
    assert page.get_by_role("heading", name="Near misses").is_visible()

    match.get_by_role("link", name="Review the subject access export").click()
    page.wait_for_url(f"**/rights/residents/{resident}")
    assert_accessible(page)
    assert page.get_by_role("heading", name="Review the subject access export").is_visible()
    assert page.locator("#redactions").is_visible()
    page.get_by_role("button", name="Release the export").click()
    page.wait_for_url("**/rights/exports/*")
    assert_accessible(page)
    assert_clean(page)

    with page.expect_download() as json_download:
        page.get_by_role("link", name="Download as JSON").click()
    saved = tmp_path / "export.json"
    json_download.value.save_as(saved)
    document = json.loads(saved.read_text())
    assert document["resident_id"] == resident
    assert len({r["organisation"] for r in document["records"]}) >= 2
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download as PDF").click()
    pdf = tmp_path / "export.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
