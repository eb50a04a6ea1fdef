"""Insight end to end on a small synthetic region, and the flags API over it (slow: the region
is generated, ingested and linked once per session)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import (
    Agreement,
    AuditEvent,
    FlagAction,
    InsightRun,
    Snapshot,
    User,
)
from joinedup.governance.access import AccessDenied, Actor, NotFound
from joinedup.governance.agreements import revoke
from joinedup.governance.objections import ObjectionSubject, record_objection
from joinedup.insight.flags import FlagFilter, get_flag, list_flags, record_action
from joinedup.insight.run import RunOptions, run_insight
from tests.regions import Region
from tests.support import signed_in

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow
FSM = "fsm-eligible-not-registered"


@pytest.fixture(scope="module")
def demo_home(private_demo: Region) -> Region:
    """These tests record actions and objections, re-run rules and revoke an agreement: on a
    copy, so the other modules' shared region stays as the demo left it."""
    return private_demo


def actor(home: Region, username: str, purpose: str | None) -> Actor:
    with session_scope(home.settings) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return Actor(user.id, user.username, user.organisation_id, user.role, purpose)


def test_demo_runs_the_rules_and_finds_the_under_claimed_children(demo_home: Region) -> None:
    result = demo_home.insight
    rules = {r["id"]: r for r in result["rules"]}  # type: ignore[index, union-attr]
    assert set(rules) >= {FSM, "school-outside-home-borough", "spd-other-adults"}
    assert rules[FSM]["version_in_force"] == "fsm-2026"
    assert rules[FSM]["flags"] > 0
    assert rules["school-outside-home-borough"]["flags"] > 0
    # precision and recall against the generator's truth
    assert result["fsm_precision"] >= 0.9, result
    assert result["fsm_recall_discoverable"] >= 0.9, result
    evaluation = result["fsm_evaluation"]
    assert evaluation["cross_borough_school"] > 0  # the children regional linkage exists for
    # every flag names its records and the run row points at the snapshot
    with session_scope(demo_home.settings) as session:
        run = session.scalars(select(InsightRun)).one()
        snapshot = session.get(Snapshot, run.flags_sha256)
        assert snapshot is not None and snapshot.row_count == run.flags == result["flags"]
        reads = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "personal_data.process",
                AuditEvent.actor == "service:insight",
            )
        ).all()
        # one read per council, purpose, dataset version and decision, naming the rules served
        fsm = [e for e in reads if any(n.startswith(f"{FSM}.") for n in e.details["for"])]
        assert fsm and {e.purpose for e in fsm} == {"fsm"}
        assert any(e.decision == "allow" for e in fsm)
        served = [
            (e.details.get("job"), e.organisation_id, e.purpose, e.target_id, e.reason)
            for e in reads
        ]
        assert len(served) == len(set(served))


def test_a_caseworker_sees_their_boroughs_flags_with_reasons(demo_home: Region) -> None:
    worker = actor(demo_home, "lambeth.caseworker", "fsm")
    page = list_flags(demo_home.settings, worker, FlagFilter(rule=FSM, status="all"))
    assert page.total > 0
    assert {f.organisation for f in page.flags} == {"lambeth"}
    assert {f.purpose for f in page.flags} == {"fsm"}
    flag = get_flag(demo_home.settings, worker, page.flags[0].flag_id)
    assert {r.alias for r in flag.records} == {"pupil", "claim"}
    assert all(r.dataset and r.organisation and r.version for r in flag.records)
    claim = next(r for r in flag.records if r.alias == "claim")
    assert claim.organisation == "lambeth" and claim.dataset == "benefit-claims"
    reasons = {v.field: v for v in flag.reasons}
    assert reasons["universal_credit"].shown
    # under another purpose the same person sees none of these flags
    fraud = actor(demo_home, "lambeth.caseworker", "fraud-prevention")
    assert all(
        f.rule_id == "spd-other-adults"
        for f in list_flags(demo_home.settings, fraud, FlagFilter(status="all")).flags
    )
    with pytest.raises(NotFound):
        get_flag(demo_home.settings, fraud, flag.flag_id)
    # another borough's caseworker cannot open it
    with pytest.raises(NotFound):
        get_flag(demo_home.settings, actor(demo_home, "southwark.caseworker", "fsm"), flag.flag_id)
    # data owners do not work flags
    with pytest.raises(AccessDenied):
        list_flags(demo_home.settings, actor(demo_home, "lambeth.data-owner", "fsm"), FlagFilter())


def test_an_action_quiets_a_flag_until_its_data_changes(demo_home: Region) -> None:
    worker = actor(demo_home, "wandsworth.caseworker", "fsm")
    settings = demo_home.settings
    before = list_flags(settings, worker, FlagFilter(rule=FSM))
    target = before.flags[0]
    flag = record_action(settings, worker, target.flag_id, "contacted", "Rang the family")
    assert flag.status == "quiet" and flag.actions[0].note == "Rang the family"
    after = list_flags(settings, worker, FlagFilter(rule=FSM))
    assert target.flag_id not in {f.flag_id for f in after.flags}
    assert after.counts["quiet"] == before.counts["quiet"] + 1
    with session_scope(settings) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "flag.action")).all()[
            -1
        ]
        assert event.records == [target.flag_id]
        assert event.details["outcome"] == "contacted"
        assert "Rang" not in str(event.details)  # the note is not copied into the log
    # a fresh run over the same data: the flag keeps its id and fingerprint, so stays quiet
    run_insight(settings, RunOptions(rule_ids=(FSM,)))
    again = get_flag(settings, worker, target.flag_id)
    assert again.status == "quiet"
    # when the data behind it changes (a different fingerprint), it opens again
    with session_scope(settings) as session:
        action = session.scalars(
            select(FlagAction).where(FlagAction.flag_id == target.flag_id)
        ).one()
        action.fingerprint = "0" * 32  # as if recorded against older data
    assert get_flag(settings, worker, target.flag_id).status == "open"


