"""Publications through the JSON API (analyst defines and releases, DPO approves or rejects;
only approved releases are public) and the CKAN-compatible API driven by the ``ckanapi``
client against a live uvicorn server."""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Iterator

import pytest
from ckanapi import NotFound, RemoteCKAN, SearchQueryError, ValidationError

from joinedup.web.app import create_app
from tests.publish.server import serve
from tests.regions import Region
from tests.support import api_token, bearer, signed_in

pytestmark = pytest.mark.slow

FSM = "fsm-not-registered-by-ward"


@pytest.fixture(scope="module")
def ckan(private_demo: Region) -> Iterator[RemoteCKAN]:
    with serve(private_demo.settings) as url, RemoteCKAN(url) as client:  # POST, as by default
        yield client


@pytest.fixture
def api(private_demo: Region) -> Iterator[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(private_demo.settings)) as client:
        yield client


def _token(home: Region, username: str) -> dict[str, str]:
    token = api_token(
        home.settings, username, ["read", "governance"], name=f"test-{time.time_ns()}"
    )
    return bearer(token)


def _definition(name: str, **changes: object) -> dict[str, object]:
    return {
        "format": "joinedup-publication/1",
        "kind": "indicator-aggregate",
        "name": name,
        "title": "Food bank referrals as a claim ends, by ward",
        "description": "Residents flagged by the food bank rule, by ward and month.",
        "indicators": ["foodbank-claim-ending"],
        "keywords": ["food"],
        **changes,
    }


def test_the_ckan_api_through_ckanapi(ckan: RemoteCKAN) -> None:
    names = ckan.action.package_list()
    assert FSM in names and "regional-spend-over-500" in names
    package = ckan.action.package_show(id=FSM)
    assert package["license_id"] == "OGL-UK-3.0"
    assert {"key": "frequency", "value": "monthly"} in package["extras"]
    csv_resource = package["resources"][0]
    assert csv_resource["format"] == "CSV" and csv_resource["datastore_active"]
    with pytest.raises(NotFound):
        ckan.action.package_show(id="no-such-dataset")
    found = ckan.action.package_search(q="free school meals")
    assert [p["name"] for p in found["results"]] == [FSM]
    assert ckan.action.package_search(q="zzz-nothing")["count"] == 0

    page = ckan.action.datastore_search(resource_id=csv_resource["id"], limit=3)
    assert len(page["records"]) == 3 and page["total"] > 3
    assert {f["id"] for f in page["fields"]} >= {"area_code", "month", "count"}
    wards = ckan.action.datastore_search(
        resource_id=csv_resource["id"], filters=json.dumps({"area_type": "ward"}), limit=1000
    )
    assert wards["records"] and all(r["area_type"] == "ward" for r in wards["records"])
    assert wards["total"] == len(wards["records"])
    later = ckan.action.datastore_search(resource_id=csv_resource["id"], offset=2, limit=2)
    assert (
        later["records"]
        == ckan.action.datastore_search(resource_id=csv_resource["id"], limit=4)["records"][2:]
    )
    # the spend dataset's rows, searched
    spend = ckan.action.package_show(id="regional-spend-over-500")["resources"][0]["id"]
    hits = ckan.action.datastore_search(resource_id=spend, q="lambeth", limit=5)
    assert (
        hits["records"]
        and hits["total"] <= ckan.action.datastore_search(resource_id=spend, limit=0)["total"]
    )


def test_the_ckan_api_refuses_or_survives_hostile_requests(ckan: RemoteCKAN) -> None:
    resource = f"{FSM}-v1"
    huge = ckan.action.datastore_search(resource_id=resource, limit=10**9)
    assert huge["limit"] == 1000
    for hostile in ["'; DROP TABLE publication; --", "%", "_", "\\", '" OR 1=1 --', "ward' OR '1"]:
        result = ckan.action.datastore_search(resource_id=resource, q=hostile)
        assert result["total"] == 0 or hostile in ("%", "_")
        try:  # q is Solr syntax: nothing found, or a syntax error (an unclosed quote)
            found = ckan.action.package_search(q=hostile)["count"]
        except SearchQueryError:
            assert '"' in hostile
        else:  # "ward' OR '1" is Solr's ward OR 1 (the quotes are punctuation)
            expected = ckan.action.package_search(q="ward OR 1")["count"] if "OR" in hostile else 0
            assert found == expected
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id=resource, filters=json.dumps({"nope": 1}))
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id=resource, filters="{not json")
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id=resource, limit="-1")
    with pytest.raises(NotFound):
        ckan.action.datastore_search(resource_id=f"{FSM}-v999")
    with pytest.raises(NotFound):
        ckan.action.datastore_search(resource_id="../../etc/passwd")


