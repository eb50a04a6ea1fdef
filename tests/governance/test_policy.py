from datetime import date

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Agreement, AuditEvent, Organisation, User
from joinedup.governance.access import AccessDenied, Actor, read_records
from joinedup.governance.agreements import revoke
from joinedup.governance.audit import verify_chain
from joinedup.governance.grants import grant_purpose
from joinedup.governance.objections import ObjectionSubject, record_objection
from joinedup.governance.policy import AccessRequest, Policy, decide
from tests.governance.conftest import TODAY, Region

FIELDS = ("source_record_id", "given_name", "fsm_eligible")


def _request(region: Region, username: str, purpose: str = "fsm", fields=FIELDS, today=TODAY):
    with session_scope(region.settings) as session:
        user = session.get(User, region.users[username])
        southwark = session.scalars(
            select(Organisation).where(Organisation.code == "southwark")
        ).one()
        return AccessRequest(
            user_id=user.id,
            organisation_id=user.organisation_id,
            purpose=purpose,
            provider_id=southwark.id,
            dataset="school-census",
            standard="school_census",
            fields=tuple(fields),
            today=today,
        )


def _decide(region: Region, **kw):
    req = _request(region, **kw)
    with session_scope(region.settings) as session:
        return decide(session, req)


def test_without_an_agreement_other_councils_are_denied(region: Region) -> None:
    decision = _decide(region, username="lam-case")
    assert not decision.allow
    assert decision.reason == "no agreement shares southwark's data with lambeth"


def test_own_data_is_allowed_without_an_agreement(region: Region) -> None:
    decision = _decide(region, username="sou-case")
    assert decision.allow and decision.agreement_id is None
    assert "own data" in decision.reason


def test_active_agreement_allows_its_fields_purpose_and_parties(
    active_fsm_agreement: Region,
) -> None:
    r = active_fsm_agreement
    allowed = _decide(r, username="lam-case")
    assert allowed.allow and allowed.agreement_reference == "DSA-FSM-1"
    wider = _decide(r, username="lam-case", fields=(*FIELDS, "date_of_birth", "postcode"))
    assert not wider.allow
    assert wider.reason == "agreement DSA-FSM-1 does not share field(s) date_of_birth, postcode"
    assert wider.fields == FIELDS
    ungranted = _decide(r, username="lam-case", purpose="fraud-prevention")
    assert ungranted.reason == "the role caseworker is not granted the purpose fraud-prevention"
    with session_scope(r.settings) as session:
        grant_purpose(session, "fraud-prevention", "caseworker", "lambeth", None)
    other_purpose = _decide(r, username="lam-case", purpose="fraud-prevention")
    assert other_purpose.reason == "agreement DSA-FSM-1 does not cover the purpose fraud-prevention"
    assert not _decide(r, username="food-case").allow
    admin = _decide(r, username="hub-admin")
    assert admin.reason == "the role hub_admin does not read personal data"
    unknown = _decide(r, username="lam-case", purpose="curiosity")
    assert unknown.reason == "no registered purpose 'curiosity'"


def test_one_policy_per_request_gives_the_decisions_decide_gives(
    active_fsm_agreement: Region,
) -> None:
    """A page deciding many reads uses one Policy (ADR 0033): each of its decisions, for any
    provider and fields, is exactly the one :func:`decide` gives for the same request."""
    r = active_fsm_agreement
    with session_scope(r.settings) as session:
        providers = [o.id for o in session.scalars(select(Organisation).order_by(Organisation.id))]
    field_sets = [FIELDS, FIELDS[:1], (*FIELDS, "postcode"), ("date_of_birth",)]
    for username in ("lam-case", "sou-case", "food-case", "hub-admin"):
        for purpose in ("fsm", "fraud-prevention", "curiosity"):
            base = _request(r, username, purpose)
            with session_scope(r.settings) as session:
                policy = Policy(session, base.user_id, base.organisation_id, purpose, TODAY)
                for provider in providers:
                    for fields in field_sets:
                        req = AccessRequest(
                            base.user_id,
                            base.organisation_id,
                            purpose,
                            provider,
                            "school-census",
                            "school_census",
                            fields,
                            TODAY,
                        )
                        got = policy.decide(provider, "school-census", "school_census", fields)
                        assert got == decide(session, req), (username, purpose, provider, fields)


