"""The governed bulk read for services: refused without an agreement, objections honoured,
one audit event per dataset."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, User
from joinedup.governance.access import AccessDenied
from joinedup.governance.agreements import (
    AgreementDraft,
    DataShare,
    approve,
    create_draft,
    propose,
)
from joinedup.governance.objections import ObjectionSubject, record_objection
from joinedup.governance.processing import DatasetRef, ServiceActor, read_for_processing
from tests.governance.conftest import TODAY, Region, region  # noqa: F401

HUB = ServiceActor(organisation="hub", purpose="linkage", name="linkage", job_id="job-1")
CENSUS = [DatasetRef("southwark", "school-census")]
FIELDS = ["source_record_id", "given_name", "family_name", "date_of_birth"]


def _hub_agreement(r: Region) -> None:
    with session_scope(r.settings) as session:
        owner = session.get(User, r.users["sou-owner"])
        draft = AgreementDraft(
            reference="DSA-HUB-T",
            title="Person records to the hub",
            providers=("southwark",),
            recipients=("hub",),
            data=(DataShare(provider="southwark", fields=("*",)),),
            purposes=("linkage",),
            lawful_basis="UK GDPR Article 6(1)(e)",
            dpia_reference="DPIA-T",
            start_date=date(2026, 1, 1),
            expiry_date=date(2027, 12, 31),
            retention="13 months",
        )
        agreement = create_draft(session, draft, owner)
        propose(session, agreement, owner)
        approve(session, agreement, owner, TODAY)


def _events(r: Region) -> list[AuditEvent]:
    with session_scope(r.settings) as session:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "personal_data.process")
                .order_by(AuditEvent.id)
            )
        )
        session.expunge_all()
        return rows


def test_refused_without_an_agreement(region: Region) -> None:  # noqa: F811
    read = read_for_processing(region.settings, HUB, CENSUS, FIELDS, today=TODAY)
    assert read.table.num_rows == 0
    assert [d.allowed for d in read.datasets] == [False]
    assert "no agreement shares southwark's data with hub" in read.datasets[0].reason
    with pytest.raises(AccessDenied):
        read_for_processing(region.settings, HUB, CENSUS, FIELDS, on_refusal="raise", today=TODAY)
    events = _events(region)
    assert [e.decision for e in events] == ["deny", "deny"]
    assert events[0].actor == "service:linkage" and events[0].actor_user_id is None


def test_allowed_read_leaves_out_objectors_and_is_audited(region: Region) -> None:  # noqa: F811
    _hub_agreement(region)
    with session_scope(region.settings) as session:
        dpo = session.get(User, region.users["hub-dpo"])
        record_objection(
            session,
            ObjectionSubject(
                organisation="southwark", dataset="school-census", source_record_id="S2"
            ),
            "linkage",
            dpo,
        )
    read = read_for_processing(region.settings, HUB, CENSUS, FIELDS, today=TODAY)
    assert sorted(read.table.column("source_record_id").to_pylist()) == ["S1", "S3"]
    assert read.table.column("_organisation").to_pylist() == ["southwark", "southwark"]
    [dataset] = read.datasets
    assert dataset.allowed and dataset.agreement == "DSA-HUB-T"
    assert (dataset.rows, dataset.excluded) == (2, 1)
    [event] = _events(region)
    assert event.decision == "allow" and event.purpose == "linkage"
    assert event.target_id == "southwark/school-census/1"
    assert event.details["rows"] == 2 and event.details["excluded_by_objection"] == 1
    assert event.details["job"] == "job-1" and event.records == []


def test_resident_objections_are_resolved_by_the_callback(region: Region) -> None:  # noqa: F811
    _hub_agreement(region)
    with session_scope(region.settings) as session:
        dpo = session.get(User, region.users["hub-dpo"])
        record_objection(session, ObjectionSubject(resident_id="r-123"), None, dpo)
    read = read_for_processing(
        region.settings,
        HUB,
        CENSUS,
        FIELDS,
        resolve_residents=lambda ids: (
            {("southwark", "school-census", "S1")} if "r-123" in ids else set()
        ),
        today=TODAY,
    )
    assert sorted(read.table.column("source_record_id").to_pylist()) == ["S2", "S3"]