def test_define_release_approve_and_only_then_public(api, private_demo: Region) -> None:
    analyst, dpo = _token(private_demo, "hub.analyst"), _token(private_demo, "hub.dpo")
    name = "foodbank-by-ward-test"
    response = api.post("/api/v1/publish/publications", json=_definition(name), headers=analyst)
    assert response.status_code == 201, response.text
    assert (
        api.post("/api/v1/publish/publications", json=_definition(name), headers=dpo).status_code
        == 403
    )
    started = api.post(f"/api/v1/publish/publications/{name}/releases", headers=analyst)
    assert started.status_code == 202
    job = started.json()["job"]
    for _ in range(600):
        status = api.get(f"/api/v1/jobs/{job}", headers=analyst).json()["status"]
        if status in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert status == "succeeded"
    detail = api.get(f"/api/v1/publish/publications/{name}/releases/1", headers=dpo).json()
    assert detail["status"] == "pending"
    assert all(c["passed"] for c in detail["checks"]), detail["checks"]
    # pending: not on the portal, not in CKAN
    assert api.get(f"/open-data/{name}").status_code == 404
    assert api.get(f"/api/3/action/package_show?id={name}").json()["success"] is False
    assert api.get(f"/open-data/{name}/v1/data.csv").status_code == 404
    decision = f"/api/v1/publish/publications/{name}/releases/1/decision"
    assert api.post(decision, json={"decision": "approve"}, headers=analyst).status_code == 403
    assert api.post(decision, json={"decision": "reject"}, headers=dpo).status_code == 422
    approved = api.post(decision, json={"decision": "approve"}, headers=dpo)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (
        api.post(decision, json={"decision": "reject", "note": "x"}, headers=dpo).status_code == 409
    )
    assert api.get(f"/open-data/{name}").status_code == 200
    assert api.get(f"/api/3/action/package_show?id={name}").json()["success"] is True
    csv = api.get(f"/open-data/{name}/v1/data.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    catalogue = api.get("/open-data/catalog.jsonld").json()
    assert catalogue["@type"] == "dcat:Catalog"
    dataset = next(d for d in catalogue["dcat:dataset"] if d["dct:identifier"] == name)
    licence = dataset["dcat:distribution"][0]["dct:license"]["@id"]  # DCAT-AP: on distributions
    assert licence.endswith("open-government-licence/version/3/")
    assert dataset["dct:accrualPeriodicity"]["@id"].endswith("/MONTHLY")
    assert dataset["dct:modified"]["@value"]
    assert dataset["dcat:distribution"][0]["@type"] == "dcat:Distribution"
    # Staff see the approved release in the publication's row (not a dash), and names show
    # as code, not as escaped markup.
    signed_in(api, "hub.dpo", private_demo.logins["hub.dpo"])  # pages take a session
    listing = api.get("/publications").text
    rows = re.findall(r"<tr[^>]*>.*?</tr>", listing, re.S)
    row = next(r for r in rows if f"<code>{name}</code>" in r)
    assert re.search(r">Version 1<.*Approved", row, re.S), row
    dictionary = api.get(f"/open-data/{name}").text
    assert "<code>area_code</code>" in dictionary
    assert "&lt;code&gt;" not in listing + dictionary


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bogus": 1}, "bogus: unknown field"),
        ({"indicators": ["no-such-rule"]}, "indicators[0]: unknown indicator rule"),
        ({"indicators": []}, "indicators"),
        ({"name": "Bad Name!"}, "name"),
        ({"disclosure": {"threshold": 3}}, "disclosure.threshold"),
        ({"disclosure": {"perturbation": "off"}}, "disclosure.perturbation"),
        ({"kind": "dataset", "standard": "person", "indicators": None}, "holds personal data"),
        ({"kind": "secret"}, "kind"),
    ],
)
def test_bad_definitions_are_refused_with_the_path(
    api, private_demo: Region, changes: dict[str, object], message: str
) -> None:
    merged = {**_definition("bad-definition"), **changes}
    document = {k: v for k, v in merged.items() if v is not None}
    response = api.post(
        "/api/v1/publish/publications", json=document, headers=_token(private_demo, "hub.analyst")
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]
