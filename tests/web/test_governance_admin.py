"""Admin pages: organisations (GSS codes checked), users (a generated password shown once,
deactivation), and every user's own API tokens (shown once, then only the prefix)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import ApiToken, AuditEvent, Organisation, User
from joinedup.config import Settings
from joinedup.governance.accounts import authenticate
from joinedup.governance.tokens import verify_token
from tests.support import sign_in
from tests.web.conftest import SignedInFor, add_accounts
from tests.web.test_governance_agreements import error_summary, post_form, table_text, text_of

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture
def admin(signed_in_for: SignedInFor, db_settings: Settings) -> TestClient:
    add_accounts(db_settings)
    return signed_in_for(db_settings, "admin")


def add_org(client: TestClient, **data: str) -> Any:
    return post_form(client, "/admin/organisations/new", "/admin/organisations/new", data)


def test_organisations_with_gss_codes(admin: TestClient, db_settings: Settings) -> None:
    page = admin.get("/admin/organisations")
    assert page.status_code == 200
    assert "Lambeth lambeth Council E09000022" in table_text(page.text, "organisations")

    empty = add_org(admin)
    assert empty.status_code == 422
    assert error_summary(empty.text) == [
        "Enter a code #code",
        "Enter the organisation's name #name",
        "Select the type of organisation #type",
    ]
    wrong = add_org(admin, code="Lewisham!", name="Lewisham", type="council", gss_code="E0900002")
    assert error_summary(wrong.text) == [
        "The code must be 2 to 64 lower-case letters, digits and dashes #code",
        "Enter a GSS code in the correct format, a letter and 8 digits, like E09000022 #gss_code",
    ]
    ward = add_org(admin, code="lewisham", name="Lewisham", type="council", gss_code="E05000001")
    assert error_summary(ward.text) == [
        "A council's GSS code starts with E06, E07, E08, E09, E10, W06, S12 or N09 #gss_code"
    ]
    missing = add_org(admin, code="lewisham", name="Lewisham", type="council")
    assert error_summary(missing.text) == ["Enter the council's GSS code, like E09000022 #gss_code"]
    taken = add_org(admin, code="lewisham", name="Lewisham", type="council", gss_code="E09000022")
    assert taken.status_code == 409
    assert error_summary(taken.text) == [
        "An organisation with the GSS code E09000022 already exists #gss_code"
    ]
    added = add_org(admin, code="lewisham", name="Lewisham", type="council", gss_code="e09000023")
    assert added.status_code == 303
    assert "The organisation was registered" in admin.get(added.headers["location"]).text
    charity = add_org(admin, code="foodbank", name="Food bank", type="voluntary")
    assert charity.status_code == 303
    assert add_org(admin, code="lewisham", name="Other", type="other").status_code == 409
    with session_scope(db_settings) as session:
        lewisham = session.scalars(
            select(Organisation).where(Organisation.code == "lewisham")
        ).one()
        assert lewisham.gss_code == "E09000023"
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "organisation.create", AuditEvent.target_id == "lewisham"
            )
        ).one()
        assert event.actor == "admin"


def test_users_password_shown_once_and_deactivation(
    admin: TestClient, db_settings: Settings, client_for: Any
) -> None:
    assert "lam-owner" in table_text(admin.get("/admin/users").text, "users")
    bad = post_form(admin, "/admin/users/new", "/admin/users/new", {"email": "not an email"})
    assert bad.status_code == 422
    assert error_summary(bad.text) == [
        "Enter a username #username",
        "Enter the person's full name #display_name",
        "Enter an email address in the correct format, like name@example.gov.uk #email",
        "Select the person's organisation #organisation",
        "Select the person's role #role",
    ]
    form = {
        "username": "New.Analyst",
        "display_name": "Nia Analyst",
        "email": "nia@example.gov.uk",
        "organisation": "southwark",
        "role": "analyst",
    }
    created = post_form(admin, "/admin/users/new", "/admin/users/new", form)
    assert created.status_code == 201
    password = re.search(r'<code id="new-password"[^>]*>([^<]+)</code>', created.text)
    assert password, created.text
    assert "This is the only time the password is shown" in created.text
    assert created.headers["cache-control"] == "no-store"
    assert password.group(1) not in admin.get("/admin/users").text
    taken = post_form(admin, "/admin/users/new", "/admin/users/new", form)
    assert error_summary(taken.text) == ["The username 'new.analyst' is taken #username"]

    person = client_for(db_settings)
    assert sign_in(person, "new.analyst", password.group(1)).status_code == 303
    assert person.get("/admin/users").status_code == 403

    users = admin.get("/admin/users").text
    assert 'href="/admin/users/new.analyst/deactivate"' in users
    assert 'href="/admin/users/admin/deactivate"' not in users  # never yourself
    assert admin.get("/admin/users/new.analyst/deactivate").status_code == 200
    done = post_form(
        admin, "/admin/users/new.analyst/deactivate", "/admin/users/new.analyst/deactivate"
    )
    assert done.status_code == 303
    assert "Deactivated" in table_text(admin.get(done.headers["location"]).text, "users")
    assert person.get("/agreements", follow_redirects=False).status_code == 303  # signed out
    self_off = post_form(admin, "/admin/users", "/admin/users/admin/deactivate")
    assert self_off.status_code == 409
    assert "You cannot deactivate your own account" in text_of(self_off.text)
    assert admin.get("/admin/users/nobody/deactivate").status_code == 404

    with session_scope(db_settings) as session:
        assert authenticate(session, "new.analyst", password.group(1), "test").user is None
        stored = session.scalars(select(User).where(User.username == "new.analyst")).one()
        assert stored.password_hash and password.group(1) not in stored.password_hash
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == "new.analyst")
        ).all()
        assert "user.create" in actions and "user.deactivate" in actions


def test_admin_pages_are_for_hub_admins(signed_in_for: SignedInFor, db_settings: Settings) -> None:
    add_accounts(db_settings)
    for username in ("hub-dpo", "lam-owner", "lam-case"):
        client = signed_in_for(db_settings, username)
        index = client.get("/admin")
        assert index.status_code == 200 and "Your API tokens" in index.text
        assert 'href="/admin/users"' not in index.text
        for path in ("/admin/organisations", "/admin/organisations/new", "/admin/users"):
            assert client.get(path).status_code == 403, (username, path)
        refused = post_form(client, "/admin", "/admin/organisations/new", {"code": "x"})
        assert refused.status_code == 403


def test_tokens_shown_once_then_only_the_prefix(
    signed_in_for: SignedInFor, db_settings: Settings, client_for: Any
) -> None:
    add_accounts(db_settings)
    owner = signed_in_for(db_settings, "lam-owner", token=False)
    form = owner.get("/account/tokens/new").text
    assert 'value="admin"' not in form  # a data owner's token cannot have scopes they lack
    bad = post_form(owner, "/account/tokens/new", "/account/tokens/new", {"days": "7"})
    assert error_summary(bad.text) == ["Enter a name for the token #name"]
    bad = post_form(
        owner, "/account/tokens/new", "/account/tokens/new", {"name": "x", "days": "90"}
    )
    assert error_summary(bad.text) == ["Select what the token may do #scopes"]
    forged = post_form(
        owner,
        "/account/tokens/new",
        "/account/tokens/new",
        {"name": "x", "days": "90", "scopes": ["admin"]},
    )
    assert error_summary(forged.text) == [
        "Your role can use these scopes: read, ingest, governance #scopes"
    ]
    created = post_form(
        owner,
        "/account/tokens/new",
        "/account/tokens/new",
        {"name": "nightly upload", "days": "30", "scopes": ["read", "ingest"]},
    )
    assert created.status_code == 201
    found = re.search(r'<code id="new-token"[^>]*>(jdu_([0-9a-f]+)_[^<]+)</code>', created.text)
    assert found
    plaintext, prefix = found.group(1), found.group(2)

    listing = owner.get("/account/tokens").text
    assert plaintext not in listing
    tokens = table_text(listing, "tokens")
    assert f"nightly upload jdu_{prefix}_… ingest, read" in tokens and "Live" in tokens

    api = client_for(db_settings)
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert api.get("/api/v1/agreements", headers=headers).status_code == 200

    # Nobody else can revoke it; its owner can.
    other = signed_in_for(db_settings, "sou-owner", token=False)
    assert post_form(other, "/account/tokens", f"/account/tokens/{prefix}/revoke").status_code == (
        404
    )
    revoked = post_form(owner, "/account/tokens", f"/account/tokens/{prefix}/revoke")
    assert revoked.status_code == 303
    assert "Revoked" in table_text(owner.get(revoked.headers["location"]).text, "tokens")
    assert api.get("/api/v1/agreements", headers=headers).status_code == 401
    with session_scope(db_settings) as session:
        assert verify_token(session, plaintext) is None
        stored = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one()
        assert plaintext not in stored.token_hash
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == prefix).order_by(AuditEvent.id)
        ).all()
        assert actions == ["token.create", "token.revoke"]
