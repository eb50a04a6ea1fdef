"""Fixtures for the web app tests: TestClients on an initialised home, anonymous or signed in.

* ``client_for(app_or_settings)``: an anonymous client.
* ``signed_in_for(settings, username="admin", token=True)``: a client signed in through the
  real sign-in form, sending the session's CSRF token in ``X-CSRF-Token`` on every request
  (like a script on our pages would), and (with ``token``) carrying an API token of the
  same user with every scope for ``/api/…`` calls. The account (one of :data:`ACCOUNTS`)
  and its organisation are created if need be.
* ``client``: signed in as the hub admin on an initialised SQLite home.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import User
from joinedup.config import Settings
from joinedup.governance.accounts import create_user
from joinedup.governance.organisations import ensure_organisation
from joinedup.governance.purposes import ensure_default_purposes
from joinedup.governance.tokens import SCOPES, create_token
from joinedup.web.app import create_app
from tests.support import (
    PASSWORD,
    SQLITE_TEMPLATE,
    ethics_signed_off,
    make_client,
    make_settings,
    signed_in,
    still_the_template,
)

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

#: Test accounts: username -> (organisation, role).
ACCOUNTS: dict[str, tuple[str, str]] = {
    "admin": ("hub", "hub_admin"),
    "hub-dpo": ("hub", "dpo"),
    "lam-owner": ("lambeth", "data_owner"),
    "lam-analyst": ("lambeth", "analyst"),
    "lam-case": ("lambeth", "caseworker"),
    "lam-dpo": ("lambeth", "dpo"),
    "sou-owner": ("southwark", "data_owner"),
    "sou-analyst": ("southwark", "analyst"),
}
ORGANISATIONS = {
    "lambeth": ("Lambeth", "council", "E09000022"),
    "southwark": ("Southwark", "council", "E09000028"),
    "hub": ("Regional data hub", "hub", None),
}


@dataclass
class Accounts:
    """The test accounts of one home: user ids by username."""

    settings: Settings
    users: dict[str, int]

    def token(self, username: str, scopes: tuple[str, ...] = SCOPES, name: str = "test") -> str:
        with session_scope(self.settings) as session:
            user = session.get(User, self.users[username])
            assert user is not None
            return create_token(session, user, name, list(scopes)).plaintext


#: Homes made by :func:`add_accounts` from the SQLite home template, by (usernames, day):
#: its home and user ids. Made once a worker for each set of accounts asked for.
_SEEDED: dict[tuple[tuple[str, ...], date], tuple[Path, dict[str, int]]] = {}


def add_accounts(settings: Settings, usernames: tuple[str, ...] | None = None) -> Accounts:
    """The default purposes, and the :data:`ACCOUNTS` named (default: all) with their
    organisations. Idempotent: existing accounts and organisations are kept.

    A home still as the SQLite template left it gets a copy of the same template with these
    accounts added once for the worker (registering the default purposes and their audited
    grants costs about 0.18 s of CPU; a copy, milliseconds): the same rows and audit chain."""
    wanted = usernames if usernames is not None else tuple(ACCOUNTS)
    if not still_the_template(settings):
        return _add_accounts(settings, wanted)
    key = (wanted, date.today())
    if key not in _SEEDED:
        seed = Path(tempfile.mkdtemp(prefix="accounts-", dir=SQLITE_TEMPLATE[0].parent)) / "home"
        shutil.copytree(SQLITE_TEMPLATE[0], seed)
        _SEEDED[key] = (seed, _add_accounts(make_settings(seed), wanted).users)
    seed, users = _SEEDED[key]
    dispose_engines()  # nothing holds either database open while it is copied
    shutil.rmtree(settings.home)
    shutil.copytree(seed, settings.home)
    return Accounts(settings, dict(users))


def _add_accounts(settings: Settings, wanted: tuple[str, ...]) -> Accounts:
    users: dict[str, int] = {}
    with session_scope(settings) as session:
        ensure_default_purposes(session)
        for username in wanted:
            organisation, role = ACCOUNTS[username]
            name, kind, gss = ORGANISATIONS[organisation]
            ensure_organisation(session, code=organisation, name=name, type=kind, gss_code=gss)
            found = session.scalars(select(User).where(User.username == username)).first()
            if found is None:
                found = create_user(
                    session,
                    username=username,
                    display_name=username.replace("-", " ").title(),
                    organisation=organisation,
                    role=role,
                    password=PASSWORD,
                )
            users[username] = found.id
        ethics_signed_off(session)
    return Accounts(settings, users)


class SignedInFor(Protocol):
    def __call__(
        self, settings: Settings, username: str = "admin", *, token: bool = True
    ) -> TestClient: ...


@pytest.fixture
def client_for() -> Iterator[Callable[[FastAPI | Settings], TestClient]]:
    """``client_for(app_or_settings)``: a TestClient that answers 500s instead of raising."""
    opened: list[TestClient] = []

    def make(target: FastAPI | Settings) -> TestClient:
        client = make_client(target if isinstance(target, FastAPI) else create_app(target))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def signed_in_for(client_for: Callable[[Settings], TestClient]) -> SignedInFor:
    def make(settings: Settings, username: str = "admin", *, token: bool = True) -> TestClient:
        found = add_accounts(settings, (username,))
        client = signed_in(client_for(settings), username)
        if token:
            client.headers["Authorization"] = f"Bearer {found.token(username)}"
        return client

    return make


@pytest.fixture
def accounts(home_settings: Settings) -> Accounts:
    return add_accounts(home_settings)


@pytest.fixture
def client(signed_in_for: SignedInFor, home_settings: Settings) -> TestClient:
    """A client for the app on an initialised SQLite home, signed in as the hub admin."""
    return signed_in_for(home_settings)


@pytest.fixture
def anonymous(client_for: Callable[[Settings], TestClient], home_settings: Settings) -> Any:
    """A client for the app on an initialised SQLite home, not signed in."""
    return client_for(home_settings)
