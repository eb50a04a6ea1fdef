"""The guided mapping page in the browser: sample → fix one field → preview → save → a later
drifted file ingests after one confirmation, on the guided page and on the ordinary upload
page, and a file in a remembered layout needs nothing. Every page is checked with axe (0
violations)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation

pytestmark = pytest.mark.browser

ORG_CODE = "browser-onboard"
ORG_NAME = "Browser Onboard Council"
MONTH_1 = (
    "Service Area,Expenditure Catergory,Paid Date,Trans No,Amount,Supplier Name,Type,Notes\n"
    "Adults,Care Fees,01/04/2026,T1,1250.00,Acme Care Ltd,Revenue,x\n"
    "Housing,Repairs,02/04/2026,T2,600.00,,Capital,y\n"
    "Housing,Repairs,03/04/2026,T3,700.00,Builders Ltd,Cap,z\n"
)
MONTH_2 = (
    "Service Area,Expenditure Category,Date Paid,Transaction Number,Amount,Supplier Nmae,"
    "Type,Notes,Cost Centre\n"
    "Adults,Care Fees,01/05/2026,T4,1250.00,Acme Care Ltd,Revenue,x,CC1\n"
    "Housing,Repairs,02/05/2026,T5,600.00,REDACTED,Capital,y,CC2\n"
)
# June's export adds a column: the ordinary upload page asks once, July's needs nothing.
MONTH_3 = (
    "Service Area,Expenditure Category,Date Paid,Transaction Number,Amount,Supplier Nmae,"
    "Type,Notes,Cost Centre,Region\n"
    "Adults,Care Fees,01/06/2026,T6,1250.00,Acme Care Ltd,Revenue,x,CC1,North\n"
    "Housing,Repairs,02/06/2026,T7,600.00,Builders Ltd,Capital,y,CC2,South\n"
)
MONTH_4 = MONTH_3.replace("/06/", "/07/").replace("T6", "T8").replace("T7", "T9")


@pytest.fixture
def organisation(live_server: Any) -> str:
    with session_scope(live_server.settings) as session:
        found = session.scalars(select(Organisation).where(Organisation.code == ORG_CODE)).first()
        if found is None:
            session.add(Organisation(code=ORG_CODE, name=ORG_NAME, gss_code=None))
    return ORG_CODE


def _start(page: Any, visit: Any, path: Path, standard: str | None) -> None:
    visit(page, "/mappings/guided")
    page.get_by_label("Organisation").select_option(label=ORG_NAME)
    page.get_by_label("Dataset name").fill("spend")
    if standard:
        page.get_by_label("Standard").select_option(standard)
    page.get_by_label("Sample file").set_input_files(str(path))
    page.get_by_role("button", name="Upload the sample").click()


def _upload(page: Any, visit: Any, path: Path) -> None:
    """The ordinary upload page, with no mapping: the layout remembered does the work."""
    visit(page, "/upload")
    page.get_by_label("Organisation").select_option(label=ORG_NAME)
    page.get_by_label("Dataset name").fill("spend")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check the file").click()


def _succeeded(page: Any, assert_accessible: Any) -> None:
    from playwright.sync_api import expect

    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}$"))
    expect(page.locator('[data-job-field="status"]')).to_have_text("Succeeded", timeout=60_000)
    assert_accessible(page)


@pytest.mark.usefixtures("as_hub_admin")
def test_guided_mapping_journey(
    page: Any,
    visit: Any,
    assert_accessible: Any,
    assert_clean: Any,
    organisation: str,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    first = tmp_path / "spend-2026-04.csv"
    first.write_text(MONTH_1)
    _start(page, visit, first, "spend")
    expect(page.locator("h1")).to_have_text("Check the mapping")
    assert_accessible(page)
    # JOINEDUP_SCREENSHOTS=docs/img writes the screenshots docs/ingest.md shows.
    folder = os.environ.get("JOINEDUP_SCREENSHOTS")
    shots = Path(folder) if folder else None
    if shots:
        page.screenshot(path=str(shots / "guided-mapping.png"), full_page=False)
    # Fix one field: Notes is the purpose of the spend; "Cap" means capital.
    page.get_by_label("Column for Purpose").select_option("Notes")
    page.get_by_label("Code for Cap", exact=True).select_option("capital")
    page.get_by_role("button", name="Preview the validation").click()
    expect(page.locator("#preview-totals")).to_contain_text("Rows accepted")
    expect(page.locator("#preview-totals")).to_contain_text("Redacted supplier_name")
    assert_accessible(page)
    if shots:
        page.locator("#preview").screenshot(path=str(shots / "guided-preview.png"))
    page.get_by_role("button", name="Save the mapping").click()
    expect(page.locator("h1")).to_have_text("Mapping saved")
    assert_accessible(page)

    later = tmp_path / "spend-2026-05.csv"
    later.write_text(MONTH_2)
    _start(page, visit, later, None)
    expect(page.locator("h1")).to_have_text("Confirm the changed columns")
    diff = page.locator("#layout-diff")
    expect(diff).to_contain_text("Trans No → Transaction Number")
    expect(diff).to_contain_text("Cost Centre")
    assert_accessible(page)
    if shots:
        page.screenshot(path=str(shots / "guided-drift.png"), full_page=False)
    page.get_by_role("button", name="Confirm the changes and ingest").click()
    _succeeded(page, assert_accessible)
    assert_clean(page)

    # The next drift comes through the ordinary upload page: the same confirmation, once.
    june = tmp_path / "spend-2026-06.csv"
    june.write_text(MONTH_3)
    _upload(page, visit, june)
    expect(page.locator("h1")).to_have_text("Confirm the changed columns")
    expect(page.locator("#layout-diff")).to_contain_text("Region")
    assert_accessible(page)
    page.get_by_role("button", name="Confirm the changes and ingest").click()
    _succeeded(page, assert_accessible)
    july = tmp_path / "spend-2026-07.csv"
    july.write_text(MONTH_4)
    _upload(page, visit, july)  # the same layout: no mapping work, straight to the job
    _succeeded(page, assert_accessible)
    assert_clean(page)
