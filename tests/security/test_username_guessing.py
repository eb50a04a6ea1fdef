"""Sign-in does not tell an attacker which usernames exist (issue 15, finding 8).

An unknown username, a known one with a wrong password, a deactivated account and a
password-less service account get the same page, status and headers, the same throttling, and
one argon2 verification each with the same parameters; a stored hash made with other argon2
parameters (an older release's) is brought to the current ones at the owner's next sign-in, so
its verification time stops standing out from the dummy hash's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import User
from joinedup.governance import accounts
from joinedup.governance.accounts import MAX_FAILURES_PER_ADDRESS_AND_USER, create_user
from tests.security.conftest import OWN, Hub
from tests.support import PASSWORD, sign_in

if TYPE_CHECKING:
    from httpx import Response

KNOWN = "lam-analyst"
UNKNOWN = "lam-analyxt"  # as long as KNOWN: the echoed name does not change the length
DEACTIVATED = "lam-leavers"
SERVICE = "lam-service"
WRONG = "not the password at all"
VARYING_HEADERS = {"date", "set-cookie", "x-request-id"}  # differ on every response
PARAMS = re.compile(r"^\$argon2id\$v=\d+\$(m=\d+,t=\d+,p=\d+)\$")


class CountingArgon2(Argon2Hasher):
    """The real argon2 hasher, counting its verifications."""

    def __init__(self, **kwargs: int) -> None:
        super().__init__(**kwargs)
        self.params = kwargs
        self.verified = 0

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        self.verified += 1
        return super().verify(password, hash)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingArgon2]:
    """The accounts module's hasher, with the parameters the suite's hashes were made with."""
    params = PARAMS.match(accounts._DUMMY_HASH)
    assert params is not None
    m, t, p = (int(part.split("=")[1]) for part in params.group(1).split(","))
    hasher = CountingArgon2(memory_cost=m, time_cost=t, parallelism=p)
    monkeypatch.setattr(accounts, "_hasher", PasswordHash((hasher,)))
    yield hasher


def _more_accounts(hub: Hub) -> None:
    with session_scope(hub.settings) as session:
        leaver = create_user(
            session,
            username=DEACTIVATED,
            display_name="Left",
            organisation=OWN,
            role="analyst",
            password=PASSWORD,
        )
        leaver.is_active = False
        create_user(
            session,
            username=SERVICE,
            display_name="Service",
            organisation=OWN,
            role="analyst",
            password=None,
        )


def _same(one: tuple[int, dict[str, str], str], other: tuple[int, dict[str, str], str]) -> None:
    assert one[0] == other[0]
    assert set(one[1].items()) ^ set(other[1].items()) == set()
    assert one[2] == other[2]


def _shape(response: Response, username: str) -> tuple[int, dict[str, str], str]:
    body = re.sub(r'name="csrf_token" value="[^"]+"', "csrf", response.text)
    body = re.sub(r'nonce="[^"]+"', "nonce", body.replace(username, "USERNAME"))
    headers = {
        k: re.sub(r"'nonce-[^']+'", "nonce", v)
        for k, v in response.headers.items()
        if k.lower() not in VARYING_HEADERS
    }
    headers.pop("content-length", None)  # the names differ in length for the extra accounts
    return response.status_code, headers, body


def test_every_failed_sign_in_looks_the_same(accounts_hub: Hub, counting: CountingArgon2) -> None:
    _more_accounts(accounts_hub)
    client = accounts_hub.client()
    shapes = {}
    for name, password in [
        (KNOWN, WRONG),
        (UNKNOWN, WRONG),
        (DEACTIVATED, PASSWORD),
        (SERVICE, WRONG),
    ]:
        client.cookies.clear()
        before = counting.verified
        response = sign_in(client, name, password)
        assert counting.verified - before == 1, name  # one real argon2 verification each
        shapes[name] = _shape(response, name)
    assert shapes[KNOWN][0] == 422
    assert "Enter a correct username and password" in shapes[KNOWN][2]
    for name, shape in shapes.items():
        _same(shape, shapes[KNOWN])
    assert (
        sign_in(client, KNOWN, WRONG).headers["content-length"]
        == (sign_in(client, UNKNOWN, WRONG).headers["content-length"])
    )


def test_throttling_looks_the_same_for_unknown_usernames(accounts_hub: Hub) -> None:
    client = accounts_hub.client()
    shapes = {}
    for name in (KNOWN, UNKNOWN):
        for _ in range(MAX_FAILURES_PER_ADDRESS_AND_USER):
            client.cookies.clear()
            assert sign_in(client, name, WRONG).status_code == 422
        client.cookies.clear()
        shapes[name] = _shape(sign_in(client, name, PASSWORD), name)
    assert shapes[KNOWN][0] == 429
    _same(shapes[UNKNOWN], shapes[KNOWN])


def test_the_dummy_hash_has_the_current_parameters(counting: CountingArgon2) -> None:
    fresh = PARAMS.match(accounts._hasher.hash("a fresh password of some length"))
    dummy = PARAMS.match(accounts._DUMMY_HASH)
    assert fresh is not None and dummy is not None
    assert dummy.group(1) == fresh.group(1)


def test_an_old_parameter_hash_is_brought_up_to_date_at_sign_in(
    accounts_hub: Hub, counting: CountingArgon2
) -> None:
    """A hash with other parameters verifies in a different time from the dummy hash, which
    tells an attacker the account exists; the owner's next sign-in rehashes it."""
    older = Argon2Hasher(
        time_cost=counting.params["time_cost"] + 1,
        memory_cost=counting.params["memory_cost"] * 2,
    )
    with session_scope(accounts_hub.settings) as session:
        user = session.scalars(select(User).where(User.username == KNOWN)).one()
        user.password_hash = older.hash(PASSWORD)
    assert sign_in(accounts_hub.client(), KNOWN, PASSWORD).status_code == 303
    with session_scope(accounts_hub.settings) as session:
        stored = session.scalars(select(User.password_hash).where(User.username == KNOWN)).one()
    assert stored is not None
    params = PARAMS.match(stored)
    dummy = PARAMS.match(accounts._DUMMY_HASH)
    assert params is not None and dummy is not None
    assert params.group(1) == dummy.group(1)
    assert counting.verify(PASSWORD, stored)
