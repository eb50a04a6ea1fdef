"""The governance JSON API: agreements and their lifecycle, purposes, the audit log,
objections, organisations and users; token scopes, roles and clear 4xx errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.config import Settings
from joinedup.governance.accounts import authenticate
from tests.web.conftest import Accounts, add_accounts

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

API = "/api/v1"
BODY: dict[str, Any] = {
    "reference": "DSA-API-1",
    "title": "Council tax and census for FSM",
    "providers": ["lambeth", "southwark"],
    "recipients": ["lambeth"],
    "data": [
        {"provider": "lambeth", "dataset": "council-tax"},
        {"provider": "southwark", "standard": "school_census", "fields": ["given_name"]},
    ],
    "purposes": ["fsm"],
    "lawful_basis": "UK GDPR Article 6(1)(e): public task",
    "dpia_reference": "DPIA-9",
    "start_date": "2026-01-01",
    "expiry_date": "2030-12-31",
    "retention": "Two years",
}


class Api:
    """Calls as a user, with a token of the given scopes."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, params=params, headers=self.headers)

    def post(self, path: str, body: Any = None) -> Any:
        return self.client.post(API + path, json=body, headers=self.headers)


@pytest.fixture
def accounts(db_settings: Settings) -> Accounts:
    return add_accounts(db_settings)


@pytest.fixture
def as_user(client_for: Any, db_settings: Settings, accounts: Accounts) -> Any:
    client = client_for(db_settings)

    def make(username: str, *scopes: str) -> Api:
        return Api(client, accounts.token(username, scopes or ("read", "governance", "admin")))

    return make


def test_agreement_lifecycle(as_user: Any, db_settings: Settings) -> None:
    lam = as_user("lam-owner", "read", "governance")
    sou = as_user("sou-owner", "read", "governance")

    created = lam.post("/agreements", BODY)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{API}/agreements/DSA-API-1"
    draft = created.json()
    assert draft["status"] == "draft" and draft["actions"] == ["propose", "revoke"]
    assert draft["data"][1] == {
        "provider": "southwark",
        "provider_name": "Southwark",
        "dataset": None,
        "standard": "school_census",
        "fields": ["given_name"],
    }
    assert [p["code"] for p in draft["providers"]] == ["lambeth", "southwark"]

    assert lam.post("/agreements/DSA-API-1/propose").json()["status"] == "proposed"
    approved = sou.post("/agreements/DSA-API-1/approve").json()
    assert approved["status"] == "proposed" and approved["awaiting_approval"] == ["lambeth"]
    twice = sou.post("/agreements/DSA-API-1/approve")
    assert twice.status_code == 409
    assert twice.json() == {"detail": "Your organisation has already approved this agreement"}
    active = lam.post("/agreements/DSA-API-1/approve").json()
    assert active["status"] == "active" and active["effective_status"] == "active"
    assert [a["organisation"] for a in active["approvals"]] == ["southwark", "lambeth"]

    listed = lam.get("/agreements").json()
    assert [(a["reference"], a["effective_status"]) for a in listed] == [("DSA-API-1", "active")]

    no_reason = sou.post("/agreements/DSA-API-1/revoke", {"reason": ""})
    assert no_reason.status_code == 422
    revoked = sou.post("/agreements/DSA-API-1/revoke", {"reason": "Superseded"})
    assert revoked.status_code == 200
    detail = revoked.json()
    assert detail["status"] == "revoked" and detail["actions"] == []
    assert [(h["from_status"], h["to_status"], h["user"]) for h in detail["history"]] == [
        ("draft", "draft", "lam-owner"),
        ("draft", "proposed", "lam-owner"),
        ("proposed", "active", "lam-owner"),
        ("active", "revoked", "sou-owner"),
    ]
    again = sou.post("/agreements/DSA-API-1/revoke", {"reason": "Again"})
    assert again.status_code == 409
    assert again.json()["detail"] == "The agreement is already revoked"

    with session_scope(db_settings) as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target_id == "DSA-API-1")
            .order_by(AuditEvent.id)
        ).all()
        assert actions == [
            "agreement.draft",
            "agreement.proposed",
            "agreement.approve",
            "agreement.approve",
            "agreement.active",
            "agreement.revoked",
        ]


