"""Searching the audit log: each filter, record ids inside the records list, DPO scopes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, Organisation, User
from joinedup.catalog.types import utcnow
from joinedup.governance.agreements import create_draft
from joinedup.governance.audit import append_event, verify_chain
from joinedup.governance.audit_search import (
    AuditFilter,
    actions_in_log,
    iter_events,
    scope_for,
    search_events,
)
from tests.governance.conftest import Region, fsm_draft


def _org_id(session, code: str) -> int:  # type: ignore[no-untyped-def]
    return session.scalars(select(Organisation.id).where(Organisation.code == code)).one()


def _seed(region: Region) -> None:
    with session_scope(region.settings) as session:
        lam, sou = _org_id(session, "lambeth"), _org_id(session, "southwark")
        append_event(
            session,
            actor="lam-case",
            organisation_id=lam,
            action="personal_data.read",
            purpose="fsm",
            decision="allow",
            reason="allowed by agreement DSA-FSM-1",
            target_type="dataset_version",
            target_id="southwark/school-census/1",
            records=["S1", "S10", "S_2"],
            details={"agreement": "DSA-FSM-1"},
        )
        append_event(
            session,
            actor="sou-case",
            organisation_id=sou,
            action="personal_data.read",
            purpose="statistics",
            decision="deny",
            reason="no agreement",
            target_type="dataset_version",
            target_id="lambeth/housing/1",
            records=[],
        )
        append_event(
            session,
            actor="hub-dpo",
            action="objection.record",
            target_type="objection",
            target_id="1",
            records=["resident R-77", "record lambeth/housing/H%1"],
        )
        create_draft(session, fsm_draft(), session.get(User, region.users["lam-owner"]))


def _actions(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.action for e in page.events]


def test_filters_each_narrow_the_log(region: Region) -> None:
    _seed(region)
    with session_scope(region.settings) as session:
        everything = search_events(session, AuditFilter(), limit=500)
        ids = [e.id for e in everything.events]
        assert ids == sorted(ids, reverse=True) and everything.total == len(ids)

        only_s1 = search_events(session, AuditFilter(record="S1"))
        assert [e.actor for e in only_s1.events] == ["lam-case"]
        assert search_events(session, AuditFilter(record="S")).total == 0  # no substring match
        assert search_events(session, AuditFilter(record="S_2")).total == 1
        assert search_events(session, AuditFilter(record="S%2")).total == 0  # LIKE escaped
        assert _actions(search_events(session, AuditFilter(record="R-77"))) == ["objection.record"]
        assert search_events(session, AuditFilter(record="H%1")).total == 1

        assert search_events(session, AuditFilter(user="LAM-CASE")).total == 1
        sou = _org_id(session, "southwark")
        by_sou = search_events(session, AuditFilter(organisation_id=sou)).events
        assert by_sou[0].actor == "sou-case"
        assert search_events(session, AuditFilter(decision="deny")).total == 1
        assert search_events(session, AuditFilter(purpose="fsm")).total == 1
        assert _actions(search_events(session, AuditFilter(agreement="DSA-FSM-1"))) == [
            "agreement.draft",
            "personal_data.read",
        ]
        assert search_events(session, AuditFilter(action="objection.record")).total == 1
        now = utcnow()
        assert search_events(session, AuditFilter(until=now - timedelta(days=1))).total == 0
        assert search_events(session, AuditFilter(since=now - timedelta(minutes=5))).total == (
            everything.total
        )
        second = search_events(session, AuditFilter(), offset=1, limit=2)
        assert [e.id for e in second.events] == ids[1:3]
        assert [e.id for e in iter_events(session, AuditFilter(), batch=3)] == ids
        assert "personal_data.read" in actions_in_log(session)
        assert verify_chain(session) == []


def test_a_council_dpo_sees_its_people_its_data_and_its_agreements(region: Region) -> None:
    _seed(region)
    with session_scope(region.settings) as session:
        from joinedup.governance.accounts import create_user

        lam_dpo = create_user(
            session,
            username="lam-dpo",
            display_name="Lambeth DPO",
            organisation="lambeth",
            role="dpo",
            password=None,
        )
        scope = scope_for(session, lam_dpo)
        assert scope.organisation_code == "lambeth" and scope.agreements == {"DSA-FSM-1"}
        seen = search_events(session, AuditFilter(), scope, limit=500).events
        targets = {(e.actor, e.target_id) for e in seen}
        assert ("lam-case", "southwark/school-census/1") in targets  # its own people
        assert ("sou-case", "lambeth/housing/1") in targets  # a read of its data
        assert ("lam-owner", "DSA-FSM-1") in targets  # its agreement
        assert ("hub-dpo", "1") not in targets  # someone else's business
        assert all(e.action != "organisation.create" or e.target_id == "lambeth" for e in seen)

        hub_dpo = session.get(User, region.users["hub-dpo"])
        assert scope_for(session, hub_dpo).whole_log  # type: ignore[arg-type]
        total = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        assert search_events(session, AuditFilter(), scope_for(session, hub_dpo)).total == total  # type: ignore[arg-type]
