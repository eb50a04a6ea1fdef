"""Hostile input gets a 4xx, never a server error (issue 15, 8): integers beyond any id the
database holds, and JSON that parses to what JSON cannot encode again (a lone surrogate, a
number that overflows to infinity) or the database cannot store."""

from __future__ import annotations

import pytest

from tests.security.conftest import DATASET, OWN, Hub

HUGE = "99999999999999999999"

#: Routes with an integer in the path or the query: each gets ``HUGE`` there.
HUGE_INTEGERS = [
    f"/api/v1/datasets/{OWN}/{DATASET}/versions/{HUGE}",
    f"/api/v1/datasets/{OWN}/{DATASET}/versions/{HUGE}/report",
    f"/api/v1/datasets/{OWN}/{DATASET}/records?fields=source_record_id&version={HUGE}",
    f"/api/v1/insight/impact/interventions/{HUGE}",
    f"/datasets/{OWN}/{DATASET}/versions/{HUGE}",
    f"/insight/impact/{HUGE}",
]


@pytest.mark.parametrize("url", HUGE_INTEGERS)
def test_an_integer_too_big_for_the_database_is_refused(shared_hub: Hub, url: str) -> None:
    for username in ("lam-analyst", "admin"):
        response = shared_hub.signed_in(username).get(url)
        assert 400 <= response.status_code < 500, (username, response.status_code, response.text)


#: JSON bodies json.loads accepts that cannot be encoded again or stored.
UNENCODABLE = ['"\\ud800"', "1e999999", '{"resident_id": 1e999999, "purpose": "fsm"}']


@pytest.mark.parametrize("body", UNENCODABLE)
def test_json_that_cannot_be_echoed_gets_422(shared_hub: Hub, body: str) -> None:
    client = shared_hub.signed_in("lam-dpo", None)
    response = client.post(
        "/api/v1/objections", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"], "the error says what is wrong"


def test_a_lone_surrogate_in_a_valid_string_field_is_refused_not_a_server_error(
    shared_hub: Hub,
) -> None:
    client = shared_hub.signed_in("lam-dpo", None)
    body = '{"resident_id": "r-1234567890abcdef", "purpose": "fsm", "note": "\\udfff"}'
    response = client.post(
        "/api/v1/objections", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "note"]]
