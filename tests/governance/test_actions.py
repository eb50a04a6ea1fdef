"""Which lifecycle steps each user may take, permission vs status refusals, deactivation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, User
from joinedup.governance.accounts import AccountError, authenticate, deactivate_user
from joinedup.governance.agreements import (
    AgreementError,
    AgreementPermissionError,
    DataShare,
    available_actions,
    check_action,
    create_draft,
    propose,
    withdraw,
)
from tests.governance.conftest import PASSWORD, Region, fsm_draft


def test_available_actions_follow_the_lifecycle_rules(region: Region) -> None:
    with session_scope(region.settings) as session:
        users = {name: session.get(User, uid) for name, uid in region.users.items()}
        draft = fsm_draft(
            providers=("southwark", "lambeth"),
            recipients=("lambeth",),
            data=(DataShare(provider="southwark"), DataShare(provider="lambeth")),
        )
        agreement = create_draft(session, draft, users["lam-owner"])
        assert available_actions(agreement, users["lam-owner"]) == ["propose", "revoke"]
        assert available_actions(agreement, users["lam-case"]) == []
        assert available_actions(agreement, users["hub-dpo"]) == []  # not a party
        propose(session, agreement, users["lam-owner"])
        assert available_actions(agreement, users["sou-owner"]) == [
            "approve",
            "withdraw",
            "revoke",
        ]
        refusal = check_action(agreement, users["food-case"], "approve")
        assert isinstance(refusal, AgreementPermissionError)
        refusal = check_action(agreement, users["lam-owner"], "propose")
        assert isinstance(refusal, AgreementError)
        assert not isinstance(refusal, AgreementPermissionError)
        with pytest.raises(ValueError, match="unknown agreement action"):
            check_action(agreement, users["lam-owner"], "delete")


def test_only_a_party_withdraws(region: Region) -> None:
    with session_scope(region.settings) as session:
        users = {name: session.get(User, uid) for name, uid in region.users.items()}
        agreement = create_draft(session, fsm_draft(), users["lam-owner"])
        propose(session, agreement, users["lam-owner"])
        for outsider in ("food-case", "hub-admin", "sou-case"):
            with pytest.raises(AgreementPermissionError, match="withdraw"):
                withdraw(session, agreement, users[outsider])
        withdraw(session, agreement, users["sou-owner"])
        assert agreement.status == "draft"


def test_deactivated_accounts_cannot_sign_in_and_the_change_is_audited(region: Region) -> None:
    with session_scope(region.settings) as session:
        admin = session.get(User, region.users["hub-admin"])
        target = session.get(User, region.users["lam-case"])
        assert admin is not None and target is not None
        with pytest.raises(AccountError, match="your own account"):
            deactivate_user(session, admin, admin)
        deactivate_user(session, target, admin)
        with pytest.raises(AccountError, match="already deactivated"):
            deactivate_user(session, target, admin)
    with session_scope(region.settings) as session:
        assert authenticate(session, "lam-case", PASSWORD, "127.0.0.1").user is None
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.deactivate")
        ).one()
        assert (event.actor, event.target_id) == ("hub-admin", "lam-case")