def test_expired_and_revoked_agreements_stop_access_at_once(active_fsm_agreement: Region) -> None:
    r = active_fsm_agreement
    expired = _decide(r, username="lam-case", today=date(2028, 1, 1))
    assert expired.reason == "agreement DSA-FSM-1 is expired (expired 2027-12-31)"
    early = _decide(r, username="lam-case", today=date(2025, 6, 1))
    assert early.reason == "agreement DSA-FSM-1 is not yet started (starts 2026-01-01)"
    with session_scope(r.settings) as session:
        agreement = session.scalars(select(Agreement)).one()
        revoke(session, agreement, session.get(User, r.users["sou-owner"]), "DPIA withdrawn")
    assert _decide(r, username="lam-case").reason == "agreement DSA-FSM-1 is revoked"


def _actor(region: Region, username: str, purpose: str | None = "fsm") -> Actor:
    user = region.user(username)
    return Actor(user.id, user.username, user.organisation_id, user.role, purpose)


def _reads(region: Region) -> list[AuditEvent]:
    with session_scope(region.settings) as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "personal_data.read")
            .order_by(AuditEvent.id)
        ).all()
        session.expunge_all()
        return list(rows)


def test_reads_go_through_the_decision_and_are_audited(active_fsm_agreement: Region) -> None:
    r = active_fsm_agreement
    table = read_records(
        r.settings,
        _actor(r, "lam-case"),
        organisation="southwark",
        dataset="school-census",
        fields=list(FIELDS),
        today=TODAY,
    )
    assert table.column_names == list(FIELDS)
    assert table.column("source_record_id").to_pylist() == ["S1", "S2", "S3"]
    with pytest.raises(AccessDenied, match="does not share field"):
        read_records(
            r.settings,
            _actor(r, "lam-case"),
            organisation="southwark",
            dataset="school-census",
            fields=["date_of_birth"],
            today=TODAY,
        )
    allow, deny = _reads(r)
    assert (allow.decision, allow.purpose, allow.records) == ("allow", "fsm", ["S1", "S2", "S3"])
    assert allow.details["agreement"] == "DSA-FSM-1"
    assert (deny.decision, deny.records) == ("deny", [])
    assert "date_of_birth" in deny.reason
    with session_scope(r.settings) as session:
        assert verify_chain(session) == []


def test_no_purpose_no_data(active_fsm_agreement: Region) -> None:
    r = active_fsm_agreement
    with pytest.raises(AccessDenied, match="choose the purpose"):
        read_records(
            r.settings,
            _actor(r, "lam-case", purpose=None),
            organisation="southwark",
            dataset="school-census",
            fields=["given_name"],
        )


def test_objections_exclude_records_for_objectable_purposes_only(
    active_fsm_agreement: Region,
) -> None:
    r = active_fsm_agreement
    with session_scope(r.settings) as session:
        dpo = session.get(User, r.users["hub-dpo"])
        subject = ObjectionSubject(
            organisation="southwark", dataset="school-census", source_record_id="S2"
        )
        record_objection(session, subject, "fsm", dpo, "parent objected by letter")
    table = read_records(
        r.settings,
        _actor(r, "lam-case"),
        organisation="southwark",
        dataset="school-census",
        fields=list(FIELDS),
        today=TODAY,
    )
    assert table.column("source_record_id").to_pylist() == ["S1", "S3"]
    own = read_records(
        r.settings,
        _actor(r, "sou-case", purpose="early-help"),
        organisation="southwark",
        dataset="school-census",
        fields=list(FIELDS),
    )
    assert own.column("source_record_id").to_pylist() == ["S1", "S2", "S3"]
