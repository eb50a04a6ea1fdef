"""Rectification and objections, and their effect: a disputed record shows as disputed and
its data owners are told; a rule with ``exclude_disputed`` stops reading the field; an
objection withdraws the resident's flags on the next insight run, and the export says so."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, User
from joinedup.governance.grants import grant_purpose, is_granted
from joinedup.governance.objections import ObjectionSubject, record_objection
from joinedup.insight.rules import RuleError, parse_rule, shipped_rules_dir
from joinedup.jobs.runner import run_inline
from joinedup.rights.common import RightsError
from joinedup.rights.disputes import disputes_for, list_disputes, record_dispute, resolve_dispute
from joinedup.rights.notifications import list_notifications, mark_all_read, unread_count
from joinedup.rights.subject import collect
from joinedup.web.app import create_app
from tests.regions import Region
from tests.rights.conftest import actor_for, flagged_resident, query
from tests.support import signed_in

pytestmark = pytest.mark.slow
SPD = "spd-other-adults"
FSM_RULES = ["fsm-eligible-not-registered", "school-outside-home-borough"]


def _flags_of(home: Region, resident: str, rules: list[str]) -> list[str]:
    placeholders = ", ".join("?" for _ in rules)
    return [
        r[0]
        for r in query(
            home,
            f"SELECT flag_id FROM {{flags}} WHERE resident_id = ? AND rule_id IN ({placeholders})",
            resident,
            *rules,
        )
    ]


def _account(home: Region, resident: str) -> tuple[str, str, str]:
    (records,) = query(
        home, "SELECT records FROM {flags} WHERE resident_id = ? AND rule_id = ?", resident, SPD
    )[0]
    account = next(r for r in records if r["alias"] == "account")
    return account["organisation"], account["dataset"], account["source_record_id"]


def _run_rules(home: Region, rule_ids: list[str], rules: list[str] | None = None) -> None:
    row = run_inline(home.settings, "insight.run", {"rule_ids": rule_ids, "rules": rules or []})
    assert row.status == "succeeded", row.error


def test_a_dispute_marks_the_record_tells_the_owners_and_can_be_excluded(
    rights_home: Region, dpo: Any, tmp_path: Path
) -> None:
    resident = flagged_resident(rights_home, SPD)
    organisation, dataset, record_id = _account(rights_home, resident)
    owner = actor_for(rights_home, f"{organisation}.data-owner", None)
    unread = unread_count(rights_home.settings, owner.user_id)
    with pytest.raises(RightsError, match="no field"):
        record_dispute(
            rights_home.settings,
            dpo,
            organisation=organisation,
            dataset=dataset,
            source_record_id=record_id,
            fields=["shoe_size"],
            statement="Wrong",
        )
    dispute = record_dispute(
        rights_home.settings,
        dpo,
        organisation=organisation,
        dataset=dataset,
        source_record_id=record_id,
        fields=["single_person_discount"],
        statement="I told the council my partner moved in; the discount was cancelled.",
    )
    key = f"{organisation}/{dataset}/{record_id}"
    assert dispute.resident_id == resident and key in disputes_for(rights_home.settings, [key])
    # the source organisation's data owners are told in the app, without personal values
    assert unread_count(rights_home.settings, owner.user_id) == unread + 1
    notice = list_notifications(rights_home.settings, owner.user_id)[0]
    assert key in notice.message and "partner" not in notice.message
    assert dispute.id in [d.id for d in list_disputes(rights_home.settings, owner)]
    other_owner = actor_for(
        rights_home,
        "wandsworth.data-owner" if organisation != "wandsworth" else "lambeth.data-owner",
        None,
    )
    assert dispute.id not in [d.id for d in list_disputes(rights_home.settings, other_owner)]
    # it shows in the export and on the resident's linkage page
    document = collect(rights_home.settings, dpo, resident)
    marked = next(r for r in document["records"] if r["record_key"] == key)
    assert marked["disputes"][0]["fields"] == ["single_person_discount"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(rights_home.settings)) as client:
        signed_in(client, "hub.analyst", rights_home.logins["hub.analyst"], "linkage")
        page = client.get(f"/residents/{resident}")
        assert page.status_code == 200 and 'data-testid="disputed"' in page.text
    # and on the flag in the council's worklist
    (flag_id,) = _flags_of(rights_home, resident, [SPD])
    with session_scope(rights_home.settings) as session:  # the council's counter-fraud grant
        org_id = session.scalars(
            select(Organisation.id).where(Organisation.code == organisation)
        ).one()
        if not is_granted(session, "fraud-prevention", "caseworker", org_id):
            grant_purpose(session, "fraud-prevention", "caseworker", organisation, None)
    with TestClient(create_app(rights_home.settings)) as client:
        signed_in(
            client,
            f"{organisation}.caseworker",
            rights_home.logins[f"{organisation}.caseworker"],
            "fraud-prevention",
        )
        page = client.get(f"/worklist/flags/{flag_id}")
        assert page.status_code == 200
        assert "Disputed: single_person_discount" in page.text
    with TestClient(create_app(rights_home.settings)) as client:
        signed_in(
            client,
            f"{organisation}.data-owner",
            rights_home.logins[f"{organisation}.data-owner"],
            None,
        )
        home = client.get("/notifications")
        assert home.status_code == 200 and key in home.text
        assert 'data-testid="notifications-link"' in home.text

    # a rule that excludes disputed fields no longer fires on the disputed discount
    shipped = yaml.safe_load((shipped_rules_dir() / f"{SPD}.yaml").read_text())
    rule_file = tmp_path / f"{SPD}.yaml"
    rule_file.write_text(yaml.safe_dump({**shipped, "exclude_disputed": True}))
    _run_rules(rights_home, [SPD], [str(rule_file)])
    assert _flags_of(rights_home, resident, [SPD]) == []
    _run_rules(rights_home, [SPD])  # the shipped rule reads the field
    assert _flags_of(rights_home, resident, [SPD])
    mark_all_read(rights_home.settings, owner.user_id)
    resolve_dispute(rights_home.settings, owner, dispute.id, "Corrected at source")
    assert disputes_for(rights_home.settings, [key]) == {}
    assert unread_count(rights_home.settings, owner.user_id) == 0


def test_exclude_disputed_must_be_a_boolean() -> None:
    shipped = yaml.safe_load((shipped_rules_dir() / f"{SPD}.yaml").read_text())
    with pytest.raises(RuleError, match="exclude_disputed"):
        parse_rule({**shipped, "exclude_disputed": "yes"}, "spd.yaml")


def test_an_objection_withdraws_the_flags_on_the_next_run_and_the_export_says_so(
    rights_home: Region, dpo: Any
) -> None:
    resident = flagged_resident(rights_home, FSM_RULES[1])
    flagged = _flags_of(rights_home, resident, FSM_RULES)
    assert flagged
    with session_scope(rights_home.settings) as session:
        user = session.scalars(select(User).where(User.username == "hub.dpo")).one()
        record_objection(session, ObjectionSubject(resident_id=resident), "fsm", user)
        session.commit()
    pending = collect(rights_home.settings, dpo, resident)
    assert pending["objections"][0]["effect"]["next_run"] is None
    _run_rules(rights_home, FSM_RULES)
    assert _flags_of(rights_home, resident, FSM_RULES) == []
    document = collect(rights_home.settings, dpo, resident)
    (objection,) = document["objections"]
    withdrawn = objection["effect"]["flags_withdrawn"]
    assert {w["purpose"] for w in withdrawn} == {"fsm"}
    assert len(withdrawn) == len(flagged)
    assert not [f for f in document["flags"] if f["purpose"] == "fsm"]
