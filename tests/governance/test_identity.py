from datetime import timedelta

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import ApiToken, AuditEvent, LoginAttempt, User
from joinedup.catalog.types import utcnow
from joinedup.governance import accounts
from joinedup.governance.accounts import (
    AccountError,
    SignInThrottled,
    authenticate,
    create_user,
)
from joinedup.governance.objections import ObjectionError, ObjectionSubject, record_objection
from joinedup.governance.tokens import TokenError, create_token, revoke_token, verify_token
from tests.governance.conftest import PASSWORD, Region


def test_passwords_are_argon2_and_never_stored_or_audited(region: Region) -> None:
    with session_scope(region.settings) as session:
        user = session.scalars(select(User).where(User.username == "lam-case")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        texts = [str(e.details) + str(e.reason) for e in session.scalars(select(AuditEvent))]
        assert not any(PASSWORD in t or "$argon2" in t for t in texts)


def test_sign_in_success_failure_and_unknown_user(region: Region) -> None:
    with session_scope(region.settings) as session:
        assert authenticate(session, "lam-case", PASSWORD, "10.0.0.1").user is not None
        assert authenticate(session, "LAM-CASE ", PASSWORD, "10.0.0.1").user is not None
        wrong = authenticate(session, "lam-case", "wrong password!!", "10.0.0.1")
        missing = authenticate(session, "nobody", PASSWORD, "10.0.0.1")
        assert wrong.user is None and missing.user is None
        assert wrong.reason == missing.reason == "incorrect username or password"


def test_throttling_per_username_and_per_address(region: Region) -> None:
    with session_scope(region.settings) as session:
        for _ in range(accounts.MAX_FAILURES_PER_ADDRESS_AND_USER):
            authenticate(session, "sou-case", "not the password", "10.0.0.2")
        with pytest.raises(SignInThrottled):
            authenticate(session, "sou-case", PASSWORD, "10.0.0.2")
        # the attacker's failures do not lock the user out from their own address
        assert authenticate(session, "sou-case", PASSWORD, "10.0.0.9").user is not None
        for attempt in session.scalars(select(LoginAttempt)):
            attempt.at = utcnow() - accounts.WINDOW - timedelta(seconds=1)
    with session_scope(region.settings) as session:
        assert authenticate(session, "sou-case", PASSWORD, "10.0.0.9").user is not None
        for i in range(accounts.MAX_FAILURES_PER_REMOTE):
            authenticate(session, f"guess{i}", "x" * 12, "10.6.6.6")
        with pytest.raises(SignInThrottled):
            authenticate(session, "lam-owner", PASSWORD, "10.6.6.6")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"username": "Bad Name"}, "usernames are"),
        ({"role": "wizard"}, "unknown role"),
        ({"organisation": "atlantis"}, "no organisation"),
        ({"password": "short"}, "at least 12"),
        ({"username": "lam-case"}, "is taken"),
    ],
)
def test_account_rules(region: Region, kw: dict, message: str) -> None:
    args = {
        "username": "new-user",
        "display_name": "New",
        "organisation": "lambeth",
        "role": "analyst",
        "password": PASSWORD,
    } | kw
    with pytest.raises(AccountError, match=message), session_scope(region.settings) as session:
        create_user(session, **args)


def test_tokens_are_shown_once_stored_hashed_and_scoped(region: Region) -> None:
    with session_scope(region.settings) as session:
        user = session.get(User, region.users["lam-owner"])
        issued = create_token(session, user, "nightly upload", ["ingest", "read"])
        plaintext = issued.plaintext
        with pytest.raises(TokenError):
            create_token(session, user, "x", ["root"])
    with session_scope(region.settings) as session:
        row = session.scalars(select(ApiToken)).one()
        assert plaintext not in row.token_hash and len(row.token_hash) == 64
        assert row.scopes == ["ingest", "read"]
        token = verify_token(session, plaintext)
        assert token is not None and token.user.username == "lam-owner"
        assert token.last_used_at is not None
        assert (
            verify_token(session, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
        )
        assert verify_token(session, "garbage") is None
        revoke_token(session, token, token.user)
    with session_scope(region.settings) as session:
        assert verify_token(session, plaintext) is None


def test_objection_rules(region: Region) -> None:
    with session_scope(region.settings) as session:
        dpo = session.get(User, region.users["hub-dpo"])
        with pytest.raises(ObjectionError, match="cannot object to Fraud prevention"):
            record_objection(session, ObjectionSubject(resident_id="R1"), "fraud-prevention", dpo)
        with pytest.raises(ObjectionError, match="name the resident"):
            record_objection(session, ObjectionSubject(organisation="lambeth"), "fsm", dpo)
        objection = record_objection(session, ObjectionSubject(resident_id="R1"), None, dpo)
        assert objection.purpose_id is None
