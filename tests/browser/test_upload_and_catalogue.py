"""Upload a file in the browser, follow its job, then find it in the catalogue and its report.

Every page the tests open is checked with axe (the ``page`` fixture fails a test otherwise).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation

pytestmark = pytest.mark.browser

ORG_CODE = "browser-upload"
ORG_NAME = "Browser Upload Borough"
HEADER = "source_record_id,given_name,family_name,date_of_birth,postcode\n"
ROWS = [f"B{i},Ann,Smith,1980-01-{i + 1:02d},SW1A 1AA" for i in range(9)]
BAD = "B99,Bob,Jones,1990-02-31,NOPE"


@pytest.fixture
def organisation(live_server: Any) -> str:
    """The organisation files are uploaded for (the live server's home is shared)."""
    with session_scope(live_server.settings) as session:
        found = session.scalars(select(Organisation).where(Organisation.code == ORG_CODE)).first()
        if found is None:
            session.add(Organisation(code=ORG_CODE, name=ORG_NAME, gss_code=None))
    return ORG_CODE


@pytest.mark.usefixtures("as_hub_admin")
def test_upload_follow_the_job_then_read_the_catalogue(
    page: Any,
    visit: Any,
    assert_accessible: Any,
    assert_clean: Any,
    organisation: str,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    csv = tmp_path / "residents-2026-10.csv"
    csv.write_text(HEADER + "\n".join([*ROWS, BAD]) + "\n")

    visit(page, "/upload")
    assert page.locator("h1").inner_text() == "Upload a file"
    page.get_by_label("Organisation").select_option(label=ORG_NAME)
    page.get_by_label("Dataset name").fill("residents")
    page.get_by_label("File").set_input_files(str(csv))
    expect(page.get_by_label("Mapping")).to_have_value("none")
    page.get_by_label("Standard").select_option("person")
    page.get_by_label("Period (optional)").fill("2026-10")
    page.get_by_role("button", name="Upload and check the file").click()

    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}$"))
    assert_accessible(page)
    assert page.locator("h1").inner_text() == "Check and store an uploaded file"
    status = page.locator('[data-job-field="status"]')
    expect(status).to_have_text("Succeeded", timeout=60_000)
    assert_accessible(page)
    assert_clean(page)

    visit(page, "/datasets")
    row = page.locator("#datasets tbody tr", has_text=ORG_NAME)
    expect(row).to_have_count(1)
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[0] == ORG_NAME
    assert cells[1].startswith("Residents")
    assert cells[2] == "Person (common core)"
    assert cells[3].split()[-1] == "1"  # "Residents validation report, version 1"
    assert cells[4:6] == ["9", "1"]

    # The catalogue sorts (MOJ sortable table), and stays accessible when sorted.
    table = page.locator("#datasets")
    table.get_by_role("button", name="Rows accepted").click()
    expect(table.locator("th", has_text="Rows accepted")).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert_accessible(page)

    row.get_by_role("link", name="Residents", exact=True).click()
    page.wait_for_url(f"**/datasets/{ORG_CODE}/residents")
    assert_accessible(page)
    assert page.locator("h1").inner_text() == "Residents"
    version_row = page.locator("#versions tbody tr").first
    assert "residents-2026-10.csv" in version_row.inner_text()
    assert "2026-10" in version_row.inner_text()

    version_row.get_by_role("link").click()
    page.wait_for_url(f"**/datasets/{ORG_CODE}/residents/versions/1")
    assert_accessible(page)
    assert page.locator("h1").inner_text() == "Validation report"
    totals = page.locator("#version-totals").inner_text()
    assert "10" in totals and "9 (90%)" in totals and "1 (10%)" in totals
    counts = page.locator("#rule-counts tbody").inner_text()
    assert "date_of_birth" in counts and "postcode" in counts
    assert "Bob" not in page.content() and "NOPE" not in page.content()

    link = page.get_by_role("link", name="Download the validation report (JSON)")
    report = page.request.get(link.get_attribute("href"))
    assert report.ok
    body = report.json()
    assert (body["rows"], body["accepted"], body["rejected"]) == (10, 9, 1)
    assert_clean(page)


@pytest.mark.usefixtures("as_hub_admin")
def test_upload_errors_are_summarised(
    page: Any, visit: Any, assert_accessible: Any, organisation: str
) -> None:
    visit(page, "/upload")
    page.get_by_role("button", name="Upload and check the file").click()
    page.wait_for_load_state("load")
    assert page.title() == "Error: Upload a file – joinedup"
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    links = [t.strip() for t in summary.get_by_role("link").all_inner_texts()]
    assert links == [
        "Select the organisation the file comes from",
        "Enter a dataset name",
        "Select a file",
        "Select the standard the file's columns follow, or a mapping",
    ]
    assert_accessible(page)
    # The error summary links move focus to the field.
    summary.get_by_role("link", name="Select a file").click()
    assert page.evaluate("document.activeElement.id") == "file"
    assert_accessible(page)