def test_agreement_errors(as_user: Any, client_for: Any, db_settings: Settings) -> None:
    lam = as_user("lam-owner", "read", "governance")
    reader = as_user("lam-owner", "read")
    case = as_user("lam-case", "read", "governance")

    anonymous = client_for(db_settings)
    assert anonymous.get(f"{API}/agreements").status_code == 401
    assert reader.post("/agreements", BODY).status_code == 403  # no governance scope
    refused = case.post("/agreements", BODY)
    assert refused.status_code == 403 and refused.json() == {
        "detail": "Your role does not allow this"
    }
    assert lam.get("/agreements/NOPE").status_code == 404
    assert lam.post("/agreements/NOPE/propose").json() == {"detail": "No agreement 'NOPE'"}

    backwards = lam.post("/agreements", {**BODY, "expiry_date": "2025-01-01"})
    assert backwards.status_code == 422
    assert backwards.json() == {"detail": "The expiry date must be after the start date"}
    bad_fields = lam.post(
        "/agreements", {**BODY, "data": [{"provider": "lambeth", "fields": ["=cmd"]}]}
    )
    assert bad_fields.status_code == 422
    assert [(e["loc"], e["msg"][:27]) for e in bad_fields.json()["detail"]] == [
        (["body", "data", 0, "fields", 0], "A field name is lower-case ")
    ]
    assert lam.post("/agreements", {**BODY, "reference": "a/b"}).status_code == 422
    assert lam.post("/agreements", {"reference": "x"}).status_code == 422  # missing fields
    not_ours = lam.post(
        "/agreements",
        {
            **BODY,
            "providers": ["southwark"],
            "recipients": ["hub"],
            "data": [{"provider": "southwark"}],
        },
    )
    assert not_ours.status_code == 403
    assert (
        not_ours.json()["detail"] == "Your organisation (Lambeth) must be a provider or a recipient"
    )

    assert lam.post("/agreements", BODY).status_code == 201
    approve_own_draft = as_user("sou-owner", "read", "governance").post(
        "/agreements/DSA-API-1/approve"
    )
    assert approve_own_draft.status_code == 409
    assert approve_own_draft.json()["detail"] == (
        "Only a proposed agreement can be approved; it is draft"
    )
    dpo = as_user("lam-dpo", "read", "governance")
    assert dpo.post("/agreements/DSA-API-1/approve").status_code == 403  # data owners approve
    outsider = as_user("hub-dpo", "read", "governance").post("/agreements/DSA-API-1/propose")
    assert outsider.status_code == 403
    assert outsider.json()["detail"] == (
        "Only a data owner or DPO of a party can propose an agreement"
    )


def test_a_session_needs_the_csrf_header_for_changes(
    signed_in_for: Any, db_settings: Settings
) -> None:
    add_accounts(db_settings)
    browser = signed_in_for(db_settings, "lam-owner", token=False)
    assert browser.get(f"{API}/agreements").status_code == 200
    forged = browser.post(f"{API}/agreements", json=BODY, headers={"X-CSRF-Token": "nope"})
    assert forged.status_code == 403
    assert browser.post(f"{API}/agreements", json=BODY).status_code == 201  # real header


def test_purposes(as_user: Any) -> None:
    reader = as_user("lam-case", "read")
    codes = [p["code"] for p in reader.get("/purposes").json()]
    assert "fsm" in codes and "early-help" in codes
    early = next(p for p in reader.get("/purposes").json() if p["code"] == "early-help")
    assert early["objection_allowed"] is False and early["special_category_condition"]

    new = {"code": "housing", "name": "Housing allocation", "objection_allowed": False}
    assert as_user("lam-owner").post("/purposes", new).status_code == 403
    admin = as_user("admin", "read", "governance")
    created = admin.post("/purposes", new)
    assert created.status_code == 201
    assert created.json()["lawful_basis"] == "UK GDPR Article 6(1)(e): public task"
    assert admin.post("/purposes", new).status_code == 409
    assert admin.post("/purposes", {**new, "code": "Bad code"}).status_code == 422
    assert as_user("admin", "read").post("/purposes", new).status_code == 403  # scope


def test_audit_events_and_verify(as_user: Any) -> None:
    lam = as_user("lam-owner", "read", "governance")
    lam.post("/agreements", BODY)
    dpo = as_user("hub-dpo", "read")
    page = dpo.get("/audit/events", agreement="DSA-API-1")
    assert page.status_code == 200
    found = page.json()
    assert found["total"] == 1 and found["page"] == 1
    event = found["events"][0]
    assert (event["actor"], event["organisation"], event["action"]) == (
        "lam-owner",
        "lambeth",
        "agreement.draft",
    )
    assert event["records_count"] == 0 and event["details"]["to"] == "draft"
    assert dpo.get("/audit/events", user="lam-owner", page_size=1).json()["page_size"] == 1
    assert dpo.get("/audit/events", decision="maybe").status_code == 422
    assert dpo.get("/audit/events", organisation="atlantis").status_code == 422
    assert dpo.get("/audit/events", date_from="2026-02-30").status_code == 422
    views = dpo.get("/audit/events", action="audit.view").json()
    assert views["total"] == 2  # every read of the log is in the log (refused ones are not reads)
    assert dpo.get("/audit/verify").json()["intact"] is True
    assert as_user("lam-owner", "read").get("/audit/events").status_code == 403
    assert as_user("lam-owner", "read").get("/audit/verify").status_code == 403
    assert as_user("hub-dpo", "governance").get("/audit/events").status_code == 403  # scope


