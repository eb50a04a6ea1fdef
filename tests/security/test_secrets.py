"""Passwords, API tokens and session ids: never logged, never stored in plain text, compared in
constant time."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sql_inspect
from sqlalchemy import text

from joinedup.catalog.db import dispose_engines, get_engine
from joinedup.governance import accounts, tokens
from joinedup.web import auth
from tests.security.conftest import DATASET, OWN, PURPOSE, SHARED, build_hub
from tests.support import PASSWORD, csrf_of, sign_in

WRONG_PASSWORD = "hunter2-but-longer-and-wrong"


def database_text(settings: Any) -> str:
    """Every value in every table of the control plane, as one string."""
    engine = get_engine(settings)
    out = []
    with engine.connect() as conn:
        for table in sql_inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def test_no_secret_reaches_the_logs_or_the_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, including SQLAlchemy's statements
    for name in ("sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        hub = build_hub(tmp_path / "home")
        client = hub.client()
        assert sign_in(client, "lam-analyst", WRONG_PASSWORD).status_code == 422
        assert sign_in(client, "lam-analyst", PASSWORD).status_code == 303
        cookie = client.cookies[auth.COOKIE_NAME]
        form_token = csrf_of(client.get("/purpose").text)
        client.post("/purpose", data={"csrf_token": form_token, "purpose": PURPOSE})
        assert client.get(f"/api/v1/datasets/{SHARED}/{DATASET}").status_code == 200

        api_token = hub.token("lam-owner")
        api = hub.client()
        api.headers["Authorization"] = f"Bearer {api_token}"
        api.headers[auth.PURPOSE_HEADER] = PURPOSE
        assert api.get("/api/v1/jobs").status_code == 200
        records = f"/api/v1/datasets/{OWN}/{DATASET}/records"
        assert api.get(records, params={"fields": "given_name"}).status_code == 200
        bad = api.get("/api/v1/jobs", headers={"Authorization": f"Bearer {api_token}x"})
        assert bad.status_code == 401
        client.post("/sign-out", data={"csrf_token": form_token})
        hub.close()

        from itsdangerous import URLSafeTimedSerializer

        session_id = URLSafeTimedSerializer("test-secret-key", salt="joinedup.session").loads(
            cookie
        )["sid"]
        secrets = {
            "password": PASSWORD,
            "wrong password": WRONG_PASSWORD,
            "API token": api_token,
            "API token's secret part": api_token.split("_", 2)[2],
            "session cookie": cookie,
            "session id": session_id,
            "CSRF token": form_token,
        }
        logged = caplog.text
        assert "SELECT" in logged  # the capture did see the database statements
        stored = database_text(hub.settings)
        for what, secret in secrets.items():
            assert secret not in logged, f"the {what} was logged"
            assert secret not in stored, f"the {what} is stored in the database"
    finally:
        for name in ("sqlalchemy.engine", "sqlalchemy.pool"):
            logging.getLogger(name).setLevel(logging.NOTSET)
        dispose_engines()


def test_comparisons_of_secrets_take_constant_time() -> None:
    assert "hmac.compare_digest" in inspect.getsource(tokens.verify_token)
    assert "hmac.compare_digest" in inspect.getsource(auth.check_csrf_value)


def test_an_unknown_username_costs_a_password_check_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So the time to answer does not say whether an account exists."""
    hub = build_hub(tmp_path / "home", data=False)
    calls: list[str] = []
    real = accounts._hasher

    class Counting:
        def verify(self, password: str, stored: str) -> bool:
            calls.append(stored)
            return bool(real.verify(password, stored))

        def verify_and_update(self, password: str, stored: str) -> tuple[bool, str | None]:
            calls.append(stored)
            return real.verify_and_update(password, stored)

    monkeypatch.setattr(accounts, "_hasher", Counting())
    try:
        client = hub.client()
        assert sign_in(client, "no-such-person", WRONG_PASSWORD).status_code == 422
        assert sign_in(client, "lam-analyst", WRONG_PASSWORD).status_code == 422
        assert len(calls) == 2 and calls[0] == accounts._DUMMY_HASH
    finally:
        hub.close()
        dispose_engines()
