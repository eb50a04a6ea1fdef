"""The upload page: the form, its GOV.UK error summary, and the redirect to the job."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from joinedup.config import Settings
from joinedup.ingest import mapping as mapping_module
from tests.web.test_datasets_api import (
    BAD,
    GOOD,
    MAPPING_YAML,
    add_organisations,
    person_csv,
    uploads_left,
    wait_for_job,
)

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from tests.web.conftest import SignedInFor


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    add_organisations(db_settings)
    return db_settings


@pytest.fixture
def web(signed_in_for: SignedInFor, settings: Settings) -> TestClient:
    return signed_in_for(settings)


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found
    return found.group(1).strip()


def options(html: str, select_id: str) -> list[tuple[str, str]]:
    found = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert found, select_id
    return [
        (value, re.sub(r"\s+", " ", text).strip())
        for value, text in re.findall(
            r'<option value="([^"]*)"[^>]*>(.*?)</option>', found.group(0), re.S
        )
    ]


def selected(html: str, select_id: str) -> str | None:
    found = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert found
    value = re.search(r'<option value="([^"]*)"\s+selected', found.group(0))
    return value.group(1) if value else None


def error_summary(html: str) -> list[tuple[str, str]]:
    found = re.search(r'<div class="govuk-error-summary.*?</ul>', html, re.S)
    if not found:
        return []
    return [
        (href, text.strip())
        for href, text in re.findall(r'<a href="(#[^"]+)"[^>]*>(.*?)</a>', found.group(0), re.S)
    ]


def test_the_form(web: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "people.yaml").write_text(MAPPING_YAML)
    monkeypatch.setattr(mapping_module, "MAPPINGS_DIR", tmp_path / "m")
    response = web.get("/upload")
    assert response.status_code == 200
    html = response.text
    assert title(html) == "Upload a file – joinedup"
    assert 'enctype="multipart/form-data"' in html and 'method="post"' in html
    assert 'action="/upload"' in html
    assert options(html, "organisation") == [
        ("", "Select an organisation"),
        ("lambeth", "Lambeth"),
        ("southwark", "Southwark"),
    ]
    assert options(html, "mapping") == [
        ("none", "No mapping: the columns already follow the standard"),
        ("people.yaml", "People export with its own column names"),
    ]
    standards = options(html, "standard")
    assert standards[0] == ("", "Select a standard")
    assert ("person", "Person (common core)") in standards
    assert re.search(r'<input class="govuk-file-upload"[^>]*name="file"[^>]*type="file"', html)
    assert "smaller than 512 MB" in html
    assert "govuk-error-summary" not in html
    # The page is in the Datasets section of the navigation (breadcrumbs back to it).
    assert '<a class="govuk-breadcrumbs__link" href="/datasets">Datasets</a>' in html


def test_prefilled_from_the_dataset_page(web: TestClient) -> None:
    html = web.get("/upload?organisation=southwark&dataset=people").text
    assert selected(html, "organisation") == "southwark"
    assert re.search(r'id="dataset"[^>]*value="people"', html)


def test_no_organisations(signed_in_for: SignedInFor, db_settings: Settings) -> None:
    html = signed_in_for(db_settings).get("/upload").text
    assert "No organisations are registered yet" in html
    assert "<form" not in html.split('id="main-content"')[1]


def test_missing_answers(web: TestClient, settings: Settings) -> None:
    response = web.post("/upload", data={"dataset": "People List"}, files={"file": ("", b"")})
    assert response.status_code == 422
    html = response.text
    assert title(html) == "Error: Upload a file – joinedup"
    assert error_summary(html) == [
        ("#organisation", "Select the organisation the file comes from"),
        (
            "#dataset",
            "Dataset name must start with a lower case letter or number, and only include "
            "lower case letters, numbers, hyphens and underscores",
        ),
        ("#file", "Select a file"),
        ("#standard", "Select the standard the file&#39;s columns follow, or a mapping"),
    ]
    # Inline errors, linked to their fields.
    for field in ("organisation", "dataset", "file", "standard"):
        assert f'id="{field}-error"' in html
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', html) or (
            re.search(rf'aria-describedby="[^"]*{field}-error"[^>]*>', html)
        )
    assert 'id="period-error"' not in html
    assert re.search(r'id="dataset"[^>]*value="People List"', html)  # what was typed stays
    assert "choose the file again" not in html  # there was no file to keep
    assert uploads_left(settings) == []


def test_a_good_file_with_other_problems_is_not_kept(web: TestClient, settings: Settings):
    response = web.post(
        "/upload",
        data={"organisation": "lambeth", "dataset": "people", "period": "bad<period>"},
        files={"file": ("people.csv", person_csv(GOOD), "text/csv")},
    )
    assert response.status_code == 422
    assert [href for href, _ in error_summary(response.text)] == ["#file", "#standard", "#period"]
    assert "The file was not kept: choose the file again" in response.text
    assert "Select the file again (people.csv)" in response.text  # beside the field too
    assert selected(response.text, "organisation") == "lambeth"
    assert uploads_left(settings) == []


def test_upload_redirects_to_the_job(web: TestClient, settings: Settings) -> None:
    response = web.post(
        "/upload",
        data={
            "organisation": "lambeth",
            "dataset": "people",
            "mapping": "none",
            "standard": "person",
            "period": "2026-10",
        },
        files={"file": ("people.csv", person_csv(GOOD + BAD), "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/jobs/[0-9a-f-]{36}", location)
    job = wait_for_job(web, location.rsplit("/", 1)[1])
    assert job["status"] == "succeeded", job["error"]
    assert job["params"]["filename"] == "people.csv"
    assert job["params"]["period"] == "2026-10"
    assert job["params"]["mapping"] is None
    assert job["result"]["accepted"] == 9
    page = web.get(location)
    assert page.status_code == 200 and "Succeeded" in page.text
    assert uploads_left(settings) == []
    datasets = web.get("/api/v1/datasets").json()
    assert [(d["organisation"], d["name"], d["latest_version"]) for d in datasets] == [
        ("lambeth", "people", 1)
    ]


def test_a_rejected_file_fails_its_job_with_a_clear_error(web: TestClient, settings: Settings):
    ragged = (person_csv(GOOD[:3]).decode() + "P9,a,b,c,d,e\n").encode()
    response = web.post(
        "/upload",
        data={"organisation": "lambeth", "dataset": "people", "standard": "person"},
        files={"file": ("ragged.csv", ragged, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    job = wait_for_job(web, response.headers["location"].rsplit("/", 1)[1])
    assert job["status"] == "failed"
    assert "ragged.csv, row 5: ragged_row" in job["error"]
    html = web.get(response.headers["location"]).text
    assert "This job failed" in html and "ragged.csv, row 5: ragged_row" in html
    assert uploads_left(settings) == []


def test_a_malformed_post_gets_an_error_page(web: TestClient) -> None:
    response = web.post("/upload", content=b"a=b", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "Send the form as multipart/form-data" in response.text
    assert "<title>" in response.text  # a page, not JSON
