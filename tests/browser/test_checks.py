"""The browser checks themselves: they must catch what they claim to catch."""

from __future__ import annotations

from typing import Any

import pytest

from joinedup import jobs
from joinedup.jobs.runner import claim, run_job

pytestmark = pytest.mark.browser


def test_axe_catches_a_violation(page: Any, visit: Any, assert_accessible: Any) -> None:
    visit(page, "/")
    page.evaluate(
        """() => {
             const img = document.createElement('img');
             img.src = '/static/vendor/govuk/assets/images/favicon.svg';
             document.querySelector('main').append(img);
           }"""
    )
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        assert_accessible(page)


def test_csp_blocks_and_reports_an_inline_script(
    page: Any, visit: Any, assert_clean: Any, page_record: Any
) -> None:
    visit(page, "/")
    page.evaluate(
        """() => {
             const s = document.createElement('script');
             s.textContent = 'window.__ran = true';
             document.body.append(s);
           }"""
    )
    assert page.evaluate("window.__ran === undefined")
    with pytest.raises(AssertionError, match="CSP violation: script-src"):
        assert_clean(page)
    page.evaluate("window.__cspViolations.length = 0")
    page_record.csp_violations.clear()
    page_record.console_errors.clear()  # Chromium also logs the refusal


def test_requests_to_other_hosts_are_blocked(page: Any, page_record: Any) -> None:
    with pytest.raises(Exception, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto("https://www.gov.uk/")
    assert page_record.blocked_requests == ["https://www.gov.uk/"]
    page_record.blocked_requests.clear()


@pytest.mark.usefixtures("as_hub_admin")
def test_job_page_follows_a_running_job(
    page: Any, visit: Any, assert_accessible: Any, live_server: Any
) -> None:
    job_id = jobs.submit(live_server.settings, "store.verify")
    visit(page, f"/jobs/{job_id}")
    assert page.locator("[data-job-field=status]").inner_text().strip() == "Queued"

    assert claim(live_server.settings, job_id)
    run_job(live_server.settings, job_id)

    updates = page.locator("#job-updates")
    updates.get_by_text("This job has succeeded").wait_for(timeout=10_000)
    assert page.locator("[data-job-field=status]").inner_text().strip() == "Succeeded"
    assert page.locator("[data-job-field=progress]").inner_text().strip() == "100%"
    assert_accessible(page)
