"""The CKAN Action API as CKAN clients use it: ``ckanapi`` in its default mode (POST, JSON
bodies) against a live uvicorn server, ``ckanapi dump datasets`` to a file, CKAN's error
envelope, and the HTTP a web app on another site relies on (CORS on the public API and
downloads only, HEAD, ETag and cache headers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ckanapi import CKANAPIError, NotFound, RemoteCKAN, SearchQueryError, ValidationError

from tests.publish.server import serve
from tests.regions import Region

pytestmark = pytest.mark.slow

FSM = "fsm-not-registered-by-ward"
SPEND = "regional-spend-over-500"
ORIGIN = "https://apps.example.org"


@pytest.fixture(scope="module")
def site(demo_home: Region) -> Iterator[str]:
    with serve(demo_home.settings) as url:
        yield url


@pytest.fixture(scope="module")
def ckan(site: str) -> Iterator[RemoteCKAN]:
    with RemoteCKAN(site) as client:  # ckanapi's defaults: every action is a POST
        yield client


def test_package_list_show_and_search(ckan: RemoteCKAN) -> None:
    names = ckan.action.package_list()
    assert names == sorted(names) and {FSM, SPEND} <= set(names)
    package = ckan.action.package_show(id=FSM)
    assert package["name"] == FSM and package["id"] != FSM  # a stable UUID
    assert ckan.action.package_show(id=package["id"])["name"] == FSM
    assert package["owner_org"] == package["organization"]["id"]
    assert package["groups"] == []
    csv = package["resources"][0]
    assert (csv["position"], csv["format"]) == (0, "CSV")
    assert csv["size"] > 0 and csv["hash"].startswith("sha256:") and csv["created"]
    with pytest.raises(NotFound):
        ckan.action.package_show(id="no-such-dataset")
    # fq: a tag, a negation, an OR list; all three datasets otherwise
    assert ckan.action.package_search()["count"] == 3
    meals = ckan.action.package_search(fq='tags:"free school meals"')
    assert [p["name"] for p in meals["results"]] == [FSM]
    assert ckan.action.package_search(fq='-tags:"free school meals"')["count"] == 2
    both = ckan.action.package_search(fq=f"name:({FSM} OR {SPEND})", sort="name desc")
    assert [p["name"] for p in both["results"]] == [SPEND, FSM]
    assert ckan.action.package_search(q="extras_kind:dataset")["count"] == 1
    # sort and paging
    by_name = [p["name"] for p in ckan.action.package_search(sort="name asc")["results"]]
    assert by_name == sorted(by_name)
    page = ckan.action.package_search(sort="name asc", rows=1, start=1)
    assert [p["name"] for p in page["results"]] == by_name[1:2] and page["count"] == 3
    # facets
    faceted = ckan.action.package_search(**{"facet.field": ["tags", "res_format"]})
    assert faceted["facets"]["res_format"] == {"CSV": 3, "JSON": 3}
    assert faceted["facets"]["tags"]["free school meals"] == 1
    items = faceted["search_facets"]["tags"]["items"]
    assert {"name": "spend", "display_name": "spend", "count": 1} in items


def test_what_is_not_supported_is_refused_not_ignored(ckan: RemoteCKAN) -> None:
    for bad in [
        {"fq": "metadata_modified:[2020-01-01 TO *]"},  # ranges
        {"fq": "tags:free*"},  # wildcards
        {"fq": "nosuchfield:x"},
        {"q": "title:(a AND b)"},
        {"sort": "views_recent desc"},
        {"facet.field": ["notes"]},
    ]:
        with pytest.raises(SearchQueryError):  # CKAN's "Search Query Error", as CKAN answers
            ckan.action.package_search(**bad)
    for bad in [{"qf": "title^2"}, {"rows": -1}, {"facet.limit": "x"}]:  # unknown, or invalid
        with pytest.raises(ValidationError):
            ckan.action.package_search(**bad)
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id=f"{FSM}-v1", language="english")
    with pytest.raises(CKANAPIError):  # CKAN's 400 for an action it does not have
        ckan.call_action("package_create", {"name": "x"})


def test_organisations_resources_and_the_rest(ckan: RemoteCKAN) -> None:
    assert ckan.action.organization_list() == ["joinedup-hub"]
    org = ckan.action.organization_list(all_fields=True)[0]
    assert org["package_count"] == 3
    shown = ckan.action.organization_show(id=org["id"], include_datasets=True)
    assert len(shown["packages"]) == 3
    assert ckan.action.group_list() == []
    resource = ckan.action.resource_show(id=f"{FSM}-v1")
    assert resource["datastore_active"] and resource["url"].endswith("/v1/data.csv")
    assert ckan.action.resource_search(query="format:csv")["count"] == 3
    assert "free school meals" in ckan.action.tag_list()
    assert ckan.action.license_list()[0]["id"] == "OGL-UK-3.0"
    assert ckan.action.status_show()["ckan_version"].startswith("2.")
    assert "fq" in ckan.action.help_show(name="package_search")
    assert ckan.action.current_package_list_with_resources(limit=2)[0]["resources"]
    assert ckan.action.package_autocomplete(q="spend")[0]["name"] == SPEND
    assert ckan.action.format_autocomplete(q="cs") == ["csv"]
    activity = ckan.action.package_activity_list(id=FSM)
    assert activity and activity[0]["activity_type"] == "new package"
    assert len(ckan.action.recently_changed_packages_activity_list()) == 3
    info = ckan.action.datastore_info(id=f"{FSM}-v1")
    assert info["meta"]["count"] > 0 and {f["id"] for f in info["fields"]} >= {"count"}


def test_datastore_search_sort_fields_and_more(ckan: RemoteCKAN) -> None:
    rid = f"{FSM}-v1"
    page = ckan.action.datastore_search(
        resource_id=rid, sort="area_code desc, month asc", fields=["_id", "area_code", "month"]
    )
    assert [f["id"] for f in page["fields"]] == ["_id", "area_code", "month"]
    keys = [(r["area_code"], r["month"]) for r in page["records"]]
    assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)
    assert all(set(r) == {"_id", "area_code", "month"} for r in page["records"])
    everything = ckan.action.datastore_search(resource_id=rid, limit=1000)
    assert everything["fields"][0] == {"id": "_id", "type": "int"}
    assert [r["_id"] for r in everything["records"]] == list(range(1, everything["total"] + 1))
    kinds = ckan.action.datastore_search(resource_id=rid, fields="area_type", distinct=True)
    assert sorted(r["area_type"] for r in kinds["records"]) == [
        "local_authority",
        "region",
        "ward",
    ]
    untotalled = ckan.action.datastore_search(resource_id=rid, include_total=False, limit=1)
    assert "total" not in untotalled
    lists = ckan.action.datastore_search(
        resource_id=rid, records_format="lists", fields=["area_code"], limit=2
    )
    assert all(isinstance(row, list) and len(row) == 1 for row in lists["records"])
    csv = ckan.action.datastore_search(
        resource_id=rid, records_format="csv", fields=["_id", "area_type"], limit=2
    )
    assert csv["records"].splitlines()[0].startswith("1,")
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id=rid, sort="nope desc")
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id=rid, fields=["nope"])


def test_datastore_search_sql(ckan: RemoteCKAN) -> None:
    rid = f"{FSM}-v1"
    result = ckan.action.datastore_search_sql(
        sql=f'SELECT area_type, count(*) AS n FROM "{rid}" GROUP BY area_type ORDER BY 1'
    )
    assert [r["area_type"] for r in result["records"]] == ["local_authority", "region", "ward"]
    assert {f["id"] for f in result["fields"]} == {"area_type", "n"}
    total = ckan.action.datastore_search(resource_id=rid, limit=0)["total"]
    assert sum(r["n"] for r in result["records"]) == total
    joined = ckan.action.datastore_search_sql(
        sql=f'WITH s AS (SELECT * FROM "{SPEND}-v1") SELECT count(*) AS n FROM s'
    )
    assert joined["records"][0]["n"] > 0
    for refused in [
        f'DELETE FROM "{rid}"',
        f'SELECT 1; DROP TABLE "{rid}"',
        "SELECT * FROM publication",  # the control plane is not a published table
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT read_text('/etc/passwd')",
        f'SELECT * FROM main."{rid}"',
        "COPY (SELECT 1) TO '/tmp/out.csv'",
        "ATTACH '/tmp/x.db' AS x",
        "not sql at all",
    ]:
        with pytest.raises(ValidationError):
            ckan.action.datastore_search_sql(sql=refused)


def test_ckanapi_dump_datasets_to_a_file(site: str, tmp_path: Path) -> None:
    out = tmp_path / "datasets.jsonl"
    ckanapi = Path(sys.executable).parent / "ckanapi"
    env = {**os.environ, "PATH": f"{ckanapi.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(ckanapi), "dump", "datasets", "--all", "-O", str(out), "-r", site, "-p", "1", "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,  # the dump's workers are `ckanapi` processes too
    )
    assert done.returncode == 0, done.stderr
    dumped = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(d["name"] for d in dumped) == sorted(
        [FSM, SPEND, "vulnerability-indicators-by-ward"]
    )
    assert all(d["resources"] for d in dumped)


def test_cors_on_the_public_api_and_downloads_only(site: str) -> None:
    with httpx.Client(base_url=site) as http:
        preflight = http.options(
            "/api/3/action/package_search",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "*"
        answer = http.get("/api/3/action/package_list", headers={"Origin": ORIGIN})
        assert answer.headers["access-control-allow-origin"] == "*"
        csv = http.get(f"/open-data/{FSM}/v1/data.csv", headers={"Origin": ORIGIN})
        assert csv.headers["access-control-allow-origin"] == "*"
        assert "ETag" in csv.headers["access-control-expose-headers"]
        catalogue = http.get("/open-data/catalog.jsonld", headers={"Origin": ORIGIN})
        assert catalogue.headers["access-control-allow-origin"] == "*"
        # never on staff routes, sign-in or pages
        for path in ["/api/v1/jobs", "/api/v1/publish/releases", "/sign-in", "/open-data"]:
            staff = http.get(path, headers={"Origin": ORIGIN})
            assert "access-control-allow-origin" not in staff.headers, path
            refused = http.options(
                path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
            )
            assert "access-control-allow-origin" not in refused.headers, path


def test_downloads_answer_head_with_validators_and_long_caching(site: str) -> None:
    path = f"/open-data/{FSM}/v1/data.csv"
    with httpx.Client(base_url=site) as http:
        got = http.get(path)
        head = http.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(got.content))
        assert head.headers["etag"] == got.headers["etag"]
        assert "immutable" in got.headers["cache-control"]
        assert "no-store" not in got.headers["cache-control"]
        assert got.headers["last-modified"].endswith("GMT")
        again = http.get(path, headers={"If-None-Match": got.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        since = http.get(path, headers={"If-Modified-Since": got.headers["last-modified"]})
        assert since.status_code == 304
        package = http.head(f"/open-data/{FSM}/v1/datapackage.json")
        assert package.status_code == 200 and package.headers["etag"]
        # pages and the staff API still say no-store
        assert "no-store" in http.get("/api/v1/jobs").headers["cache-control"]


def test_errors_use_ckans_envelope(site: str) -> None:
    with httpx.Client(base_url=site) as http:
        unknown = http.post("/api/3/action/no_such_action", json={})
        assert unknown.status_code == 400
        body = unknown.json()
        assert body["success"] is False and body["error"]["__type"] == "Bad Request"
        assert body["help"].endswith("help_show?name=no_such_action")
        missing = http.get("/api/3/action/package_show").json()
        assert missing["error"]["__type"] == "Validation Error" and "id" in missing["error"]
        not_json = http.post(
            "/api/action/package_list",
            content=b"{oops",
            headers={"Content-Type": "application/json"},
        )
        assert not_json.status_code == 400 and not_json.json()["success"] is False
        form = http.post("/api/3/action/package_show", data={"id": FSM})
        assert form.json()["result"]["name"] == FSM
        helped = http.get(missing["help"].replace(site, "")).json()
        assert helped["success"] and "id" in helped["result"]
