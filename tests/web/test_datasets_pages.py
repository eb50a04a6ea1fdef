"""The catalogue pages: datasets, one dataset with its versions, and a validation report."""

from __future__ import annotations

import html as html_lib
import re
from typing import TYPE_CHECKING

import pytest

from joinedup import __version__
from joinedup.config import Settings
from tests.web.test_datasets_api import BAD, GOOD, add_organisations, person_csv, upload

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


def text_of(html: str) -> str:
    main = re.search(r"<main.*?</main>", html, re.S)
    assert main
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", main.group(0)))).strip()


def table_rows(html: str, table_id: str) -> list[list[str]]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    body = table.group(0).split("<tbody", 1)[1]
    return [
        [
            text_of(f"<main>{cell}</main>")
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def nav_current(html: str) -> str:
    found = re.search(r'<a[^>]*aria-current="page"[^>]*>(.*?)</a>', html, re.S) or re.search(
        r'<li class="govuk-service-navigation__item govuk-service-navigation__item--active">'
        r"\s*<a[^>]*>(.*?)</a>",
        html,
        re.S,
    )
    assert found
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_empty_catalogue(web: TestClient) -> None:
    response = web.get("/datasets")
    assert response.status_code == 200
    html = response.text
    assert "<title>Datasets – joinedup</title>" in html
    assert nav_current(html) == "Datasets"
    assert "No datasets yet" in html
    assert re.search(r'<a href="/upload"[^>]*class="govuk-button"', html)
    assert "<table" not in html


def test_catalogue_dataset_and_report(web: TestClient) -> None:
    many = [f"M{i},Ann,Smith,1980-01-01,SW1A 1AA" for i in range(1200)]
    assert upload(web, person_csv(many + BAD), wait=True, period="2026-10").status_code == 201
    extra = "source_record_id,given_name,family_name,date_of_birth,postcode,phone\n" + "\n".join(
        row + ",020 7946 0000" for row in GOOD
    )
    drift = upload(web, extra.encode(), filename="people-nov.csv", wait=True, period="2026-11")
    assert drift.status_code == 201, drift.text
    assert upload(web, person_csv(GOOD), organisation="southwark", dataset="residents", wait=True)

    html = web.get("/datasets").text
    rows = table_rows(html, "datasets")
    assert rows == [
        [
            "Lambeth",
            "People people",
            "Person (common core)",
            "People validation report, version 2",
            "9",
            "0",
            rows[0][6],
        ],
        [
            "Southwark",
            "Residents residents",
            "Person (common core)",
            "Residents validation report, version 1",
            "9",
            "0",
            rows[1][6],
        ],
    ]
    assert re.search(r"\d{1,2} \w+ \d{4} at \d{1,2}:\d\d[ap]m", rows[0][6])
    assert 'href="/datasets/lambeth/people"' in html
    assert 'href="/datasets/lambeth/people/versions/2"' in html

    html = web.get("/datasets/lambeth/people").text
    assert "<title>People – Lambeth – joinedup</title>" in html
    assert nav_current(html) == "Datasets"
    text = text_of(html)
    assert "Organisation Lambeth (lambeth)" in text
    assert "Standard Person (common core) person" in text
    assert "Versions 2" in text
    versions = table_rows(html, "versions")
    assert [r[:6] for r in versions] == [
        [
            "Validation report for version 2",
            "people-nov.csv",
            "2026-11",
            "person (columns as named)",
            "9",
            "0",
        ],
        [
            "Validation report for version 1",
            "people.csv",
            "2026-10",
            "person (columns as named)",
            "1,200",
            "1",
        ],
    ]
    assert 'href="/upload?organisation=lambeth&amp;dataset=people"' in html
    assert 'href="/api/v1/datasets/lambeth/people"' in html

    html = web.get("/datasets/lambeth/people/versions/1").text
    assert "<title>Validation report – lambeth/people version 1 – joinedup</title>" in html
    text = text_of(html)
    assert "Rows read 1,201" in text
    assert "Rows accepted 1,200 (99.9%)" in text
    assert "Rows quarantined 1 (0.1%)" in text
    assert "Format CSV, utf-8, delimited by commas" in text
    counts = table_rows(html, "rule-counts")
    assert sorted(counts) == [
        ["date_of_birth", "invalid_date Not a date in a format the mapping accepts", "1"],
        ["postcode", "pattern Does not match the standard's format", "1"],
    ]
    assert "postcode: pattern Row Value shape 1202 AAA A AA" in text
    assert "date_of_birth: invalid_date Row Value shape 1202 9999-99-99" in text
    for value in ("Jones", "NOT A PC", "1990-13-45"):
        assert value not in html
    assert 'href="/api/v1/datasets/lambeth/people/versions/1/report" download' in html
    assert "Warnings" not in text

    html = web.get("/datasets/lambeth/people/versions/2").text
    # The layout's own variables are not shadowed by the page's (the footer's version).
    assert f"joinedup version {__version__} is open-source software" in html
    text = text_of(html)
    assert "Warnings" in text
    assert "new columns since version 1: phone" in text
    assert "Every row passed every check." in text


def test_not_found_pages(web: TestClient) -> None:
    assert upload(web, person_csv(GOOD), wait=True).status_code == 201
    for path in (
        "/datasets/nowhere/people",
        "/datasets/lambeth/nothing",
        "/datasets/lambeth/people/versions/2",
    ):
        response = web.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in response.text
    assert web.get("/datasets/lambeth/people/versions/x").status_code == 400


def test_markup_in_names_is_escaped(web: TestClient) -> None:
    response = upload(web, person_csv(GOOD), filename="<em>bold<em>.csv", wait=True)
    assert response.status_code == 201
    html = web.get("/datasets/lambeth/people").text
    assert "<em>bold" not in html
    assert "&lt;em&gt;bold&lt;em&gt;.csv" in html
