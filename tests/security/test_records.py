"""``GET /api/v1/datasets/{org}/{dataset}/records``: personal data only through the policy
decision, under the caller's purpose, with every read (allowed or not) in the audit log.

An expired or revoked agreement stops access at the next request.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Agreement, AuditEvent, User
from joinedup.governance.agreements import revoke
from tests.security.conftest import AGREEMENT, DATASET, OTHER, OWN, PURPOSE, SHARED, Hub
from tests.support import choose_purpose

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

URL = "/api/v1/datasets/{org}/" + DATASET + "/records"
SHARED_READ = "source_record_id,given_name,fsm_eligible"


def records(client: TestClient, org: str = SHARED, **params: Any) -> Any:
    query = {"fields": SHARED_READ, **params}
    return client.get(URL.format(org=org), params=query)


def reads(hub: Hub) -> list[AuditEvent]:
    with session_scope(hub.settings) as session:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "personal_data.read")
                .order_by(AuditEvent.id)
            )
        )
        session.expunge_all()
        return rows


def test_an_active_agreement_allows_the_read_and_it_is_audited(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    response = records(client)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["purpose"] == PURPOSE and body["version"] == 1
    assert body["fields"] == ["source_record_id", "given_name", "fsm_eligible"]
    assert body["records"] == [
        {"source_record_id": "S1", "given_name": "AMY", "fsm_eligible": False},
        {"source_record_id": "S2", "given_name": "BEN", "fsm_eligible": True},
        {"source_record_id": "S3", "given_name": "CAL", "fsm_eligible": False},
    ]
    assert body["next"] is None
    [event] = reads(hub)
    assert (event.actor, event.purpose, event.decision) == ("lam-analyst", PURPOSE, "allow")
    assert event.target_id == f"{SHARED}/{DATASET}/1"
    assert event.records == ["S1", "S2", "S3"]
    assert f"allowed by agreement {AGREEMENT}" in (event.reason or "")


def test_an_api_token_sends_its_purpose_in_a_header(hub: Hub) -> None:
    client = hub.client()
    client.headers["Authorization"] = f"Bearer {hub.token('lam-case', ('read',))}"
    missing = records(client)
    assert missing.status_code == 403
    assert "X-Joinedup-Purpose" in missing.json()["detail"]
    unknown = client.get(
        URL.format(org=SHARED),
        params={"fields": SHARED_READ},
        headers={"X-Joinedup-Purpose": "snooping"},
    )
    assert unknown.status_code == 403
    assert "no registered purpose" in unknown.json()["detail"]
    client.headers["X-Joinedup-Purpose"] = PURPOSE
    assert records(client).status_code == 200
    assert [e.decision for e in reads(hub)] == ["allow"]


def test_without_a_purpose_a_session_is_refused(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst", purpose=None)
    response = records(client)
    assert response.status_code == 403
    assert "X-Joinedup-Purpose" in response.json()["detail"]
    assert reads(hub) == []  # refused before any decision: nothing was asked for


def test_revoking_the_agreement_stops_access_at_once(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    assert records(client).status_code == 200
    with session_scope(hub.settings) as session:
        agreement = session.scalars(select(Agreement).where(Agreement.reference == AGREEMENT)).one()
        owner = session.get(User, hub.users["sou-owner"])
        assert owner is not None
        revoke(session, agreement, owner, "the school withdrew")
    response = records(client)
    assert response.status_code == 403
    assert response.json()["detail"] == f"Access denied: agreement {AGREEMENT} is revoked"
    allowed, denied = reads(hub)
    assert (allowed.decision, denied.decision) == ("allow", "deny")
    assert denied.records == [] and denied.purpose == PURPOSE
    assert denied.reason == f"agreement {AGREEMENT} is revoked"


def test_an_expired_agreement_stops_access(hub: Hub) -> None:
    client = hub.signed_in("lam-case")
    yesterday = date.today() - timedelta(days=1)
    with session_scope(hub.settings) as session:
        session.execute(
            update(Agreement).where(Agreement.reference == AGREEMENT).values(expiry_date=yesterday)
        )
    response = records(client)
    assert response.status_code == 403
    assert f"is expired (expired {yesterday.isoformat()})" in response.json()["detail"]
    [event] = reads(hub)
    assert event.decision == "deny"


def test_the_agreement_covers_only_its_fields_and_purposes(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    response = records(client, fields="source_record_id,date_of_birth")
    assert response.status_code == 403
    assert "does not share field(s) date_of_birth" in response.json()["detail"]

    other_purpose = hub.signed_in("lam-analyst", purpose="statistics")
    response = records(other_purpose)
    assert response.status_code == 403
    assert "does not cover the purpose statistics" in response.json()["detail"]
    assert [e.decision for e in reads(hub)] == ["deny", "deny"]


def test_idor_another_organisations_records_without_an_agreement(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    response = records(client, org=OTHER)
    assert response.status_code == 403
    assert "no agreement shares croydon's data with lambeth" in response.json()["detail"]
    # Its own data, Lambeth reads as controller.
    own = records(client, org=OWN, fields="source_record_id,date_of_birth")
    assert own.status_code == 200
    assert own.json()["records"][0] == {"source_record_id": "S1", "date_of_birth": "2015-03-01"}


def test_hub_admins_never_read_residents(hub: Hub) -> None:
    session = hub.signed_in("admin", None)  # no purpose is granted to hub admins
    assert choose_purpose(session, "fsm").status_code == 403
    response = records(session, org=OWN)
    assert response.status_code == 403
    token = hub.client()
    token.headers["Authorization"] = f"Bearer {hub.token('admin')}"
    token.headers["X-Joinedup-Purpose"] = "fsm"
    claimed = records(token, org=OWN)
    assert claimed.status_code == 403 and "not granted" in claimed.json()["detail"]


def test_pages_of_records(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    first = records(client, limit=2).json()
    assert [r["source_record_id"] for r in first["records"]] == ["S1", "S2"]
    assert first["next"] == (
        f"/api/v1/datasets/{SHARED}/{DATASET}/records"
        "?fields=source_record_id,given_name,fsm_eligible&version=1&offset=2&limit=2"
    )
    second = client.get(first["next"]).json()
    assert [r["source_record_id"] for r in second["records"]] == ["S3"]
    assert second["next"] is None


def test_bad_requests(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    unknown_field = records(client, fields="source_record_id,shoe_size")
    assert unknown_field.status_code == 422
    assert unknown_field.json()["detail"] == "The school_census standard has no field(s) shoe_size"
    assert records(client, fields=" , ").status_code == 422
    assert client.get(URL.format(org=SHARED)).status_code == 422  # fields is required
    assert records(client, org="nowhere").status_code == 404
    assert records(client, version=9).status_code == 404
    assert records(client, limit=0).status_code == 422
    assert records(client, limit=100_000).status_code == 422
    assert reads(hub) == []  # none of these reached a decision