def test_objections(as_user: Any) -> None:
    dpo = as_user("hub-dpo", "read", "governance")
    created = dpo.post("/objections", {"resident_id": "R-1", "note": "phone call"})
    assert created.status_code == 201
    objection = created.json()
    assert objection["subject"] == "resident R-1" and objection["purpose"] is None
    assert objection["purpose_name"] == "Every purpose that allows objection"
    refused = dpo.post("/objections", {"resident_id": "R-1", "purpose": "fraud-prevention"})
    assert refused.status_code == 422
    assert refused.json() == {
        "detail": "Residents cannot object to Fraud prevention: its lawful basis does not allow it"
    }
    nobody = dpo.post("/objections", {"organisation": "lambeth"})
    assert nobody.json() == {"detail": "Name the resident by resident id or by one source record"}
    by_record = dpo.post(
        "/objections",
        {"organisation": "lambeth", "dataset": "ct", "source_record_id": "9", "purpose": "fsm"},
    ).json()
    assert by_record["subject"] == "record lambeth/ct/9"
    listed = dpo.get("/objections").json()
    assert [o["id"] for o in listed] == [by_record["id"], objection["id"]]
    withdrawn = dpo.post(f"/objections/{objection['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_by"] == "hub-dpo"
    assert dpo.post(f"/objections/{objection['id']}/withdraw").status_code == 409
    assert dpo.post("/objections/424242/withdraw").status_code == 404
    owner = as_user("lam-owner")
    assert owner.get("/objections").status_code == 403
    assert owner.post("/objections", {"resident_id": "R-2"}).status_code == 403


def test_organisations_and_users(as_user: Any, db_settings: Settings) -> None:
    admin = as_user("admin", "read", "admin")
    orgs = admin.get("/organisations").json()
    assert {o["code"] for o in orgs} >= {"lambeth", "southwark", "hub"}
    bad = admin.post("/organisations", {"code": "lewisham", "name": "Lewisham", "gss_code": "X1"})
    assert bad.status_code == 422
    [error] = bad.json()["detail"]  # the model's rule (stated in the OpenAPI document)
    assert error["loc"] == ["body", "gss_code"] and "GSS code" in error["msg"]
    nameless = admin.post("/organisations", {"code": "lewisham", "name": " ", "type": "other"})
    assert nameless.json()["detail"][0]["msg"] == "Enter the organisation's name"
    council = admin.post("/organisations", {"code": "lewisham", "name": "L", "gss_code": None})
    assert council.status_code == 422 and "council's GSS code" in council.json()["detail"]
    orphan = {"username": "lew-x", "display_name": "X", "organisation": "nowhere", "role": "dpo"}
    assert admin.post("/users", orphan).status_code == 404  # no such organisation
    made = admin.post(
        "/organisations", {"code": "lewisham", "name": "Lewisham", "gss_code": "E09000023"}
    )
    assert made.status_code == 201 and made.json()["type"] == "council"
    assert admin.post("/organisations", {"code": "lewisham", "name": "L"}).status_code in (409, 422)

    created = admin.post(
        "/users",
        {
            "username": "lew-owner",
            "display_name": "Lew Owner",
            "organisation": "lewisham",
            "role": "data_owner",
        },
    )
    assert created.status_code == 201
    password = created.json()["password"]
    assert created.json()["user"]["organisation"] == "lewisham"
    assert (
        admin.post(
            "/users",
            {"username": "x", "display_name": "X", "organisation": "lewisham", "role": "king"},
        ).status_code
        == 422
    )
    with session_scope(db_settings) as session:
        assert authenticate(session, "lew-owner", password, "test").user is not None
    assert any(u["username"] == "lew-owner" for u in admin.get("/users").json())
    off = admin.post("/users/lew-owner/deactivate")
    assert off.status_code == 200 and off.json()["active"] is False
    assert admin.post("/users/lew-owner/deactivate").status_code == 409
    assert admin.post("/users/nobody/deactivate").status_code == 404

    assert (
        as_user("admin", "read").post("/organisations", {"code": "zz", "name": "Z"}).status_code
        == 403
    )
    for username in ("lam-owner", "hub-dpo"):
        other = as_user(username)
        assert other.get("/organisations").status_code == 403
        assert other.get("/users").status_code == 403
        assert other.post("/users/lam-case/deactivate").status_code == 403


def test_openapi_documents_the_governance_api(client_for: Any, db_settings: Settings) -> None:
    spec = client_for(db_settings).get("/openapi.json").json()
    assert "governance" in {t["name"] for t in spec["tags"]}
    ops = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "governance" in op.get("tags", [])
    }
    assert ("POST", "/api/v1/agreements/{reference}/approve") in ops
    assert ("GET", "/api/v1/audit/events") in ops
    assert ("POST", "/api/v1/purposes/grants") in ops
    assert ("POST", "/api/v1/purposes/grants/revoke") in ops
    assert ("POST", "/api/v1/agreements/{reference}/leave") in ops
    assert len(ops) == 23
    approve = spec["paths"]["/api/v1/agreements/{reference}/approve"]["post"]
    assert approve["x-joinedup-access"] == "role:data_owner"
