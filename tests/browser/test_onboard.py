"""The guided mapping page in the browser: sample → fix one field → preview → save → a later
drifted file ingests after one confirmation. Every page is checked with axe (0 violations)."""

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
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}$"))
    expect(page.locator('[data-job-field="status"]')).to_have_text("Succeeded", timeout=60_000)
    assert_accessible(page)
    assert_clean(page)
