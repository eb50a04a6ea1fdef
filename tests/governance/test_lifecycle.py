from datetime import date, timedelta

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Agreement, AgreementEvent, AuditEvent, User
from joinedup.governance.agreements import (
    AgreementError,
    DataShare,
    approve,
    create_draft,
    expire_due,
    propose,
    revoke,
    withdraw,
)
from tests.governance.conftest import TODAY, Region, fsm_draft


def _two_provider_draft():
    return fsm_draft(
        reference="DSA-2",
        providers=("southwark", "lambeth"),
        recipients=("lambeth", "southwark"),
        data=(DataShare(provider="southwark"), DataShare(provider="lambeth")),
    )


def test_lifecycle_needs_every_provider_and_records_each_step(region: Region) -> None:
    with session_scope(region.settings) as session:
        users = {name: session.get(User, uid) for name, uid in region.users.items()}
        agreement = create_draft(session, _two_provider_draft(), users["lam-owner"])
        with pytest.raises(AgreementError, match="only a proposed agreement can be approved"):
            approve(session, agreement, users["sou-owner"], TODAY)
        with pytest.raises(AgreementError, match="data owner or DPO of a party"):
            propose(session, agreement, users["lam-case"])
        propose(session, agreement, users["lam-owner"])
        with pytest.raises(AgreementError, match="only a data owner"):
            approve(session, agreement, users["sou-case"], TODAY)
        assert not approve(session, agreement, users["sou-owner"], TODAY)
        with pytest.raises(AgreementError, match="already approved"):
            approve(session, agreement, users["sou-owner"], TODAY)
        assert agreement.status == "proposed"
        assert approve(session, agreement, users["lam-owner"], TODAY)
        assert agreement.status == "active"
        with pytest.raises(AgreementError, match="give a reason"):
            revoke(session, agreement, users["sou-owner"], " ")
        revoke(session, agreement, users["sou-owner"], "no longer needed")
        steps = [
            (e.from_status, e.to_status)
            for e in session.scalars(select(AgreementEvent).order_by(AgreementEvent.id))
        ]
        assert steps == [
            ("draft", "draft"),
            ("draft", "proposed"),
            ("proposed", "active"),
            ("active", "revoked"),
        ]
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == "DSA-2")
        ).all()
        assert actions == [
            "agreement.draft",
            "agreement.proposed",
            "agreement.approve",
            "agreement.approve",
            "agreement.active",
            "agreement.revoked",
        ]


def test_withdraw_clears_approvals(region: Region) -> None:
    with session_scope(region.settings) as session:
        users = {name: session.get(User, uid) for name, uid in region.users.items()}
        agreement = create_draft(session, _two_provider_draft(), users["lam-owner"])
        propose(session, agreement, users["lam-owner"])
        approve(session, agreement, users["sou-owner"], TODAY)
        withdraw(session, agreement, users["lam-owner"])
        assert agreement.status == "draft" and agreement.approvals == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"expiry_date": date(2025, 1, 1)}, "expiry date must be after the start date"),
        ({"purposes": ("nonsense",)}, "no registered purpose 'nonsense'"),
        ({"providers": ("lambeth",)}, "southwark shares data but is not a provider party"),
        ({"recipients": ("atlantis",)}, "no organisation 'atlantis'"),
        ({"purposes": ()}, "needs providers, recipients, data and purposes"),
    ],
)
def test_bad_drafts_are_explained(region: Region, overrides: dict, message: str) -> None:
    with pytest.raises(AgreementError, match=message), session_scope(region.settings) as session:
        create_draft(session, fsm_draft(**overrides), None)


def test_duplicate_reference_is_refused(region: Region) -> None:
    with session_scope(region.settings) as session:
        create_draft(session, fsm_draft(), None)
    with (
        pytest.raises(AgreementError, match="already exists"),
        session_scope(region.settings) as session,
    ):
        create_draft(session, fsm_draft(), None)


def test_expiry_is_recorded(active_fsm_agreement: Region) -> None:
    with session_scope(active_fsm_agreement.settings) as session:
        assert expire_due(session, TODAY) == []
        assert expire_due(session, date(2027, 12, 31) + timedelta(days=1)) == ["DSA-FSM-1"]
        assert session.scalars(select(Agreement.status)).one() == "expired"
