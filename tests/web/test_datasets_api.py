"""``/api/v1/datasets``, ``/standards`` and ``/mappings``, on SQLite and PostgreSQL.

Uploads go through the real streaming helper and the real ingest job (on its background
thread, or inline with ``?wait=true``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, User
from joinedup.config import Settings
from joinedup.ingest import mapping as mapping_module
from joinedup.standards import field_names, list_standards

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from tests.web.conftest import SignedInFor

HEADER = "source_record_id,given_name,family_name,date_of_birth,postcode\n"
GOOD = [f"P{i},Ann,Smith,1980-01-{i + 1:02d},SW1A 1AA" for i in range(9)]
BAD = ["Q1,Bob,Jones,1990-13-45,NOT A PC"]  # invalid date and postcode: quarantined
MAPPING_YAML = """\
standard: person
description: People export with its own column names
fields:
  source_record_id: REF
  given_name: FIRST
  family_name: LAST
  date_of_birth: {column: DOB, date_formats: ["%d/%m/%Y"]}
  postcode: PC
"""


def person_csv(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def add_organisations(settings: Settings) -> None:
    with session_scope(settings) as session:
        session.add(Organisation(code="lambeth", name="Lambeth", gss_code="E09000022"))
        session.add(Organisation(code="southwark", name="Southwark", gss_code="E09000028"))


def wait_for_job(client: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in {"succeeded", "failed"}:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout}s")


def upload(
    client: TestClient,
    content: bytes,
    *,
    filename: str = "people.csv",
    organisation: str = "lambeth",
    dataset: str = "people",
    wait: bool = False,
    **fields: str,
) -> Any:
    data = {"standard": "person", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(
        f"/api/v1/datasets/{organisation}/{dataset}/versions" + ("?wait=true" if wait else ""),
        files={"file": (filename, content, "text/csv")},
        data=data,
    )


def user_id(settings: Settings, username: str) -> int:
    with session_scope(settings) as session:
        found = session.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def uploads_left(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.uploads_dir.iterdir())


@pytest.fixture
def settings(db_settings: Settings) -> Settings:
    add_organisations(db_settings)
    return db_settings


@pytest.fixture
def api(signed_in_for: SignedInFor, settings: Settings) -> TestClient:
    return signed_in_for(settings)


def test_empty_catalogue(api: TestClient) -> None:
    assert api.get("/api/v1/datasets").json() == []


def test_upload_as_a_job_then_read_the_catalogue(api: TestClient, settings: Settings) -> None:
    response = upload(api, person_csv(GOOD + BAD), period="2026-10")
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"job_id", "status_url", "job_page"}
    assert body["status_url"] == f"/api/v1/jobs/{body['job_id']}"
    assert response.headers["location"] == body["status_url"]
    assert body["job_page"] == f"/jobs/{body['job_id']}"

    job = wait_for_job(api, body["job_id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["kind"] == "ingest"
    assert job["result"]["version"] == 1
    assert (job["result"]["accepted"], job["result"]["rejected"]) == (9, 1)
    assert job["params"]["filename"] == "people.csv"
    # Who uploaded is recorded from the principal (the signed-in hub admin's token).
    assert job["params"]["actor"] == "admin"
    assert job["params"]["user_id"] == user_id(settings, "admin")
    assert uploads_left(settings) == []  # the job removed the uploaded copy

    listed = api.get("/api/v1/datasets").json()
    assert len(listed) == 1
    entry = listed[0]
    assert {k: entry[k] for k in ("organisation", "organisation_name", "name", "standard")} == {
        "organisation": "lambeth",
        "organisation_name": "Lambeth",
        "name": "people",
        "standard": "person",
    }
    assert (entry["latest_version"], entry["accepted_rows"], entry["rejected_rows"]) == (1, 9, 1)
    assert entry["title"] == "People"
    assert entry["updated_at"]
    assert entry["url"] == "/api/v1/datasets/lambeth/people"

    detail = api.get(entry["url"]).json()
    assert detail["name"] == "people" and detail["latest_version"] == 1
    [version] = detail["versions"]
    assert version["version"] == 1
    assert version["source_filename"] == "people.csv"
    assert version["period"] == "2026-10"
    assert version["mapping"] == "person (columns as named)"
    assert (version["rows"], version["accepted_rows"], version["rejected_rows"]) == (10, 9, 1)
    assert version["url"] == "/api/v1/datasets/lambeth/people/versions/1"

    one = api.get(version["url"]).json()
    assert one["organisation"] == "lambeth" and one["dataset"] == "people"
    assert one["standard"] == "person"
    assert len(one["source_sha256"]) == 64 and len(one["snapshot_sha256"]) == 64
    assert one["quarantine_sha256"]
    report = one["report"]
    assert (report["rows"], report["accepted"], report["rejected"]) == (10, 9, 1)
    rules = {(r["field"], r["rule"]): r for r in report["rules"]}
    assert set(rules) == {("date_of_birth", "invalid_date"), ("postcode", "pattern")}
    assert rules["postcode", "pattern"]["examples"] == [{"row": 11, "shape": "AAA A AA"}]
    assert report["source"]["file"] == "people.csv"
    assert report["source"]["columns"] == HEADER.strip().split(",")
    # Counts, row numbers and shapes only: no value from the file.
    text = str(one)
    for value in ("Jones", "Bob", "NOT A PC", "1990-13-45", "Q1"):
        assert value not in text

    download = api.get(one["report_url"])
    assert download.status_code == 200
    assert download.json() == report
    assert download.headers["content-disposition"] == (
        'attachment; filename="lambeth-people-v1-report.json"'
    )


def test_filters(api: TestClient) -> None:
    assert upload(api, person_csv(GOOD), wait=True).status_code == 201
    assert upload(api, person_csv(GOOD), organisation="southwark", wait=True).status_code == 201
    names = [(d["organisation"], d["name"]) for d in api.get("/api/v1/datasets").json()]
    assert names == [("lambeth", "people"), ("southwark", "people")]
    only = api.get("/api/v1/datasets?organisation=southwark").json()
    assert [d["organisation"] for d in only] == ["southwark"]
    assert api.get("/api/v1/datasets?standard=council_tax").json() == []
    assert len(api.get("/api/v1/datasets?standard=person").json()) == 2


def test_wait_creates_a_version_and_identical_content_is_recognised(
    api: TestClient, settings: Settings
) -> None:
    created = upload(api, person_csv(GOOD + BAD), wait=True, period="2026-10")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body == {
        "status": "created",
        "organisation": "lambeth",
        "dataset": "people",
        "version": 1,
        "rows": 10,
        "accepted": 9,
        "rejected": 1,
        "warnings": [],
        "url": "/api/v1/datasets/lambeth/people/versions/1",
    }
    assert created.headers["location"] == body["url"]

    # The same bytes again, under another name: recognised, nothing stored.
    again = upload(api, person_csv(GOOD + BAD), filename="copy.csv", wait=True)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "unchanged"
    assert again.json()["version"] == 1
    assert "identical to version 1" in again.json()["warnings"][0]

    # And as a job: the job succeeds with status unchanged.
    job_id = upload(api, person_csv(GOOD + BAD)).json()["job_id"]
    job = wait_for_job(api, job_id)
    assert job["status"] == "succeeded"
    assert job["result"]["status"] == "unchanged"
    assert [
        v["version"] for v in api.get("/api/v1/datasets/lambeth/people").json()["versions"]
    ] == [1]

    # A new file adds version 2, listed first; the catalogue shows its counts.
    second = upload(api, person_csv(GOOD[:5]), wait=True, period="2026-11")
    assert second.status_code == 201 and second.json()["version"] == 2
    versions = api.get("/api/v1/datasets/lambeth/people").json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    latest = api.get("/api/v1/datasets").json()[0]
    assert (latest["latest_version"], latest["accepted_rows"], latest["rejected_rows"]) == (2, 5, 0)
    assert uploads_left(settings) == []


def test_wait_rejected_file_names_file_row_and_rule(api: TestClient, settings: Settings) -> None:
    ragged = HEADER + GOOD[0] + "\n" + GOOD[1] + ",extra\n"
    response = upload(api, ragged.encode(), filename="lambeth people.csv", wait=True)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["file"] == "lambeth people.csv"  # the name sent, not the name on disk
    assert error["row"] == 3
    assert error["rule"] == "ragged_row"
    assert "6 fields" in error["message"] and "header has 5" in error["message"]
    assert api.get("/api/v1/datasets").json() == []  # nothing stored
    assert uploads_left(settings) == []


def test_rejected_job_records_the_error_with_the_file_name(
    api: TestClient, settings: Settings
) -> None:
    ragged = HEADER + GOOD[0] + ",extra\n"
    job_id = upload(api, ragged.encode(), filename="ragged.csv").json()["job_id"]
    job = wait_for_job(api, job_id)
    assert job["status"] == "failed"
    assert "ragged.csv, row 2: ragged_row" in job["error"]
    assert uploads_left(settings) == []


def test_rejection_threshold(api: TestClient) -> None:
    response = upload(api, person_csv(GOOD[:2] + BAD), wait=True)
    assert response.status_code == 422
    assert response.json()["error"]["rule"] == "rejection_threshold"
    assert response.json()["error"]["file"] == "people.csv"


def test_upload_with_a_shipped_mapping(
    api: TestClient, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "mappings"
    (shipped / "test").mkdir(parents=True)
    (shipped / "test" / "people.yaml").write_text(MAPPING_YAML)
    (shipped / "test" / "broken.yaml").write_text("standard: nonsense\n")
    (shipped / "README.md").write_text("not a mapping")
    monkeypatch.setattr(mapping_module, "MAPPINGS_DIR", shipped)

    assert api.get("/api/v1/mappings").json() == [
        {
            "name": "test/people.yaml",
            "standard": "person",
            "description": "People export with its own column names",
            "organisation": None,  # no organisation's own: anyone may use it
            "title": "People export with its own column names",  # the description, untitled
        }
    ]
    content = (
        b"REF,FIRST,LAST,DOB,PC\nA1,Ann,Smith,02/01/1980,sw1a1aa\nA2,Bo,Li,03/04/1990,SE17PB\n"
    )
    response = upload(
        api, content, filename="export.csv", mapping="test/people.yaml", standard="", wait=True
    )
    assert response.status_code == 201, response.text
    assert (response.json()["accepted"], response.json()["rejected"]) == (2, 0)
    version = api.get(response.json()["url"]).json()
    assert version["mapping"] == "people.yaml"
    # As a job, the job is given the shipped file itself (never a name looked up elsewhere).
    other = b"REF,FIRST,LAST,DOB,PC\nA3,Cy,Ng,05/06/1970,SE58QQ\n"
    job_id = upload(api, other, mapping="test/people.yaml", standard="").json()["job_id"]
    job = wait_for_job(api, job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["params"]["mapping"] == str((shipped / "test" / "people.yaml").resolve())

    # Only shipped mappings by name: never a path on the server.
    for name in ("/etc/passwd", "../mappings/test/people.yaml", "test/missing.yaml"):
        refused = upload(api, content, mapping=name, wait=True)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "mapping"]
    # A standard that disagrees with the mapping.
    clash = upload(api, content, mapping="test/people.yaml", standard="council_tax", wait=True)
    assert clash.status_code == 422
    assert clash.json()["detail"][0]["loc"] == ["body", "standard"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"standard": ""}, "standard", "Select the standard the file's columns follow"),
        ({"standard": "nonsense"}, "standard", "Select a standard from the list"),
        ({"period": "x" * 21}, "period", "Period must be 20 characters or fewer"),
        ({"period": "<b>"}, "period", "Period must only include"),
    ],
)
def test_invalid_fields(
    api: TestClient, settings: Settings, fields: dict[str, str], field: str, message: str
) -> None:
    response = upload(api, person_csv(GOOD), **fields)
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", field]
    assert detail["msg"].startswith(message)
    assert uploads_left(settings) == []


def test_missing_or_empty_file(api: TestClient, settings: Settings) -> None:
    url = "/api/v1/datasets/lambeth/people/versions"
    missing = api.post(url, data={"standard": "person"}, files={"other": ("x", b"", "text/plain")})
    assert missing.status_code == 400  # a file in an unexpected field
    no_file = api.post(url, data={"standard": "person"}, files={})
    assert no_file.status_code in {415, 422}
    empty = api.post(url, data={"standard": "person"}, files={"file": ("e.csv", b"", "text/csv")})
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["msg"] == "The selected file is empty"
    assert uploads_left(settings) == []


@pytest.mark.parametrize("dataset", ["People", "-people", "people%20list"])
def test_new_dataset_names_are_checked(api: TestClient, dataset: str) -> None:
    response = upload(api, person_csv(GOOD), dataset=dataset)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "dataset"]


def test_a_dataset_keeps_its_standard(api: TestClient) -> None:
    assert upload(api, person_csv(GOOD), wait=True).status_code == 201
    response = upload(api, person_csv(GOOD[:3]), standard="council_tax", wait=True)
    assert response.status_code == 422
    assert "holds person records" in response.json()["detail"][0]["msg"]
    # Without a standard, the dataset's own is used.
    assert upload(api, person_csv(GOOD[:3]), standard="", wait=True).status_code == 201


def test_not_found(api: TestClient) -> None:
    assert upload(api, person_csv(GOOD), wait=True).status_code == 201
    cases = {
        "/api/v1/datasets/nowhere/people": "No organisation 'nowhere'",
        "/api/v1/datasets/lambeth/nothing": "No dataset 'nothing' from organisation 'lambeth'",
        "/api/v1/datasets/southwark/people": "No dataset 'people' from organisation 'southwark'",
        "/api/v1/datasets/lambeth/people/versions/2": "Dataset lambeth/people has no version 2",
        "/api/v1/datasets/lambeth/people/versions/9/report": (
            "Dataset lambeth/people has no version 9"
        ),
    }
    for url, message in cases.items():
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": message}
    assert api.get("/api/v1/datasets/lambeth/people/versions/0").status_code == 422
    assert api.get("/api/v1/datasets/lambeth/people/versions/one").status_code == 422
    posted = upload(api, person_csv(GOOD), organisation="nowhere")
    assert posted.status_code == 404
    assert posted.json() == {"detail": "No organisation 'nowhere'"}


def test_not_multipart(api: TestClient, settings: Settings) -> None:
    response = api.post(
        "/api/v1/datasets/lambeth/people/versions",
        content=person_csv(GOOD),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 415
    assert response.json() == {"detail": "Send the form as multipart/form-data"}


def test_standards(api: TestClient) -> None:
    standards = api.get("/api/v1/standards").json()
    assert [s["name"] for s in standards] == list_standards()
    person = next(s for s in standards if s["name"] == "person")
    assert person["title"] == "Person (common core)"
    assert person["extends"] is None and person["primary_key"] == ["source_record_id"]
    assert [f["name"] for f in person["fields"]] == field_names("person")
    first = person["fields"][0]
    assert first["name"] == "source_record_id" and first["required"] and first["personal"]
    council_tax = next(s for s in standards if s["name"] == "council_tax")
    assert council_tax["extends"] == "person"
    schema = api.get("/api/v1/standards/council_tax").json()
    assert schema["title"] == council_tax["title"] and schema["fields"]
    assert api.get("/api/v1/standards/nonsense").json() == {"detail": "No standard 'nonsense'"}


def test_no_shipped_mappings(api: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(mapping_module, "MAPPINGS_DIR", tmp_path / "absent")
    assert api.get("/api/v1/mappings").json() == []


def test_openapi_documents_the_upload(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/datasets",
        "/api/v1/datasets/{organisation}/{dataset}",
        "/api/v1/datasets/{organisation}/{dataset}/versions/{version}",
        "/api/v1/datasets/{organisation}/{dataset}/versions/{version}/report",
        "/api/v1/standards",
        "/api/v1/standards/{name}",
        "/api/v1/mappings",
    ):
        assert path in paths, path
    post = paths["/api/v1/datasets/{organisation}/{dataset}/versions"]["post"]
    assert post["tags"] == ["datasets"]
    body = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"]
    assert set(body["properties"]) == {"file", "mapping", "standard", "period", "confirm_layout"}
    assert {"200", "201", "202", "404", "413", "422"} <= set(post["responses"])
    assert any(tag["name"] == "datasets" for tag in schema["tags"])
    assert any(tag["name"] == "standards" for tag in schema["tags"])


def test_shipped_mappings_are_reread_when_they_change(
    api: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mapping_module, "MAPPINGS_DIR", tmp_path)
    path = tmp_path / "people.yaml"
    path.write_text(MAPPING_YAML)
    assert api.get("/api/v1/mappings").json()[0]["description"].startswith("People export")
    path.write_text(MAPPING_YAML.replace("People export", "Changed export"))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert api.get("/api/v1/mappings").json()[0]["description"].startswith("Changed export")
    (tmp_path / "more.yml").write_text(MAPPING_YAML)
    assert [m["name"] for m in api.get("/api/v1/mappings").json()] == ["more.yml", "people.yaml"]
