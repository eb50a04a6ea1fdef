"""Journeys of the people who work cases, from signing in to the task done, in Chromium on the
demo region: a caseworker works a flag, a data owner uploads a file, a DPO answers a subject
access request. Every step is checked with axe (the ``page`` fixture enforces it), read for
anything only a machine reads (:func:`assert_readable`), and saved as a screenshot under
``tests/.screenshots/<role>/`` for people to review (docs/guides/ uses them)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, serve_home, sign_in_for
from tests.browser.readable import assert_readable, snap
from tests.regions import Region
from tests.rights.conftest import details_of, flagged_resident

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Lambeth's tenancies mapping, as a data owner chooses it.
TENANCIES = "London Borough of Lambeth: Tenancies (housing system)"


@pytest.fixture(scope="module")
def demo(private_demo: Region) -> Region:
    return private_demo


@pytest.fixture(scope="module")
def live_server(demo: Region) -> Iterator[LiveServer]:
    with serve_home(demo.settings) as server:
        yield server


def _step(page: Any, assert_accessible: Any, role: str, step: str) -> None:
    """One step of a journey: accessible, readable, and on record as a screenshot."""
    assert_accessible(page)
    assert_readable(page)
    snap(page, role, step)


def test_a_caseworker_reads_why_a_flag_was_raised_and_records_an_action(
    page: Any, visit: Any, assert_accessible: Any, demo: Region
) -> None:
    role = "caseworker"
    sign_in_for(
        page, "/sign-in?next=/worklist", "lewisham.caseworker", demo.logins["lewisham.caseworker"]
    )
    page.wait_for_url("**/purpose**")
    _step(page, assert_accessible, role, "purpose")
    page.get_by_label("Early help").check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/worklist")
    _step(page, assert_accessible, role, "worklist")

    rows = page.locator("#flags tbody tr")
    assert rows.count() > 0
    # every row says why in a sentence, not only the rule's title
    reasons = page.get_by_test_id("reason").all_inner_texts()
    assert len(reasons) == rows.count()
    assert all(r.strip().endswith(".") for r in reasons)

    page.get_by_label("Rule").select_option("asc-alone-council-tax-arrears")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**rule=asc-alone-council-tax-arrears**")
    _step(page, assert_accessible, role, "worklist-filtered")
    row = page.locator("#flags tbody tr").first
    sentence = row.get_by_test_id("reason").inner_text()
    assert sentence.startswith("Receives adult social care (")
    assert "lives alone (" in sentence and "Not recorded" not in sentence
    assert re.search(r"owes £[\d,]+(\.\d\d)? council tax", sentence), sentence
    assert re.search(r"\(London Borough of Lewisham, [A-Z][a-z]+ 20\d\d\)\.$", sentence), sentence

    row.locator("a").first.click()
    page.wait_for_url("**/worklist/flags/f-**")
    _step(page, assert_accessible, role, "flag")
    assert page.locator("#reason-sentence").inner_text() == sentence
    table = page.locator("#reasons").inner_text()  # the values behind it, kept beneath
    assert "Service type" in table and "Lives alone because" in table
    assert "Not recorded" not in table.split("Lives alone because")[1].split("\n")[0]

    page.get_by_label("Contacted").check()
    page.get_by_label("Note (optional)").fill("Called and arranged a visit")
    page.get_by_role("button", name="Record action").click()
    page.wait_for_load_state("load")
    _step(page, assert_accessible, role, "action-recorded")
    assert "The action was recorded" in page.locator(".govuk-notification-banner").inner_text()
    assert "Contacted" in page.locator("#history").inner_text()


def _changed_copy(source: Path, target: Path) -> Path:
    """The borough's export less its last row: a new version of the same dataset."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows[:-1])
    return target