def test_wrong_match_is_reported_to_linkage_review(demo_home: Region) -> None:
    from joinedup.insight.flags import wrong_match_reports

    worker = actor(demo_home, "southwark.caseworker", "fsm")
    target = list_flags(demo_home.settings, worker, FlagFilter(rule=FSM)).flags[0]
    record_action(demo_home.settings, worker, target.flag_id, "wrong_match")
    reports = [r for r in wrong_match_reports(demo_home.settings) if r["flag_id"] == target.flag_id]
    assert reports and all("/" in k for k in reports[0]["record_keys"])
    with session_scope(demo_home.settings) as session:
        assert session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "linkage.wrong_match_reported")
        )


# --- the JSON API ---------------------------------------------------------------------------


def test_the_flags_api(api: TestClient, demo_home: Region) -> None:
    assert api.get("/api/v1/insight/flags").status_code == 401
    signed_in(api, "lambeth.caseworker", demo_home.logins["lambeth.caseworker"], "fsm")
    rules = api.get("/api/v1/insight/rules").json()
    assert FSM in {r["id"] for r in rules}
    latest = api.get("/api/v1/insight/runs/latest").json()
    assert latest["flags"] > 0
    page = api.get("/api/v1/insight/flags", params={"rule": FSM, "status": "all"}).json()
    assert page["total"] > 0 and page["flags"]
    first: dict[str, Any] = page["flags"][0]
    assert first["organisation"] == "lambeth" and first["severity"] == "high"
    detail = api.get(f"/api/v1/insight/flags/{first['flag_id']}").json()
    assert {r["source"] for r in detail["records"]} == {"pupil", "claim"}
    assert any(v["field"] == "universal_credit" for v in detail["values"])
    household = api.get(f"/api/v1/insight/households/{first['household_id']}/flags").json()
    assert first["flag_id"] in {f["flag_id"] for f in household["flags"]}
    bad = api.post(f"/api/v1/insight/flags/{first['flag_id']}/actions", json={"outcome": "maybe"})
    assert bad.status_code == 422
    done = api.post(
        f"/api/v1/insight/flags/{first['flag_id']}/actions",
        json={"outcome": "enrolled", "note": "Registered with the school"},
    )
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "quiet"
    assert api.get("/api/v1/insight/flags/f-0000000000000000").status_code == 404
    assert api.get("/api/v1/insight/flags/not-a-flag").status_code == 422


def test_the_flags_api_refuses_other_roles(api: TestClient, demo_home: Region) -> None:
    signed_in(api, "lambeth.data-owner", demo_home.logins["lambeth.data-owner"], "fsm")
    refused = api.get("/api/v1/insight/flags")
    assert refused.status_code == 403
    assert "does not work flags" in refused.json()["detail"]


def test_the_caseworkers_home_page_counts_their_open_flags(
    api: TestClient, demo_home: Region
) -> None:
    signed_in(api, "lewisham.caseworker", demo_home.logins["lewisham.caseworker"], "fsm")
    worker = actor(demo_home, "lewisham.caseworker", "fsm")
    open_flags = list_flags(demo_home.settings, worker, FlagFilter(page_size=1)).counts["open"]
    assert open_flags > 0
    html = api.get("/").text
    assert re.search(rf">\s*{open_flags:,} open\s*<", html), open_flags
    assert 'href="/worklist"' in html


def test_objections_and_revocation_take_effect(demo_home: Region) -> None:
    """Runs last: an objector's flag disappears on the next run; after the FSM agreement is
    revoked, another borough's census values are withheld and no longer read."""
    settings = demo_home.settings
    worker = actor(demo_home, "lewisham.caseworker", "fsm")
    flags = list_flags(settings, worker, FlagFilter(rule=FSM, status="all")).flags
    objector = flags[0]
    with session_scope(settings) as session:
        dpo = session.scalars(select(User).where(User.username == "hub.dpo")).one()
        record_objection(session, ObjectionSubject(resident_id=objector.resident_id), "fsm", dpo)
    run_insight(settings, RunOptions(rule_ids=(FSM, "school-outside-home-borough")))
    remaining = list_flags(settings, worker, FlagFilter(rule=FSM, status="all")).flags
    assert objector.resident_id not in {f.resident_id for f in remaining}

    cross = list_flags(
        settings, worker, FlagFilter(rule="school-outside-home-borough", status="all")
    ).flags
    assert cross
    with session_scope(settings) as session:
        agreement = session.scalars(
            select(Agreement).where(Agreement.reference == "DSA-FSM-2026")
        ).one()
        owner = session.scalars(select(User).where(User.username == "lambeth.data-owner")).one()
        revoke(session, agreement, owner, "test: sharing stopped")
    flag = get_flag(settings, worker, cross[0].flag_id)
    withheld = [v for v in flag.values if not v.shown]
    assert withheld and all(v.organisation != "lewisham" for v in withheld)
    assert all("revoked" in v.reason for v in withheld)
    assert flag.name == "Name not shared"
    result = run_insight(settings, RunOptions(rule_ids=("school-outside-home-borough",)))
    assert result["rules"][0]["flags"] == 0  # other boroughs' census can no longer be read
    dispose_engines()
