"""The audit log page: DPOs only, every filter, paging, the chain check banner, CSV download
(formula-injection safe), and reading the log being recorded in it."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, update

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, Organisation
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from tests.web.conftest import SignedInFor, add_accounts
from tests.web.test_governance_agreements import error_summary, table_text, text_of

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

FORMULA = '=HYPERLINK("http://evil.example","click")'


def seed(settings: Settings) -> None:
    """Reads of personal data by both boroughs, and an objection, besides the accounts."""
    add_accounts(settings)
    with session_scope(settings) as session:
        orgs = dict(session.execute(select(Organisation.code, Organisation.id)).all())
        append_event(
            session,
            actor="lam-case",
            actor_user_id=None,
            organisation_id=orgs["lambeth"],
            action="personal_data.read",
            purpose="fsm",
            decision="allow",
            reason="allowed by agreement DSA-FSM-1",
            target_type="dataset_version",
            target_id="southwark/school-census/1",
            records=["S1", "S2", "S3"],
            details={"agreement": "DSA-FSM-1", "rows": 3, "fields": ["given_name"]},
        )
        append_event(
            session,
            actor="sou-analyst",
            organisation_id=orgs["southwark"],
            action="personal_data.read",
            purpose="statistics",
            decision="deny",
            reason=FORMULA,
            target_type="dataset_version",
            target_id="-southwark/housing/2",
            records=[],
        )
        append_event(
            session,
            actor="hub-dpo",
            organisation_id=orgs["hub"],
            action="objection.record",
            target_type="objection",
            target_id="1",
            records=["resident R-9", "@SUM(A1)"],
        )


def entries(html: str) -> list[str]:
    table = re.search(r'<table[^>]*id="audit-entries".*?</table>', html, re.S)
    if table is None:
        return []
    body = table.group(0).split("<tbody", 1)[1]
    return [
        text_of(f"<main>{row}</main>") for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def dpo(signed_in_for: SignedInFor, db_settings: Settings) -> TestClient:
    seed(db_settings)
    return signed_in_for(db_settings, "hub-dpo")


def test_only_dpos_read_the_audit_log(
    signed_in_for: SignedInFor, db_settings: Settings, client_for: Any
) -> None:
    seed(db_settings)
    for username in ("admin", "lam-owner", "lam-case", "lam-analyst"):
        client = signed_in_for(db_settings, username)
        assert client.get("/audit").status_code == 403, username
        assert client.get("/audit/export.csv").status_code == 403, username
        assert client.get("/api/v1/audit/events").status_code == 403, username
    anonymous = client_for(db_settings)
    assert anonymous.get("/audit", follow_redirects=False).status_code == 303
    assert anonymous.get("/api/v1/audit/events").status_code == 401
    # Hub admins may check the chain (as `joinedup audit verify` does), but not read entries.
    admin = signed_in_for(db_settings, "admin")
    verified = admin.get("/api/v1/audit/verify")
    assert verified.status_code == 200 and verified.json()["intact"] is True
    for username in ("hub-dpo", "lam-dpo"):
        assert signed_in_for(db_settings, username).get("/audit").status_code == 200


def test_filters_newest_first_and_the_view_is_audited(
    dpo: TestClient, db_settings: Settings
) -> None:
    page = dpo.get("/audit")
    assert page.status_code == 200
    rows = entries(page.text)
    ids = [int(r.split()[0]) for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert "The audit log is intact" in page.text

    def only(query: str) -> list[str]:
        found = dpo.get("/audit?" + query)
        assert found.status_code == 200, found.text
        return entries(found.text)

    by_record = only("record=S2")
    assert len(by_record) == 1 and "lam-case" in by_record[0] and by_record[0].endswith(" 3")
    assert "fsm Allow allowed by agreement DSA-FSM-1" in by_record[0]
    assert "southwark/school-census/1" in by_record[0]
    assert len(only("record=R-9")) == 1
    assert only("record=S") == []
    assert len(only("user=sou-analyst")) == 1
    assert all("lambeth" in r for r in only("organisation=lambeth"))
    assert [r for r in only("decision=deny") if "sou-analyst" in r]
    assert len(only("decision=deny")) == 1
    assert len(only("purpose=statistics")) == 1
    assert len(only("action=objection.record")) == 1
    assert len(only("agreement=DSA-FSM-1")) == 1
    today = utcnow().date()
    tomorrow = today + timedelta(days=1)
    assert len(only(f"from-day={today.day}&from-month={today.month}&from-year={today.year}")) > 3
    assert (
        only(f"from-day={tomorrow.day}&from-month={tomorrow.month}&from-year={tomorrow.year}") == []
    )
    assert len(only(f"to-day={today.day}&to-month={today.month}&to-year={today.year}")) > 3

    bad = dpo.get("/audit?from-day=31&from-month=2&from-year=2026&to-day=1&to-year=2026")
    assert bad.status_code == 422
    assert error_summary(bad.text) == [
        "The date from must be a real date #from-day",
        "The date to must include a month #to-day",
    ]
    assert dpo.get("/audit?organisation=atlantis").status_code == 422
    assert entries(bad.text) == []

    with session_scope(db_settings) as session:
        views = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.view").order_by(AuditEvent.id)
        ).all()
        assert views and all(v.actor == "hub-dpo" for v in views)
        record_view = next(v for v in views if v.details["filters"].get("record") == "S2")
        assert record_view.details["shown"] == 1


def test_paging(dpo: TestClient, db_settings: Settings) -> None:
    with session_scope(db_settings) as session:
        for i in range(60):
            append_event(
                session, actor="bulk", action=AuditAction.IMPACT_ESTIMATE, target_id=str(i)
            )
    first = dpo.get("/audit?action=insight.impact.estimate")
    assert "Entries 1 to 50 of 60, newest first" in text_of(first.text)
    assert 'class="govuk-pagination' in first.text
    assert 'href="/audit?action=insight.impact.estimate&amp;page=2"' in first.text
    second = dpo.get("/audit?action=insight.impact.estimate&page=2")
    assert "Entries 51 to 60 of 60" in text_of(second.text)
    last_ids = [int(r.split()[0]) for r in entries(second.text)]
    first_ids = [int(r.split()[0]) for r in entries(first.text)]
    assert len(last_ids) == 10 and max(last_ids) < min(first_ids)


def test_csv_download_is_filtered_escaped_and_audited(
    dpo: TestClient, db_settings: Settings
) -> None:
    response = dpo.get("/audit/export.csv?action=personal_data.read")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="joinedup-audit-'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["id", "occurred_at", "actor"]
    body = {row[2]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(body) == {"lam-case", "sou-analyst"}
    assert body["sou-analyst"]["reason"] == "'" + FORMULA  # a formula is shown as text
    assert body["sou-analyst"]["target_id"] == "'-southwark/housing/2"
    assert body["lam-case"]["records"] == "S1 S2 S3" and body["lam-case"]["records_count"] == "3"
    objection = dpo.get("/audit/export.csv?action=objection.record").text
    assert "resident R-9 @SUM(A1)" in objection  # a cell that does not start with one is kept

    with session_scope(db_settings) as session:
        export = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.export").order_by(AuditEvent.id)
        ).first()
        assert export is not None and export.actor == "hub-dpo"
        assert export.details == {"filters": {"action": "personal_data.read"}, "rows": 2}

    link = re.search(r'href="(/audit/export\.csv[^"]*)"', dpo.get("/audit?user=lam-case").text)
    assert link and link.group(1) == "/audit/export.csv?user=lam-case"
    assert dpo.get("/audit/export.csv?from-day=99").status_code == 422


def test_tampering_shows_where_the_chain_breaks(dpo: TestClient, db_settings: Settings) -> None:
    with session_scope(db_settings) as session:
        target = session.scalars(
            select(AuditEvent.id).where(AuditEvent.actor == "sou-analyst")
        ).one()
        session.execute(
            update(AuditEvent).where(AuditEvent.id == target).values(reason="nothing to see")
        )
    page = dpo.get("/audit").text
    assert "The audit log has been tampered with" in page
    assert f"entry {target}: contents were changed after writing" in text_of(page)
    verify = dpo.get("/api/v1/audit/verify").json()
    assert verify["intact"] is False
    assert verify["problems"][0] == {
        "event_id": target,
        "problem": "contents were changed after writing",
        "guarantee": "chain",
    }


def test_a_council_dpo_sees_its_own_part_of_the_log(
    signed_in_for: SignedInFor, db_settings: Settings
) -> None:
    seed(db_settings)
    lam_dpo = signed_in_for(db_settings, "lam-dpo")
    page = lam_dpo.get("/audit").text
    assert "You see what your organisation's people did" in page
    seen = " | ".join(entries(page))
    assert "lam-case" in seen  # its own people
    assert "sou-analyst" not in seen and "objection.record" not in seen
    api = lam_dpo.get("/api/v1/audit/events?user=sou-analyst").json()
    assert api["total"] == 0
    assert "southwark/school-census/1" in table_text(page, "audit-entries")
    everything = signed_in_for(db_settings, "hub-dpo").get("/api/v1/audit/events").json()
    assert everything["total"] > lam_dpo.get("/api/v1/audit/events").json()["total"]
