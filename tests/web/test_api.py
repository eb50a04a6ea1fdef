"""The JSON API and its OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from joinedup import __version__, jobs
from joinedup.config import Settings
from joinedup.web.api import API_PREFIX, api_modules

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def test_status(client: TestClient) -> None:
    response = client.get("/api/v1/status")
    assert response.status_code == 200
    assert response.json() == {"service": "joinedup", "version": __version__, "api_version": "v1"}


def test_openapi_documents_the_v1_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["version"] == __version__
    paths = schema["paths"]
    assert "/api/v1/status" in paths
    assert "/api/v1/jobs" in paths
    assert "/api/v1/jobs/{job_id}" in paths
    assert "/healthz" in paths
    tag_names = [tag["name"] for tag in schema["tags"]]
    assert {"service", "jobs", "health"} <= set(tag_names)
    # Pages are not API operations.
    assert not {"/", "/jobs", "/accessibility", "/api"} & set(paths)


def test_every_api_module_has_a_tagged_router_under_the_prefix(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for module in api_modules():
        assert module.tag["description"]
        for route in module.router.routes:
            path = API_PREFIX + route.path
            assert path in schema["paths"], path
            for operation in schema["paths"][path].values():
                assert operation["tags"] == [module.tag["name"]]
                assert operation["summary"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_cdn_backed_docs(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_unknown_api_path_answers_json(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_jobs_api(client: TestClient, home_settings: Settings) -> None:
    job = jobs.run_inline(home_settings, "store.verify")
    listed = client.get("/api/v1/jobs").json()
    assert [j["id"] for j in listed] == [job.id]
    one = client.get(f"/api/v1/jobs/{job.id}").json()
    assert one["status"] == "succeeded"
    assert one["progress"] == 1.0
    assert one["kind"] == "store.verify"
    assert client.get("/api/v1/jobs?status=failed").json() == []
    assert client.get("/api/v1/jobs?status=nonsense").status_code == 422
    assert client.get("/api/v1/jobs?limit=0").status_code == 422
    missing = client.get("/api/v1/jobs/no-such-job")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No such job"}
