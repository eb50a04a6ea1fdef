"""The toolkit on the demo region: every demo agreement is active with a signed-off ethics
record for each purpose; the register and the map show the region (the map's flows equal the
audit log's reads); a business case tied to the demo intervention's impact, as page and PDF."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, Organisation
from joinedup.insight.impact import list_interventions
from joinedup.toolkit.ecosystem import ecosystem_map
from joinedup.toolkit.ethics import list_subjects
from joinedup.toolkit.register import register
from joinedup.web.app import create_app
from tests.regions import Region
from tests.support import csrf_of, signed_in

DEMO_AGREEMENTS = ["DSA-EARLYHELP-2026", "DSA-FSM-2026", "DSA-HUB-2026"]
CASE = {
    "service": "Free school meals team",
    "cost_pounds": "24,000",
    "period": "April 2026 to March 2027",
    "residents_reached": "480",
    "problem": "Children eligible for free school meals were not enrolled.",
    "proposal": "Enrol children found by the hub, across boroughs.",
    "beneficiaries": "Children and their families; schools through the pupil premium.",
    "risks": "Wrong matches: every enrolment is checked by a caseworker.",
}


def test_demo_agreements_are_active_with_signed_off_ethics(private_demo: Region) -> None:
    entries = register(private_demo.settings)
    assert [e.reference for e in entries] == DEMO_AGREEMENTS
    for entry in entries:
        assert entry.ethics and all(s.version == 1 for s in entry.ethics), entry.reference
        assert entry.dataset_categories and entry.field_categories
    states = {(s.subject_type, s.subject): s for s in list_subjects(private_demo.settings)}
    purposes = {p.code for e in entries for p in e.purposes}
    assert all(states[("purpose", p)].in_force_version == 1 for p in purposes)


def test_the_demo_map_shows_the_audited_reads(private_demo: Region) -> None:
    month = f"{datetime.now(UTC):%Y-%m}"
    data = ecosystem_map(private_demo.settings, month=month)
    found: Counter[tuple[str, str, str]] = Counter()
    with session_scope(private_demo.settings) as session:
        codes = dict(session.execute(select(Organisation.id, Organisation.code)).all())
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.action.in_(("personal_data.read", "personal_data.process")),
                AuditEvent.decision == "allow",
            )
        ):
            agreement = (event.details or {}).get("agreement")
            if agreement and f"{event.occurred_at:%Y-%m}" == month:
                found[(agreement, event.target_id.split("/")[0], codes[event.organisation_id])] += 1
    read = {(f.agreement, f.provider, f.recipient): f.reads for f in data.flows if f.reads}
    assert read == dict(found) and read  # the demo's pipeline read under its agreements
    assert {f.agreement for f in data.flows} == set(DEMO_AGREEMENTS)
    public = ecosystem_map(private_demo.settings, month=month, public=True)
    assert all(f.reads is None or f.reads % 5 == 0 for f in public.flows)


def test_an_analyst_writes_and_exports_a_business_case(private_demo: Region) -> None:
    (intervention,) = list_interventions(private_demo.settings)
    path = f"/insight/impact/{intervention['id']}/business-case"
    with TestClient(create_app(private_demo.settings)) as client:
        analyst = signed_in(client, "hub.analyst", private_demo.logins["hub.analyst"])
        page = analyst.get(path)
        assert page.status_code == 200 and "No business case yet" in page.text
        assert "95% interval" in page.text
        form = analyst.get(f"{path}/edit")
        bad = analyst.post(
            f"{path}/edit",
            data={**CASE, "cost_pounds": "lots", "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert bad.status_code == 422 and "must be a whole number" in bad.text
        saved = analyst.post(
            f"{path}/edit", data={**CASE, "csrf_token": csrf_of(form.text)}, follow_redirects=False
        )
        assert saved.status_code == 303
        shown = analyst.get(path).text
        assert "£24,000" in shown and "£50.00" in shown  # cost per resident reached
        pdf = analyst.get(f"{path}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        api = analyst.get(f"/api/v1/business-cases/{intervention['id']}").json()
        assert api["case"]["residents_reached"] == 480 and api["impact"]["ci_low"] is not None
    with session_scope(private_demo.settings) as session:
        actions = [
            e.action
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("business_case.%"))
            )
        ]
    assert actions == ["business_case.save", "business_case.export"]
