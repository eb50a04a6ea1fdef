"""The jobs list and a job's page, with real jobs run through joinedup.jobs."""

from __future__ import annotations

from typing import Any

import pytest

from joinedup import jobs

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures("as_hub_admin")
def test_jobs_list_and_detail(page: Any, visit: Any, live_server: Any) -> None:
    done = jobs.run_inline(live_server.settings, "store.verify")
    failed = jobs.run_inline(live_server.settings, "backup", {})  # no path: fails

    visit(page, "/jobs")
    nav = page.get_by_role("navigation", name="Menu")
    assert nav.get_by_role("link", name="Jobs").get_attribute("aria-current") == "page"
    rows = page.locator("main table tbody tr")
    assert rows.count() >= 2
    row = rows.filter(has_text=done.id[:8])
    assert "Succeeded" in row.inner_text() and "100%" in row.inner_text()

    row.get_by_role("link").click()
    page.wait_for_url(f"**/jobs/{done.id}")
    visit(page, f"/jobs/{done.id}")
    assert page.locator("h1").inner_text() == "Check the stored snapshots"
    assert nav.get_by_role("link", name="Jobs").get_attribute("aria-current") == "true"

    visit(page, f"/jobs/{failed.id}")
    assert "This job failed" in page.locator(".govuk-warning-text").inner_text()
    assert page.get_by_role("heading", name="What went wrong").is_visible()

    visit(page, "/jobs/no-such-job", expected_status=404)
