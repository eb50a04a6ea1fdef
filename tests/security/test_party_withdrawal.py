"""One party can withdraw from a multi-party agreement without ending it for the others
(issue 15, finding 8).

Before, the only way out was revocation, which ended the agreement for every party. Now a
party's data owner withdraws their organisation: its data stops being shared and it receives
nothing, at once; the other parties go on; and a withdrawal that would leave nothing to share
is refused (revoke instead).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, User
from joinedup.governance.agreements import DataShare, approve, create_draft, propose
from joinedup.governance.audit import verify_chain
from tests.security.conftest import (
    DATASET,
    OTHER,
    READ_FIELDS,
    SHARED,
    SHARED_FIELDS,
    Hub,
    fsm_agreement,
)

MULTI = "DSA-MULTI-1"


def _records(client: object, organisation: str) -> int:
    url = f"/api/v1/datasets/{organisation}/{DATASET}/records?fields={READ_FIELDS}"
    return client.get(url).status_code  # type: ignore[attr-defined]


def _multi_party(hub: Hub) -> None:
    today = date.today()
    draft = fsm_agreement(
        today,
        reference=MULTI,
        providers=(SHARED, OTHER),
        data=tuple(
            DataShare(provider=o, dataset=DATASET, fields=SHARED_FIELDS) for o in (SHARED, OTHER)
        ),
    )
    with session_scope(hub.settings) as session:
        owners = {
            u.username: u
            for u in session.scalars(
                select(User).where(User.username.in_(["lam-owner", "sou-owner", "cro-owner"]))
            )
        }
        agreement = create_draft(session, draft, owners["lam-owner"])
        propose(session, agreement, owners["lam-owner"])
        approve(session, agreement, owners["sou-owner"], today)
        assert approve(session, agreement, owners["cro-owner"], today)


def test_a_party_withdraws_and_the_agreement_goes_on_for_the_others(hub: Hub) -> None:
    _multi_party(hub)
    analyst = hub.signed_in("lam-analyst")
    assert _records(analyst, SHARED) == 200 and _records(analyst, OTHER) == 200
    croydon = hub.signed_in("cro-owner")
    no_reason = croydon.post(f"/api/v1/agreements/{MULTI}/leave", json={"reason": ""})
    assert no_reason.status_code == 422
    left = croydon.post(f"/api/v1/agreements/{MULTI}/leave", json={"reason": "DPIA withdrawn"})
    assert left.status_code == 200, left.text
    body = left.json()
    assert body["status"] == "active"
    assert {p["code"]: p["withdrawn"] for p in body["providers"]} == {SHARED: False, OTHER: True}
    # at once: Croydon's data is no longer shared, Southwark's still is
    assert _records(analyst, OTHER) == 403
    assert _records(analyst, SHARED) == 200
    # Croydon cannot act for the agreement any more; Southwark cannot leave it empty
    again = croydon.post(f"/api/v1/agreements/{MULTI}/leave", json={"reason": "again"})
    assert again.status_code == 403
    southwark = hub.signed_in("sou-owner")
    last = southwark.post(f"/api/v1/agreements/{MULTI}/leave", json={"reason": "no"})
    assert last.status_code == 409 and "revoke" in last.json()["detail"]
    with session_scope(hub.settings) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "agreement.party_withdraw")
        ).all()
        assert [(e.actor, e.target_id) for e in events] == [("cro-owner", MULTI)]
        assert verify_chain(session) == []


def test_the_agreement_page_offers_withdrawal(hub: Hub) -> None:
    _multi_party(hub)
    croydon = hub.signed_in("cro-owner")
    page = croydon.get(f"/agreements/{MULTI}")
    assert page.status_code == 200 and "Withdraw from agreement" in page.text
    form = croydon.get(f"/agreements/{MULTI}/leave")
    assert form.status_code == 200 and "goes on for the other parties" in form.text
    done = croydon.post(
        f"/agreements/{MULTI}/leave", data={"reason": "no longer needed"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=left")
    shown = hub.signed_in("lam-owner").get(f"/agreements/{MULTI}").text
    assert "Croydon (withdrew)" in shown
    # a two-party agreement cannot be left, only revoked
    two = hub.signed_in("sou-owner").get("/agreements/DSA-FSM-1/leave")
    assert two.status_code == 403
