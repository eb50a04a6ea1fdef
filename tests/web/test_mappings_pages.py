"""Shipped mappings and the mapping-suggestion page and API."""

from __future__ import annotations

import re
from typing import Any

import yaml
from fastapi.testclient import TestClient

from joinedup.ingest.mapping import parse_mapping
from tests.support import csrf_of

SAMPLE = (
    "Client Ref,Client Name,D.O.B,Gender,Post Code,NHS No\n"
    'C1,"SMITH, John",01/02/1980,M,sw1a 1aa,9434765919\n'
    'C2,"JONES, Amy",03/04/1990,F,SE1 7PB,4010232137\n'
)


def test_shipped_mappings_are_listed_and_readable(client: TestClient, accounts: Any) -> None:
    page = client.get("/mappings")
    assert page.status_code == 200
    assert 'href="/mappings/view/synth/school-census-lambeth.yaml"' in page.text
    assert ">Lambeth: School census (school census system)</a>" in page.text  # by name
    assert ">Southwark: Tenancies (housing system)</a>" in page.text  # the hub admin sees all
    one = client.get("/mappings/view/synth/school-census-lambeth.yaml")
    assert one.status_code == 200
    assert "joinedup-mapping/1" in one.text
    assert client.get("/mappings/view/../../etc/passwd").status_code == 404
    assert client.get("/mappings/view/synth/nope.yaml").status_code == 404


def test_a_data_owner_sees_their_own_organisations_mappings(
    signed_in_for: Any, home_settings: Any
) -> None:
    owner = signed_in_for(home_settings, "lam-owner")
    page = owner.get("/mappings").text
    names = re.findall(r'href="/mappings/view/([^"]+)">([^<]+)</a>', page)
    assert names and all(label.startswith("Lambeth: ") for _, label in names)
    assert "synth/tenancies-lambeth.yaml" in dict(names)
    assert ".yaml" not in "".join(label for _, label in names)
    form = owner.get("/upload").text
    assert "Lambeth: Tenancies (housing system)</option>" in form
    assert "Southwark:" not in form


def test_pages_need_sign_in(anonymous: Any) -> None:
    for path in ("/mappings", "/mappings/suggest"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in")


def test_suggest_page_drafts_a_mapping_and_keeps_nothing(client: TestClient, home_settings) -> None:
    form = client.get("/mappings/suggest")
    token = csrf_of(form.text)
    result = client.post(
        "/mappings/suggest",
        data={"csrf_token": token, "standard": "adult_social_care"},
        files={"file": ("clients.csv", SAMPLE, "text/csv")},
    )
    assert result.status_code == 200, result.text
    assert "Draft mapping" in result.text
    assert "Client Ref" in result.text and "surname_comma_forenames" in result.text
    assert list(home_settings.uploads_dir.iterdir()) == []


def test_suggest_page_errors(client: TestClient) -> None:
    token = csrf_of(client.get("/mappings/suggest").text)
    missing = client.post(
        "/mappings/suggest",
        data={"csrf_token": token, "standard": ""},
        files={"file": ("x.csv", b"", "text/csv")},
    )
    assert missing.status_code == 422
    assert "Select the standard" in missing.text
    unreadable = client.post(
        "/mappings/suggest",
        data={"csrf_token": token, "standard": "person"},
        files={"file": ("empty.csv", b"", "text/csv")},
    )
    assert unreadable.status_code == 422
    assert "empty_file" in unreadable.text
    forged = client.post(
        "/mappings/suggest",
        data={"csrf_token": "forged", "standard": "person"},
        files={"file": ("x.csv", SAMPLE, "text/csv")},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403


def test_suggest_api(client: TestClient) -> None:
    token = csrf_of(client.get("/mappings/suggest").text)
    response = client.post(
        "/api/v1/mappings/suggest",
        data={"standard": "person"},
        files={"file": ("clients.csv", SAMPLE, "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    mapping = parse_mapping(yaml.safe_load(body["yaml"]), "draft.yaml")
    assert mapping.fields["source_record_id"].column == "Client Ref"
    assert {f["field"]: f["column"] for f in body["fields"]}["nhs_number"] == "NHS No"
    bad = client.post(
        "/api/v1/mappings/suggest",
        data={"standard": "nope"},
        files={"file": ("clients.csv", SAMPLE, "text/csv")},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422