def _upload_and_wait(page: Any, assert_accessible: Any) -> None:
    """Send the form, follow the job until it has finished, and reload it for its outcome."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Upload and check the file").click()
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}$"))
    expect(page.locator('[data-job-field="status"]')).to_have_text("Succeeded", timeout=120_000)
    assert_accessible(page)
    page.reload()


def test_a_data_owner_uploads_a_file_and_reads_its_report(
    page: Any, visit: Any, assert_accessible: Any, demo: Region, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    role = "data-owner"
    upload = _changed_copy(
        demo.settings.home / "demo-region" / "lambeth" / "tenancies.csv",
        tmp_path / "tenancies-december.csv",
    )
    sign_in_for(
        page, "/sign-in?next=/upload", "lambeth.data-owner", demo.logins["lambeth.data-owner"]
    )
    page.wait_for_url("**/upload")
    _step(page, assert_accessible, role, "upload-form")
    mapping = page.get_by_label("Mapping")
    labels = [o.strip() for o in mapping.locator("option").all_inner_texts()]
    assert TENANCIES in labels
    assert not any("Southwark" in o or ".yaml" in o for o in labels)  # only their own

    # a mistake: the answers stay, and the page asks for the file again beside the field
    page.get_by_label("Organisation").select_option(value="lambeth")
    page.get_by_label("File").set_input_files(str(upload))
    mapping.select_option(label=TENANCIES)
    page.get_by_label("Period (optional)").fill("2026-12")
    page.get_by_role("button", name="Upload and check the file").click()
    page.wait_for_load_state("load")
    _step(page, assert_accessible, role, "upload-error")
    summary = page.locator(".govuk-error-summary")
    assert "choose the file again" in summary.inner_text()
    expect(summary.get_by_role("link", name="Enter a dataset name")).to_have_count(1)
    expect(page.locator("#file-error")).to_contain_text("Select the file again")
    expect(page.get_by_label("Mapping")).to_have_value("synth/tenancies-lambeth.yaml")
    expect(page.get_by_label("Period (optional)")).to_have_value("2026-12")

    page.get_by_label("Dataset name").fill("tenancies")
    page.get_by_label("File").set_input_files(str(upload))
    _upload_and_wait(page, assert_accessible)
    _step(page, assert_accessible, role, "job")
    outcome = page.locator("#job-outcome").inner_text()
    assert re.search(
        r"stored as version (\d+) of tenancies: [\d,]+ of [\d,]+ rows accepted", outcome
    )
    version = re.search(r"version (\d+)", outcome).group(1)  # type: ignore[union-attr]
    assert "Lambeth" in page.locator("#job-params").inner_text()

    page.get_by_role("link", name=f"See the validation report for version {version}").click()
    page.wait_for_url(f"**/datasets/lambeth/tenancies/versions/{version}")
    _step(page, assert_accessible, role, "validation-report")
    visit(page, "/datasets/lambeth/tenancies")
    _step(page, assert_accessible, role, "dataset-versions")
    assert f"{version}" in page.locator("main").inner_text()

    # the same file again: said plainly, not stored twice
    visit(page, "/upload")
    page.get_by_label("Organisation").select_option(value="lambeth")
    page.get_by_label("Dataset name").fill("tenancies")
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_label("Mapping").select_option(label=TENANCIES)
    page.get_by_label("Period (optional)").fill("2026-12")
    _upload_and_wait(page, assert_accessible)
    _step(page, assert_accessible, role, "duplicate")
    assert page.locator("#job-outcome").inner_text() == (
        f"The file is identical to version {version} of tenancies, so it was not stored again."
    )

    visit(page, "/mappings")
    _step(page, assert_accessible, role, "mappings")
    names = page.locator("main table tbody tr td:first-child").all_inner_texts()
    assert names and all(n.startswith("London Borough of Lambeth: ") or ":" not in n for n in names)


def test_a_dpo_finds_a_resident_reviews_and_releases_their_data(
    page: Any, visit: Any, assert_accessible: Any, demo: Region, tmp_path: Path
) -> None:
    role = "dpo"
    resident = flagged_resident(demo, "asc-alone-council-tax-arrears")
    given, family, dob, postcode = details_of(demo, resident)
    purpose = "Residents' rights requests"
    sign_in_for(page, "/sign-in?next=/rights", "hub.dpo", demo.logins["hub.dpo"], purpose)
    _step(page, assert_accessible, role, "find")

    year, month, day = dob.split("-")
    page.get_by_label("Given name").fill(given.title())
    page.get_by_label("Family name").fill(family.title())
    page.get_by_label("Day").fill(str(int(day)))
    page.get_by_label("Month").fill(str(int(month)))
    page.get_by_label("Year").fill("19")  # a mistake first
    page.get_by_role("button", name="Find").click()
    page.wait_for_load_state("load")
    _step(page, assert_accessible, role, "date-error")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Date of birth must be a real date" in summary
    assert "Date of birth must be a real date" in page.locator("#date_of_birth-error").inner_text()

    page.get_by_label("Year").fill(year)
    page.get_by_label("Postcode").fill(postcode or "")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/rights/find")
    _step(page, assert_accessible, role, "found")
    match = page.get_by_test_id("resident-match").first
    assert resident in match.inner_text()

    match.get_by_role("link", name="Review the subject access export").click()
    page.wait_for_url(f"**/rights/residents/{resident}")
    _step(page, assert_accessible, role, "review")
    flags = page.locator("main").inner_text().split("Flags (")[1]
    assert "Receives adult social care (" in flags
    assert "Lives alone because" in flags
    for machine in ("lives_alone", "supported_living", "_organisation", ": None"):
        assert machine not in page.locator("main").inner_text()

    page.get_by_role("button", name="Release the export").click()
    page.wait_for_url("**/rights/exports/*")
    _step(page, assert_accessible, role, "released")
    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download as PDF").click()
    pdf = tmp_path / "export.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    with page.expect_download() as json_download:
        page.get_by_role("link", name="Download as JSON").click()
    saved = tmp_path / "export.json"
    json_download.value.save_as(saved)
    document = json.loads(saved.read_text())
    assert document["resident_id"] == resident
    assert any(f.get("reason") for f in document["flags"])
