"""Helpers shared by tests (fixtures live in conftest.py): settings for a throwaway home, test
clients, signing in through the real forms with the CSRF token, and API tokens."""

from __future__ import annotations

import re
import socket
import warnings
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import User
from joinedup.config import Settings
from joinedup.governance.tokens import SCOPES, create_token

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from httpx import Response

#: The password of every test account created with a known password.
PASSWORD = "correct horse battery staple"
#: The worker's SQLite home template, once made (``sqlite_home_template`` in conftest.py).
SQLITE_TEMPLATE: list[Path] = []
#: The secret key of :func:`make_settings`.
SECRET_KEY = "test-secret-key"


def make_settings(home: Path, database_url: str = "") -> Settings:
    """Settings for a throwaway home with a fixed secret key."""
    return Settings(home=home, database_url=database_url, secret_key=SECRET_KEY)


def _files(home: Path) -> dict[str, bytes]:
    return {str(f.relative_to(home)): f.read_bytes() for f in home.rglob("*") if f.is_file()}


def still_the_template(settings: Settings) -> bool:
    """Is ``settings``'s home an untouched copy of the worker's SQLite home template (the same
    files, byte for byte, and the test secret key)?"""
    if not SQLITE_TEMPLATE or settings.database_url or settings.secret_key != SECRET_KEY:
        return False
    return settings.home.is_dir() and _files(settings.home) == _files(SQLITE_TEMPLATE[0])


def make_client(app: FastAPI) -> TestClient:
    """A TestClient that answers 500s instead of raising (open it with ``with`` or
    ``__enter__`` to run the app's lifespan)."""
    with warnings.catch_warnings():
        # Starlette suggests httpx2; the TestClient works with the pinned httpx.
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app, raise_server_exceptions=False)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on the page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = ""
) -> Response:
    """Sign in through the form (GET for the CSRF token, then POST); the 303 is not followed."""
    token = csrf_of(client.get("/sign-in").text)
    return client.post(
        "/sign-in",
        data={"csrf_token": token, "username": username, "password": password, "next": next_path},
        follow_redirects=False,
    )


def choose_purpose(client: TestClient, code: str) -> Response:
    """Choose the purpose through the form; the redirect is not followed."""
    token = csrf_of(client.get("/purpose").text)
    return client.post(
        "/purpose", data={"csrf_token": token, "purpose": code}, follow_redirects=False
    )


def signed_in(
    client: TestClient, username: str, password: str = PASSWORD, purpose: str | None = None
) -> TestClient:
    """``client`` signed in through the form, acting for ``purpose`` (None: none chosen), and
    sending the session's CSRF token in ``X-CSRF-Token`` on every request, as a script on
    our pages would."""
    response = sign_in(client, username, password)
    assert response.status_code == 303, response.text
    if purpose is not None:
        chosen = choose_purpose(client, purpose)
        assert chosen.status_code in (200, 303), chosen.text
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/purpose").text)
    return client


def api_token(
    settings: Settings,
    username: str,
    scopes: Iterable[str] = SCOPES,
    *,
    name: str = "test",
    expires_in: timedelta | None = None,
) -> str:
    """A new API token of ``username`` with ``scopes`` (plaintext)."""
    from joinedup.catalog.types import utcnow

    with session_scope(settings) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        expires = utcnow() + expires_in if expires_in is not None else None
        return create_token(session, user, name, list(scopes), expires).plaintext


def bearer(token: str, purpose: str | None = None) -> dict[str, str]:
    """Headers that send ``token``, acting for ``purpose`` when given."""
    headers = {"Authorization": f"Bearer {token}"}
    if purpose is not None:
        headers["X-Joinedup-Purpose"] = purpose
    return headers


def ethics_signed_off(session: Session, today: date | None = None) -> None:
    """Give every registered purpose without one a signed-off ethics record in date, so that
    agreements under them can become active (written as rows: a fixture's set-up, not a
    DPO's audited sign-off; tests of the sign-off itself use ``governance.ethics``)."""
    from joinedup.catalog.models import Purpose, Role
    from joinedup.catalog.models_toolkit import EthicsRecord
    from joinedup.governance.ethics import QUESTION_KEYS, SIGNED_OFF

    session.flush()
    users = list(session.scalars(select(User).order_by(User.id)))
    if not users:
        return
    dpo = next((u for u in users if u.role == Role.DPO), users[0])
    signed = set(
        session.scalars(select(EthicsRecord.subject).where(EthicsRecord.status == SIGNED_OFF))
    )
    review = (today or date.today()) + timedelta(days=3650)
    for code in session.scalars(select(Purpose.code)):
        if code not in signed:
            session.add(
                EthicsRecord(
                    subject_type="purpose",
                    subject=code,
                    version=1,
                    answers={key: f"Test answer: {key}" for key in QUESTION_KEYS},
                    review_date=review,
                    status=SIGNED_OFF,
                    drafted_by_id=users[0].id,
                    signed_off_by_id=dpo.id,
                    sign_off_note="test fixture",
                )
            )
    session.flush()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` just now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
