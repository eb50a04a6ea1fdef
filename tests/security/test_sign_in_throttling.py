"""Throttling slows an attacker without locking the real user out; forwarded addresses are
believed only from trusted proxies (issue 15, finding 8).

Before: five bad passwords locked the account for 15 minutes from every address, and the
per-address throttle believed ``X-Forwarded-For`` from any local peer (uvicorn's default), so an
attacker could rotate the header to escape it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LoginAttempt
from joinedup.governance.accounts import (
    MAX_FAILURES_PER_ADDRESS_AND_USER,
    MAX_FAILURES_PER_USER,
)
from joinedup.web.app import create_app
from tests.security.conftest import Hub
from tests.support import PASSWORD, make_client, sign_in

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

USER = "lam-analyst"
WRONG = "not the password at all"


def _behind_proxy(hub: Hub) -> TestClient:
    """A client whose requests come through a proxy the hub trusts (the test client's peer)."""
    app = create_app(replace(hub.settings, trusted_proxies="testclient"))
    client = make_client(app)
    client.__enter__()
    hub.opened.append(client)
    return client


def _from(client: TestClient, address: str, password: str) -> int:
    client.cookies.clear()
    client.headers["X-Forwarded-For"] = address
    return sign_in(client, USER, password).status_code


def test_an_attacker_does_not_lock_the_user_out(accounts_hub: Hub) -> None:
    client = _behind_proxy(accounts_hub)
    for _ in range(MAX_FAILURES_PER_ADDRESS_AND_USER):
        assert _from(client, "203.0.113.5", WRONG) == 422
    assert _from(client, "203.0.113.5", PASSWORD) == 429  # the attacker's address is slowed
    assert _from(client, "198.51.100.7", PASSWORD) == 303  # the user, elsewhere, signs in


def test_a_spread_out_attacker_is_capped_but_known_addresses_sign_in(accounts_hub: Hub) -> None:
    client = _behind_proxy(accounts_hub)
    assert _from(client, "198.51.100.7", PASSWORD) == 303  # the user's usual address
    for n in range(MAX_FAILURES_PER_USER):
        assert _from(client, f"203.0.113.{n + 1}", WRONG) == 422
    assert _from(client, "192.0.2.200", PASSWORD) == 429  # a new address: refused for now
    assert _from(client, "198.51.100.7", PASSWORD) == 303  # the known address: never locked out


def test_forwarded_addresses_are_ignored_without_a_trusted_proxy(accounts_hub: Hub) -> None:
    client = accounts_hub.client()  # no trusted proxies: the peer is the client
    for n in range(MAX_FAILURES_PER_ADDRESS_AND_USER):
        assert _from(client, f"203.0.113.{n + 1}", WRONG) == 422
    assert _from(client, "203.0.113.99", PASSWORD) == 429  # rotating the header does not help
    with session_scope(accounts_hub.settings) as session:
        remotes = set(session.scalars(select(LoginAttempt.remote)))
    assert remotes == {"testclient"}
