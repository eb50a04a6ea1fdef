"""The ODI toolkit in the browser, on a copy of the demo region: a council's data owner
proposes an agreement for a new purpose and the hub refuses to activate it without an ethics
record; the owner drafts one and the hub's DPO signs it off; the agreement activates. A member
of the public reads the register and the map; an analyst writes and exports a business case.
Every page is checked with axe.

With ``JOINEDUP_SCREENSHOTS=<folder>`` the journey also saves the guide's screenshots
(docs/guides/ethics-and-transparency.md; synthetic data only)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation
from joinedup.governance.ethics import QUESTIONS
from joinedup.governance.purposes import PurposeSpec, register_purpose
from joinedup.insight.impact import list_interventions
from tests.browser import test_governance as governance
from tests.browser.conftest import LiveServer, sign_in_for
from tests.publish.server import serve
from tests.regions import Region

pytestmark = [pytest.mark.browser, pytest.mark.slow]
REFERENCE = "DSA-HOUSING-BROWSER"
PURPOSE = ("housing-allocation", "Housing allocation")


@pytest.fixture(scope="module")
def live_server(private_demo: Region) -> Iterator[LiveServer]:
    """A private copy of the demo region (the journey changes it), with a new purpose that
    has no ethics record yet."""
    with session_scope(private_demo.settings) as session:
        register_purpose(
            session, PurposeSpec(*PURPOSE, "Allocate social homes to those in most need.")
        )
    with serve(private_demo.settings) as url:
        yield LiveServer(url=url, settings=private_demo.settings)


def _councils(settings: Any) -> list[tuple[str, str]]:
    with session_scope(settings) as session:
        rows = session.execute(
            select(Organisation.code, Organisation.name)
            .where(Organisation.type == "council")
            .order_by(Organisation.code)
        ).all()
        return [(str(c), str(n)) for c, n in rows]


def shot(page: Any, name: str, element: str | None = None) -> None:
    """Save the guide's screenshot ``name`` (of one element, if given) when asked to."""
    folder = os.environ.get("JOINEDUP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1024, "height": 900})
        path = str(Path(folder) / f"{name}.png")
        if element:
            page.locator(element).screenshot(path=path)
        else:
            page.screenshot(path=path, full_page=False)


def test_no_sharing_before_the_dpo_signs_off_an_ethics_record(
    page: Any, visit: Any, assert_accessible: Any, assert_clean: Any, private_demo: Region
) -> None:
    from playwright.sync_api import expect

    (north, north_name), (_south, south_name) = _councils(private_demo.settings)[:2]
    owner = f"{north}.data-owner"
    sign_in_for(page, "/sign-in", owner, private_demo.logins[owner])
    visit(page, "/agreements/new")
    page.get_by_label("Reference", exact=True).fill(REFERENCE)
    page.get_by_label("Title", exact=True).fill("Council tax records for housing allocation")
    page.get_by_role("group", name="Providers").get_by_label(north_name).check()
    page.get_by_role("group", name="Recipients").get_by_label(south_name).check()
    page.locator("#share-0-provider").select_option(north)
    page.locator("#share-0-dataset").fill("council-tax")
    page.get_by_role("group", name="Purposes").get_by_label(PURPOSE[1]).check()
    page.get_by_label("DPIA reference").fill("DPIA-HOUSING-1")
    start, end = date.today() - timedelta(days=1), date.today() + timedelta(days=700)
    for name, day in {"start_date": start, "expiry_date": end}.items():
        page.locator(f"#{name}-day").fill(str(day.day))
        page.locator(f"#{name}-month").fill(str(day.month))
        page.locator(f"#{name}-year").fill(str(day.year))
    page.get_by_label("Retention", exact=True).fill("Until the allocation is decided")
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url(re.compile(rf".*/agreements/{REFERENCE}\?done=created$"))
    assert_accessible(page)
    page.get_by_role("button", name="Propose agreement").click()
    page.wait_for_url("**?done=proposed")
    assert_accessible(page)
    expect(page.locator("#ethics-records")).to_contain_text("No record")

    # the owner approves, but the hub refuses to activate it: no ethics record yet
    page.get_by_role("button", name="Approve agreement").click()
    page.wait_for_load_state("load")
    assert_accessible(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "an ethics record signed off by a DPO"
    )
    expect(page.locator("h1")).to_have_text("Council tax records for housing allocation")
    shot(page, "refused-without-ethics")

    # the data owner drafts the record (the Data Ethics Canvas questions)
    visit(page, f"/ethics/purpose/{PURPOSE[0]}")
    page.get_by_role("button", name="Draft a new version").click()
    page.wait_for_url("**/new")
    assert_accessible(page)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    for q in QUESTIONS:
        page.get_by_label(q.question, exact=True).fill(f"Browser journey: {q.hint}")
    review = date.today() + timedelta(days=365)
    page.locator("#review_date-day").fill(str(review.day))
    page.locator("#review_date-month").fill(str(review.month))
    page.locator("#review_date-year").fill(str(review.year))
    shot(page, "draft-ethics-record")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**?done=drafted")
    assert_accessible(page)
    expect(page.locator(".govuk-tag", has_text="Awaiting sign-off")).to_be_visible()
    governance.sign_out(page, assert_accessible)

    # the hub's DPO sees it waiting, and signs it off
    sign_in_for(page, "/sign-in", "hub.dpo", private_demo.logins["hub.dpo"])
    expect(page.get_by_text("Sign off and review ethics records")).to_be_visible()
    visit(page, "/ethics")
    page.get_by_role("link", name=PURPOSE[1], exact=True).click()
    page.wait_for_url(f"**/ethics/purpose/{PURPOSE[0]}")
    assert_accessible(page)
    expect(page.locator("#objections")).to_contain_text("objections in force")
    page.get_by_label("Sign-off note (optional)").fill("Checked against the DPIA")
    shot(page, "sign-off-ethics-record")
    page.get_by_role("button", name="Sign off version 1").click()
    page.wait_for_url("**?done=signed")
    assert_accessible(page)
    expect(page.locator(".govuk-tag", has_text="Signed off")).to_be_visible()
    governance.sign_out(page, assert_accessible)

    # now the approval activates the agreement
    sign_in_for(page, "/sign-in", owner, private_demo.logins[owner])
    visit(page, f"/agreements/{REFERENCE}")
    page.get_by_role("button", name="Approve agreement").click()
    page.wait_for_url("**?done=activated")
    assert_accessible(page)
    expect(page.locator(".govuk-tag", has_text="Active").first).to_be_visible()
    governance.sign_out(page, assert_accessible)
    assert_clean(page)


def test_the_public_reads_the_register_and_the_map(
    page: Any, visit: Any, assert_accessible: Any, assert_clean: Any
) -> None:
    from playwright.sync_api import expect

    visit(page, "/transparency")
    assert page.get_by_role("link", name="Sign out").count() == 0
    expect(page.locator("h1")).to_have_text("Register of data sharing")
    expect(page.get_by_role("heading", name=re.compile("DSA-FSM-2026"))).to_be_visible()
    record = page.locator("details", has_text="Ethics record for Free school meals").first
    record.locator("summary").click()
    expect(record.get_by_text("Who could be harmed")).to_be_visible()
    assert_accessible(page)
    shot(page, "register")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "register.csv"

    page.get_by_role("link", name="live map of data flows").click()
    page.wait_for_url("**/transparency/map")
    assert_accessible(page)
    expect(page.locator("#map svg")).to_be_visible()
    flows = page.locator("#flows tbody tr")
    assert flows.count() > 0
    shot(page, "ecosystem-map", "#map")
    page.get_by_label("Purpose").select_option("fsm")
    page.get_by_role("button", name="Show the map").click()
    page.wait_for_url("**purpose=fsm**")
    assert_accessible(page)
    rows = page.locator("#flows tbody tr").all_inner_texts()
    assert rows and all("fsm" in row for row in rows)
    with page.expect_download() as download:
        page.get_by_role("link", name="SVG").click()
    assert download.value.suggested_filename.endswith(".svg")
    assert_clean(page)


def test_an_analyst_exports_a_business_case(
    page: Any, visit: Any, assert_accessible: Any, assert_clean: Any, private_demo: Region
) -> None:
    from playwright.sync_api import expect

    (intervention,) = list_interventions(private_demo.settings)
    sign_in_for(page, "/sign-in", "hub.analyst", private_demo.logins["hub.analyst"])
    visit(page, f"/insight/impact/{intervention['id']}")
    page.get_by_role("link", name="The business case for this intervention").click()
    page.wait_for_url("**/business-case")
    assert_accessible(page)
    expect(page.locator("#impact")).to_contain_text("95% interval")
    page.get_by_role("button", name="Write the business case").click()
    page.wait_for_url("**/business-case/edit")
    assert_accessible(page)
    page.get_by_label("Service", exact=True).fill("Free school meals team")
    page.get_by_label("Cost", exact=True).fill("24000")
    page.get_by_label("Period the cost covers").fill("April 2026 to March 2027")
    page.get_by_label("Residents reached").fill("480")
    page.get_by_label("The problem it solves").fill("Eligible children were not enrolled.")
    page.get_by_label("What the service does").fill("Enrols children the hub finds.")
    page.get_by_label("Who benefits, and how").fill("Children, families and schools.")
    page.get_by_label("Risks, and how they are met").fill("Wrong matches: checked by hand.")
    page.get_by_role("button", name="Save business case").click()
    page.wait_for_url("**?done=saved")
    assert_accessible(page)
    expect(page.locator("#case")).to_contain_text("£50.00")
    shot(page, "business-case")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as PDF").click()
    assert download.value.suggested_filename == f"business-case-{intervention['id']}.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert_clean(page)
