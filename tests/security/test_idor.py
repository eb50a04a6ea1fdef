"""Changing ids in paths: other organisations' jobs and uploads, and server paths in jobs.

(The matrix tries every route with Lambeth's own, a sharing and an unrelated organisation;
these tests spell out the object-level rules and what the answers give away.)
"""

from __future__ import annotations

from tests.security.conftest import CENSUS, DATASET, OTHER, OWN, SERVER_PATH, SHARED, Hub


def test_jobs_of_another_organisation_are_not_found(shared_hub: Hub) -> None:
    own, other = shared_hub.jobs["own"], shared_hub.jobs["other"]
    client = shared_hub.signed_in("lam-analyst")
    listed = [job["id"] for job in client.get("/api/v1/jobs").json()]
    assert own in listed and other not in listed
    assert client.get(f"/api/v1/jobs/{own}").status_code == 200
    refused = client.get(f"/api/v1/jobs/{other}")
    assert refused.status_code == 404
    assert refused.json() == {"detail": "No such job"}  # the same as a job that never was
    assert client.get("/api/v1/jobs/00000000-0000-4000-8000-0000000000ff").json() == (
        refused.json()
    )
    assert client.get(f"/jobs/{other}").status_code == 404
    assert other not in client.get("/jobs").text

    admin = shared_hub.signed_in("admin")
    assert {own, other} <= {job["id"] for job in admin.get("/api/v1/jobs").json()}


def test_only_hub_admins_see_server_paths_in_jobs(shared_hub: Hub) -> None:
    own = shared_hub.jobs["own"]
    owner = shared_hub.signed_in("lam-owner")
    params = owner.get(f"/api/v1/jobs/{own}").json()["params"]
    assert "path" not in params and params["organisation"] == OWN
    assert SERVER_PATH not in owner.get(f"/jobs/{own}").text
    assert all("path" not in job["params"] for job in owner.get("/api/v1/jobs").json())

    admin = shared_hub.signed_in("admin")
    assert admin.get(f"/api/v1/jobs/{own}").json()["params"]["path"] == SERVER_PATH
    # the job page is in words: the upload's server copy (deleted when the job ends) is not
    # shown there, even to the hub admin
    assert SERVER_PATH not in admin.get(f"/jobs/{own}").text


def test_a_data_owner_uploads_only_for_their_own_organisation(shared_hub: Hub) -> None:
    owner = shared_hub.signed_in("lam-owner")
    files = {"file": ("census.csv", CENSUS.encode(), "text/csv")}
    data = {"standard": "school_census"}
    for org in (SHARED, OTHER):
        url = f"/api/v1/datasets/{org}/{DATASET}/versions?wait=true"
        response = owner.post(url, data=data, files=files)
        assert response.status_code == 403
        assert response.json()["detail"] == "You can only upload files for your own organisation"
    # The form offers only their own organisation, and refuses another one posted anyway.
    form = owner.get("/upload").text
    assert f'value="{OWN}"' in form and f'value="{SHARED}"' not in form
    posted = owner.post(
        "/upload",
        data={"organisation": SHARED, "dataset": DATASET, "standard": "school_census"},
        files=files,
    )
    assert posted.status_code == 403
    assert list(shared_hub.settings.uploads_dir.iterdir()) == []


def test_the_hub_itself_is_not_an_upload_target(shared_hub: Hub) -> None:
    admin = shared_hub.signed_in("admin")
    form = admin.get("/upload").text
    assert 'value="hub"' not in form and f'value="{OTHER}"' in form
    files = {"file": ("census.csv", CENSUS.encode(), "text/csv")}
    url = f"/api/v1/datasets/hub/{DATASET}/versions?wait=true"
    assert admin.post(url, data={"standard": "school_census"}, files=files).status_code == 403
