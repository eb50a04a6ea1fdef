"""Server-rendered pages: the GOV.UK layout, each page, and the error pages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import APIRouter

from joinedup import __version__, jobs
from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Job
from joinedup.config import Settings
from joinedup.web.app import create_app
from joinedup.web.templating import format_datetime

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

PAGES = ["/", "/accessibility", "/api", "/jobs"]


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return found.group(1).strip()


def h1(html: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert found
    return re.sub(r"\s+", " ", found.group(1)).strip()


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<ul class="govuk-service-navigation__list".*?</ul>', html, re.S)
    assert nav
    return [
        re.sub(r"<[^>]+>|\s+", " ", text).strip()
        for text in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(0), re.S)
    ]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_govuk_layout(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<html lang="en" class="govuk-template">' in html
    assert title(html).endswith("– joinedup")
    assert 'class="govuk-skip-link"' in html and 'href="#main-content"' in html
    # The hub's own brand: the generic header with the service's name, not GOV.UK's crown.
    assert 'class="govuk-generic-header"' in html and 'class="govuk-header"' not in html
    assert '<span class="app-brand-name">joinedup</span>' in html
    assert "govuk-footer__crown" not in html and "Crown copyright" not in html
    assert ">Alpha<" in re.sub(r"\s+", "", html)
    assert 'id="main-content"' in html
    assert "Open Government Licence" not in html
    assert re.search(r'href="https://opensource.org/license/mit" rel="license">MIT licence', html)
    assert 'href="/accessibility"' in html
    assert 'href="/static/vendor/govuk/govuk-frontend.min.css"' in html
    assert 'src="/static/js/joinedup.js"' in html
    # Markup passed to GOV.UK macros is rendered, not shown escaped.
    assert not re.search(r"&lt;/?(a|code|strong|span)\b", html)


def test_navigation_shows_the_hub_admin_only_what_they_can_use(client: TestClient) -> None:
    html = client.get("/").text
    # Not Linkage, Worklist, Dashboard, Audit or Rights requests: their guards refuse the
    # hub admin (tests/web/test_navigation.py walks every role).
    assert nav_links(html) == [
        "Home",
        "Datasets",
        "Jobs",
        "Agreements",
        "Ethics",
        "Open data",
        "Data sharing",
        "Admin",
    ]
    assert re.search(r'href="/"\s+aria-current="page"', html)


def test_the_hub_admin_home_page_has_their_tasks_and_the_installation(
    client: TestClient, home_settings: Settings
) -> None:
    html = client.get("/").text
    assert title(html) == "Home – joinedup"
    assert h1(html) == "Your tasks"
    assert "Look into failed jobs" in html and "None failed" in html
    version_row = re.search(r"Version\s*</dt>\s*<dd[^>]*>\s*([^<\s]+)", html)
    assert version_row and version_row.group(1) == __version__
    assert str(home_settings.home.resolve()) in html
    assert "Exists" in html
    assert "Schema up to date" in html


def test_visitors_do_not_see_the_installation(anonymous: Any, home_settings: Settings) -> None:
    html = anonymous.get("/").text
    assert h1(html) == "joinedup"
    assert 'href="/open-data"' in html and 'href="/sign-in"' in html
    for private in (str(home_settings.home.resolve()), "SQLite", "Data directory", "database"):
        assert private not in html, private
    assert "Your tasks" not in html


def test_home_page_before_init_changes_nothing(client_for: Any, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "fresh", secret_key="x")
    html = client_for(settings).get("/").text
    assert "This hub is not set up yet" in html and "joinedup init" in html
    assert str(tmp_path) not in html
    assert not (tmp_path / "fresh").exists()


def test_home_page_with_an_empty_home_does_not_create_the_database(
    client_for: Any, tmp_path: Path
) -> None:
    home = tmp_path / "empty"
    home.mkdir()
    html = client_for(Settings(home=home, secret_key="x")).get("/").text
    assert "This hub is not set up yet" in html
    assert list(home.iterdir()) == []


def test_accessibility_page(client: TestClient) -> None:
    html = client.get("/accessibility").text
    assert title(html) == "Accessibility statement – joinedup"
    assert h1(html) == "Accessibility statement for joinedup"
    assert 'id="reporting-problems"' in html
    assert "Web Content Accessibility Guidelines version 2.2" in html


def test_api_page_lists_operations(client: TestClient) -> None:
    html = client.get("/api").text
    assert h1(html) == "API"
    assert '<code class="app-break-anywhere">/api/v1/status</code>' in html
    assert '<code class="app-break-anywhere">/api/v1/jobs/{job_id}</code>' in html
    assert 'href="/openapi.json"' in html


def test_404_page(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert title(response.text) == "Page not found – joinedup"
    assert h1(response.text) == "Page not found"
    assert 'class="govuk-generic-header"' in response.text


def test_other_http_errors_get_a_page(client: TestClient) -> None:
    response = client.post("/accessibility")
    assert response.status_code == 405
    assert 'class="govuk-generic-header"' in response.text
    assert response.headers["allow"] == "GET"


def test_500_page(client_for: Any, home_settings: Settings) -> None:
    app = create_app(home_settings)
    broken = APIRouter()

    @broken.get("/broken")
    def fail() -> None:
        raise RuntimeError("secret detail")

    @broken.get("/api/v1/broken")
    def fail_json() -> None:
        raise RuntimeError("secret detail")

    app.include_router(broken)
    client = client_for(app)
    response = client.get("/broken")
    assert response.status_code == 500
    assert title(response.text) == "Sorry, there is a problem with the service – joinedup"
    assert h1(response.text) == "Sorry, there is a problem with the service"
    assert "secret detail" not in response.text
    nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
    assert nonce and f'nonce="{nonce.group(1)}"' in response.text

    api = client.get("/api/v1/broken")
    assert api.status_code == 500
    assert api.json() == {"detail": "Internal Server Error"}


def test_jobs_pages(client: TestClient, home_settings: Settings) -> None:
    assert "No jobs have run yet." in client.get("/jobs").text
    done = jobs.run_inline(home_settings, "store.verify")
    failed = jobs.run_inline(home_settings, "backup", {})

    listing = client.get("/jobs").text
    assert f'href="/jobs/{done.id}"' in listing and f'href="/jobs/{failed.id}"' in listing
    assert "Succeeded" in listing and "Failed" in listing

    page = client.get(f"/jobs/{done.id}").text
    assert h1(page) == "Check the stored snapshots"
    assert title(page) == f"Check the stored snapshots – job {done.id[:8]} – joinedup"
    assert "{" not in page.split('id="main-content"')[1]  # no JSON
    assert re.search(r'href="/jobs"\s+aria-current="true"', page)
    assert "This job failed" not in page

    page = client.get(f"/jobs/{failed.id}").text
    assert "This job failed" in page
    assert "KeyError" in page

    assert client.get("/jobs/no-such-job").status_code == 404


def test_job_text_is_escaped(client: TestClient, home_settings: Settings) -> None:
    job_id = str(uuid.uuid4())
    with session_scope(home_settings) as session:
        session.add(
            Job(
                id=job_id,
                kind="<script>alert(1)</script>",
                status="failed",
                message="<img src=x onerror=alert(1)>",
                error="<b>bold</b>",
                params={"<i>": "</pre><script>"},
            )
        )
    for path in ("/jobs", f"/jobs/{job_id}"):
        html = client.get(path).text
        assert "<script>alert(1)" not in html
        assert "<img src=x" not in html and "<b>bold" not in html
        assert "</pre><script>" not in html


def test_format_datetime() -> None:
    assert format_datetime(datetime(2026, 1, 5, 14, 7, tzinfo=UTC)) == "5 January 2026 at 2:07pm"
    assert format_datetime(datetime(2026, 7, 1, 11, 30, tzinfo=UTC)) == "1 July 2026 at 12:30pm"
    assert format_datetime(datetime(2026, 7, 1, 23, 5, tzinfo=UTC)) == "2 July 2026 at 12:05am"
    assert format_datetime(None) == ""


def test_no_template_joins_literal_markup_to_an_escaped_value() -> None:
    """``'<code>' ~ (value | e)`` escapes the literal (Jinja escapes plain strings joined to
    markup), so the page shows "<code>" as text: build such cells in a ``{% set %}`` block."""
    from joinedup.web.templating import TEMPLATES_DIR

    pattern = re.compile(r"'<[a-z][^']*'\s*~\s*\([^)]*\|\s*e\s*\)")
    offenders = [
        f"{path.relative_to(TEMPLATES_DIR)}: {found.group(0)}"
        for path in TEMPLATES_DIR.rglob("*.html")
        for found in pattern.finditer(path.read_text())
    ]
    assert not offenders, offenders
