"""Ethics records: drafting, the DPO's sign-off, the rule that an agreement becomes active only
when each purpose has a signed-off record in date, and the API and pages over them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Agreement, AgreementApproval, AuditEvent, User
from joinedup.config import Settings
from joinedup.governance.agreements import AgreementError, approve, create_draft, propose
from joinedup.governance.audit import verify_chain
from joinedup.governance.ethics import (
    QUESTION_KEYS,
    EthicsError,
    activation_problem,
    draft_record,
    due_for_review,
    in_force,
    sign_off,
)
from joinedup.governance.purposes import PurposeSpec, register_purpose
from tests.governance.conftest import TODAY, Region, fsm_draft
from tests.support import csrf_of
from tests.web.conftest import SignedInFor, add_accounts

ANSWERS = {key: f"Our answer to {key}." for key in QUESTION_KEYS}
NEW = "housing-allocation"


def _users(session: Any, r: Region) -> dict[str, User]:
    return {name: session.get(User, uid) for name, uid in r.users.items()}


def _new_purpose(settings: Settings) -> None:
    with session_scope(settings) as session:
        register_purpose(session, PurposeSpec(NEW, "Housing allocation", "Allocate homes."))


def test_an_agreement_waits_for_a_signed_off_record_of_each_purpose(region: Region) -> None:
    _new_purpose(region.settings)
    with session_scope(region.settings) as session:
        users = _users(session, region)
        draft = fsm_draft(reference="DSA-NEW", purposes=("fsm", NEW))
        agreement = create_draft(session, draft, users["lam-owner"])
        propose(session, agreement, users["lam-owner"])
    # the last approval is refused, and rolled back with the refusal
    refused = pytest.raises(AgreementError, match="'housing-allocation' needs an ethics record")
    with refused, session_scope(region.settings) as session:
        agreement = session.scalars(select(Agreement)).one()
        approve(session, agreement, _users(session, region)["sou-owner"], TODAY)
    with session_scope(region.settings) as session:
        assert session.scalars(select(AgreementApproval)).all() == []
        assert session.scalars(select(Agreement)).one().status == "proposed"

    with session_scope(region.settings) as session:
        users = _users(session, region)
        review = TODAY + timedelta(days=365)
        record = draft_record(session, "purpose", NEW, ANSWERS, review, users["lam-owner"], TODAY)
        assert record.version == 1 and record.status == "draft"
        with pytest.raises(EthicsError, match="only a DPO signs off"):
            sign_off(session, record, users["sou-owner"], today=TODAY)
        agreement = session.scalars(select(Agreement)).one()
        assert activation_problem(session, agreement, TODAY)  # a draft is not enough
        sign_off(session, record, users["hub-dpo"], "checked", TODAY)
        assert in_force(session, "purpose", NEW, TODAY) is record
        assert activation_problem(session, agreement, TODAY) is None
        assert approve(session, agreement, users["sou-owner"], TODAY)
        assert agreement.status == "active"
    with session_scope(region.settings) as session:
        actions = [
            (e.action, e.actor, e.target_id)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("ethics.%")).order_by(AuditEvent.id)
            )
        ]
        assert actions == [("ethics.draft", "lam-owner", NEW), ("ethics.sign_off", "hub-dpo", NEW)]
        assert verify_chain(session) == []


def test_sign_off_rules_and_review_dates(region: Region) -> None:
    _new_purpose(region.settings)
    review = TODAY + timedelta(days=30)
    with session_scope(region.settings) as session:
        users = _users(session, region)
        with pytest.raises(EthicsError, match="answer ‘Who could be harmed’"):
            draft_record(
                session, "purpose", NEW, {**ANSWERS, "harms": " "}, review, users["lam-owner"]
            )
        with pytest.raises(EthicsError, match="review date must be in the future"):
            draft_record(session, "purpose", NEW, ANSWERS, TODAY, users["lam-owner"], TODAY)
        with pytest.raises(EthicsError, match="only data owners, analysts and DPOs"):
            draft_record(session, "purpose", NEW, ANSWERS, review, users["lam-case"], TODAY)
        first = draft_record(session, "purpose", NEW, ANSWERS, review, users["lam-owner"], TODAY)
        own = draft_record(session, "purpose", NEW, ANSWERS, review, users["hub-dpo"], TODAY)
        with pytest.raises(EthicsError, match="replaced by version 2"):
            sign_off(session, first, users["hub-dpo"], today=TODAY)
        with pytest.raises(EthicsError, match="they drafted themselves"):
            sign_off(session, own, users["hub-dpo"], today=TODAY)
        third = draft_record(session, "purpose", NEW, ANSWERS, review, users["lam-owner"], TODAY)
        assert third.version == 3
        sign_off(session, third, users["hub-dpo"], today=TODAY)
        with pytest.raises(EthicsError, match="already signed off"):
            sign_off(session, third, users["hub-dpo"], today=TODAY)
        later = review + timedelta(days=1)
        # past its review date, the record is no longer in force: it prompts re-review and
        # no agreement under the purpose can become active
        assert in_force(session, "purpose", NEW, later) is None
        assert [(r.subject, r.version) for r in due_for_review(session, later)] == [(NEW, 3)]
        assert due_for_review(session, TODAY) == []


# --- the API and the pages --------------------------------------------------------------------


def test_api_draft_and_sign_off(signed_in_for: SignedInFor, db_settings: Settings) -> None:
    add_accounts(db_settings)
    owner = signed_in_for(db_settings, "lam-owner")
    dpo = signed_in_for(db_settings, "lam-dpo")
    case = signed_in_for(db_settings, "lam-case")
    _new_purpose(db_settings)
    path = f"/api/v1/ethics/purpose/{NEW}"
    review = (date.today() + timedelta(days=200)).isoformat()

    listed = {(s["subject_type"], s["subject"]): s for s in owner.get("/api/v1/ethics").json()}
    assert listed[("purpose", NEW)]["in_force_version"] is None
    assert listed[("purpose", "fsm")]["in_force_version"] == 1  # the accounts' fixture

    assert case.post(path, json={"answers": ANSWERS, "review_date": review}).status_code == 403
    missing = owner.post(path, json={"answers": {"harms": "x"}, "review_date": review})
    assert missing.status_code == 422
    assert missing.json() == {"detail": "Answer ‘Data sources and their limitations’"}
    drafted = owner.post(path, json={"answers": ANSWERS, "review_date": review})
    assert drafted.status_code == 201, drafted.text
    body = drafted.json()
    assert body["latest_status"] == "draft" and body["may_sign_off"] is False
    assert body["objections"] == 0 and body["purposes"] == [NEW]

    assert owner.post(f"{path}/sign-off", json={"version": 1}).status_code == 403
    assert dpo.get(path).json()["may_sign_off"] is True
    signed = dpo.post(f"{path}/sign-off", json={"version": 1, "note": "fine"})
    assert signed.status_code == 200, signed.text
    assert signed.json()["in_force_version"] == 1
    assert signed.json()["versions"][0]["signed_off_by"] == "lam-dpo"
    again = dpo.post(f"{path}/sign-off", json={"version": 1})
    assert again.status_code == 409
    assert dpo.get("/api/v1/ethics/purpose/nope").status_code == 404
    assert dpo.get("/api/v1/ethics/dataset/fsm").status_code == 422


def test_pages_draft_sign_off_and_activation_refusal(
    signed_in_for: SignedInFor, db_settings: Settings
) -> None:
    add_accounts(db_settings)
    owner = signed_in_for(db_settings, "lam-owner", token=False)
    dpo = signed_in_for(db_settings, "lam-dpo", token=False)
    _new_purpose(db_settings)
    page = f"/ethics/purpose/{NEW}"
    listing = owner.get("/ethics")
    assert listing.status_code == 200 and "Housing allocation" in listing.text
    assert "No record" in listing.text
    form = owner.get(f"{page}/new")
    assert form.status_code == 200
    token = csrf_of(form.text)
    empty = owner.post(f"{page}/new", data={"csrf_token": token}, follow_redirects=False)
    assert empty.status_code == 422
    assert 'href="#data_sources"' in empty.text and 'href="#review_date-day"' in empty.text
    review = date.today() + timedelta(days=100)
    data = {
        **ANSWERS,
        "review_date-day": str(review.day),
        "review_date-month": str(review.month),
        "review_date-year": str(review.year),
        "csrf_token": token,
    }
    saved = owner.post(f"{page}/new", data=data, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{page}?done=drafted"
    shown = dpo.get(page)
    assert "Awaiting sign-off" in shown.text and "Sign off version 1" in shown.text
    assert "objections in force" in shown.text
    signed = dpo.post(
        f"{page}/sign-off",
        data={"version": "1", "note": "ok", "csrf_token": csrf_of(shown.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert "Signed off" in dpo.get(page).text
    home = dpo.get("/")
    assert "Sign off and review ethics records" in home.text
