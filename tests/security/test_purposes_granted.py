"""Purposes are granted, not claimed (issue 15, finding 3).

Before the register, a caseworker could send ``X-Joinedup-Purpose: fraud-prevention`` (a
purpose nobody may object to) or ``subject-access`` (the DPO's) and read under it, and every
personal-data role could act under all six purposes. Now a request under a purpose the purpose
grants register does not give the caller's role in their organisation is refused, and the
refusal is audited; ``subject-access`` belongs to DPOs alone; data owners grant within their
own organisation and DPOs in any; a revoked grant is refused from the next request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from typer.testing import CliRunner

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.governance.audit import verify_chain
from joinedup.web.auth import PURPOSE_HEADER
from tests.security.conftest import DATASET, OWN, READ_FIELDS, SAR, SHARED, Hub
from tests.support import choose_purpose, csrf_of

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

FRAUD = "fraud-prevention"
RECORDS = f"/api/v1/datasets/{OWN}/{DATASET}/records?fields={READ_FIELDS}"


def _token_client(hub: Hub, username: str, purpose: str) -> TestClient:
    client = hub.client()
    client.headers["Authorization"] = f"Bearer {hub.token(username)}"
    client.headers[PURPOSE_HEADER] = purpose
    return client


def _refusals(hub: Hub) -> list[AuditEvent]:
    with session_scope(hub.settings) as session:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "auth.purpose_refused")
                .order_by(AuditEvent.id)
            )
        )
        session.expunge_all()
        return rows


def test_a_claimed_purpose_is_refused_and_the_refusal_audited(hub: Hub) -> None:
    granted = _token_client(hub, "lam-case", "fsm")
    assert granted.get(RECORDS).status_code == 200
    for username, purpose in (
        ("lam-case", FRAUD),  # nobody is granted fraud prevention yet
        ("lam-case", SAR),  # the DPO's purpose
        ("lam-analyst", SAR),
        ("lam-owner", SAR),
        ("lam-dpo", "fsm"),  # DPOs answer rights requests; they are not granted fsm here
        ("admin", "fsm"),  # hub admins never act under a purpose
    ):
        response = _token_client(hub, username, purpose).get(RECORDS)
        assert response.status_code == 403, (username, purpose, response.text)
        assert "not granted" in response.json()["detail"]
    refused = _refusals(hub)
    assert [(e.actor, e.purpose, e.decision) for e in refused] == [
        ("lam-case", FRAUD, "deny"),
        ("lam-case", SAR, "deny"),
        ("lam-analyst", SAR, "deny"),
        ("lam-owner", SAR, "deny"),
        ("lam-dpo", "fsm", "deny"),
        ("admin", "fsm", "deny"),
    ]
    with session_scope(hub.settings) as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "personal_data.read")
        ).all()
        assert {e.purpose for e in reads} == {"fsm"}  # nothing was read under a false purpose
        assert verify_chain(session) == []
    dpo = _token_client(hub, "lam-dpo", SAR)
    assert dpo.get(RECORDS).status_code == 200  # the DPO's own purpose


def test_a_session_chooses_only_a_granted_purpose(hub: Hub) -> None:
    client = hub.signed_in("lam-case", None)
    page = client.get("/purpose").text
    assert 'value="fsm"' in page and 'value="early-help"' in page
    assert f'value="{FRAUD}"' not in page and f'value="{SAR}"' not in page
    refused = choose_purpose(client, FRAUD)
    assert refused.status_code == 403
    assert "not granted" in refused.text
    assert client.get(f"/datasets/{OWN}/{DATASET}", follow_redirects=False).status_code == 200
    assert [e.purpose for e in _refusals(hub)] == [FRAUD]


def test_data_owners_grant_within_their_organisation_and_revocation_is_immediate(
    hub: Hub,
) -> None:
    owner = hub.signed_in("lam-owner")
    caseworker = _token_client(hub, "lam-case", FRAUD)
    assert caseworker.get(RECORDS).status_code == 403
    grant = {"purpose": FRAUD, "role": "caseworker", "organisation": OWN}
    made = owner.post("/api/v1/purposes/grants", json=grant)
    assert made.status_code == 201, made.text
    assert made.json()["granted_by"] == "lam-owner"
    assert caseworker.get(RECORDS).status_code == 200
    # the grant is Lambeth's: a Lambeth caseworker reading Southwark's census under fraud
    # prevention still needs an agreement that covers it
    shared = f"/api/v1/datasets/{SHARED}/{DATASET}/records?fields={READ_FIELDS}"
    assert caseworker.get(shared).status_code == 403
    register = caseworker.get("/api/v1/purposes/grants").json()
    assert FRAUD in register["yours"] and SAR not in register["yours"]
    # a data owner cannot grant in another organisation, nor for every organisation
    for organisation in (SHARED, None):
        other = owner.post("/api/v1/purposes/grants", json={**grant, "organisation": organisation})
        assert other.status_code == 403, other.text
    # nobody grants subject-access to another role, nor anything to hub admins
    dpo = hub.signed_in("lam-dpo")
    sar = dpo.post("/api/v1/purposes/grants", json={"purpose": SAR, "role": "analyst"})
    assert sar.status_code == 422 and "DPO" in sar.json()["detail"].upper()
    admin = dpo.post("/api/v1/purposes/grants", json={"purpose": "fsm", "role": "hub_admin"})
    assert admin.status_code == 422
    again = owner.post("/api/v1/purposes/grants", json=grant)
    assert again.status_code == 409
    # analysts and caseworkers do not manage grants
    assert (
        hub.signed_in("lam-analyst").post("/api/v1/purposes/grants", json=grant).status_code == 403
    )
    revoked = owner.post("/api/v1/purposes/grants/revoke", json=grant)
    assert revoked.status_code == 200, revoked.text
    assert caseworker.get(RECORDS).status_code == 403
    with session_scope(hub.settings) as session:
        actions = [
            (e.action, e.actor, e.details)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("purpose.grant%"))
            )
            if e.actor == "lam-owner"
        ]
    assert actions == [
        ("purpose.grant", "lam-owner", {"role": "caseworker", "organisation": OWN}),
        ("purpose.grant_revoke", "lam-owner", {"role": "caseworker", "organisation": OWN}),
    ]


def test_a_session_under_a_revoked_grant_is_sent_to_choose_again(hub: Hub) -> None:
    analyst = hub.signed_in("lam-analyst", "statistics")
    page = f"/api/v1/datasets/{OWN}/{DATASET}/records?fields={READ_FIELDS}"
    assert analyst.get(page).status_code == 200
    dpo = hub.signed_in("lam-dpo")
    gone = dpo.post(
        "/api/v1/purposes/grants/revoke", json={"purpose": "statistics", "role": "analyst"}
    )
    assert gone.status_code == 200, gone.text
    refused = analyst.get(page)
    assert refused.status_code == 403 and PURPOSE_HEADER in refused.json()["detail"]
    flags = analyst.get("/worklist", follow_redirects=False)
    assert flags.status_code in (303, 403)
    if flags.status_code == 303:
        assert flags.headers["location"].startswith("/purpose")


def test_the_grants_page_lists_and_changes_the_register(hub: Hub) -> None:
    owner = hub.signed_in("lam-owner")
    page = owner.get("/purposes/grants")
    assert page.status_code == 200
    assert "Every organisation" in page.text and f"<code>{SAR}</code>" in page.text
    form = {"csrf_token": csrf_of(page.text), "purpose": FRAUD, "role": "caseworker"}
    made = owner.post(
        "/purposes/grants", data={**form, "organisation": OWN}, follow_redirects=False
    )
    assert made.status_code == 303 and made.headers["location"].endswith("done=granted")
    listed = owner.get("/purposes/grants?done=granted").text
    assert "The grant was made" in listed and "Revoke fraud-prevention for caseworker" in listed
    elsewhere = owner.post("/purposes/grants", data={**form, "organisation": SHARED})
    assert elsewhere.status_code == 403 and "own organisation" in elsewhere.text
    caseworker = hub.signed_in("lam-case")
    seen = caseworker.get("/purposes/grants")
    assert seen.status_code == 200 and "Grant a purpose" not in seen.text
    assert caseworker.post("/purposes/grants", data=form).status_code == 403


def test_the_cli_lists_grants_and_revokes(hub: Hub) -> None:
    from joinedup.cli import app

    runner = CliRunner()
    env = {"JOINEDUP_HOME": str(hub.settings.home), "COLUMNS": "200"}
    made = runner.invoke(
        app, ["purpose", "grant", FRAUD, "--role", "analyst", "--org", OWN], env=env
    )
    assert made.exit_code == 0, made.output
    listed = runner.invoke(app, ["purpose", "grants"], env=env)
    assert (
        listed.exit_code == 0 and FRAUD in listed.output and "every organisation" in listed.output
    )
    refused = runner.invoke(app, ["purpose", "grant", SAR, "--role", "caseworker"], env=env)
    assert refused.exit_code == 1 and "dpo role alone" in refused.output.lower()
    assert _token_client(hub, "lam-analyst", FRAUD).get(RECORDS).status_code == 200
    gone = runner.invoke(
        app, ["purpose", "revoke", FRAUD, "--role", "analyst", "--org", OWN], env=env
    )
    assert gone.exit_code == 0, gone.output
    assert _token_client(hub, "lam-analyst", FRAUD).get(RECORDS).status_code == 403
