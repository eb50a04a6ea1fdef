"""CSRF: every form POST needs this session's token; API calls with a bearer token do not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Job, UserSession
from tests.security.conftest import CENSUS, DATASET, OWN, Hub
from tests.support import csrf_of

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def jobs_count(hub: Hub) -> int:
    with session_scope(hub.settings) as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def signed_in_without_header(hub: Hub, username: str = "lam-owner") -> tuple[TestClient, str]:
    """A signed-in client that sends no CSRF header by itself, and its session's token."""
    client = hub.signed_in(username)
    token = client.headers.pop("X-CSRF-Token")
    return client, token


def test_a_form_post_needs_the_sessions_token(accounts_hub: Hub) -> None:
    hub = accounts_hub
    client, token = signed_in_without_header(hub)
    form = {"purpose": "statistics"}
    assert client.post("/purpose", data=form).status_code == 403
    wrong = {**form, "csrf_token": "0" * 64}
    assert client.post("/purpose", data=wrong).status_code == 403
    # Another session's token (the attacker's own) is no good either.
    _, theirs = signed_in_without_header(hub, "lam-case")
    stolen = {**form, "csrf_token": theirs}
    assert client.post("/purpose", data=stolen).status_code == 403
    good = {**form, "csrf_token": token}
    response = client.post("/purpose", data=good, follow_redirects=False)
    assert response.status_code == 303


def test_the_refusal_page(accounts_hub: Hub) -> None:
    client, _ = signed_in_without_header(accounts_hub)
    response = client.post("/purpose", data={"purpose": "fsm"})
    assert response.status_code == 403
    assert "You do not have permission to see this page" in response.text
    assert "The form has expired or did not come from this site" in response.text


def test_sign_out_needs_the_token(accounts_hub: Hub) -> None:
    client, token = signed_in_without_header(accounts_hub)
    assert client.post("/sign-out", data={}).status_code == 403
    assert client.get("/jobs").status_code == 200  # still signed in
    signed_out = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert signed_out.status_code == 303


def test_signing_in_needs_the_forms_token(accounts_hub: Hub) -> None:
    """Login CSRF: another site cannot sign a visitor in to the attacker's account."""
    client = accounts_hub.client()
    form = {"username": "lam-owner", "password": "correct horse battery staple"}
    assert client.post("/sign-in", data=form).status_code == 403
    token = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={**form, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_another_origin_is_refused_even_with_the_token(accounts_hub: Hub) -> None:
    client, token = signed_in_without_header(accounts_hub)
    for header in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ):
        response = client.post(
            "/purpose", data={"purpose": "fsm", "csrf_token": token}, headers=header
        )
        assert response.status_code == 403, header
    same = client.post(
        "/purpose",
        data={"purpose": "fsm", "csrf_token": token},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_the_upload_page_checks_the_token_and_keeps_nothing(hub: Hub) -> None:
    client, token = signed_in_without_header(hub)
    fields = {"organisation": OWN, "dataset": DATASET, "standard": "school_census"}
    files = {"file": ("census.csv", CENSUS.encode(), "text/csv")}
    before = jobs_count(hub)
    for form in (fields, {**fields, "csrf_token": "forged"}):
        response = client.post("/upload", data=form, files=files)
        assert response.status_code == 403
        assert list(hub.settings.uploads_dir.iterdir()) == []
        assert jobs_count(hub) == before
    ok = client.post(
        "/upload", data={**fields, "csrf_token": token}, files=files, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith("/jobs/")
    assert jobs_count(hub) == before + 1


def test_the_upload_form_carries_the_token_first(hub: Hub) -> None:
    client, token = signed_in_without_header(hub)
    html = client.get("/upload").text
    form = html.split('action="/upload"', 1)[1]
    assert form.index('name="csrf_token"') < form.index('name="organisation"')
    assert f'value="{token}"' in form


def test_api_calls_with_a_session_need_the_header_but_tokens_do_not(hub: Hub) -> None:
    url = f"/api/v1/datasets/{OWN}/{DATASET}/versions?wait=true"
    files = {"file": ("census.csv", CENSUS.encode(), "text/csv")}
    data = {"standard": "school_census"}
    client, token = signed_in_without_header(hub)
    refused = client.post(url, data=data, files=files)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Send the X-CSRF-Token header, or use an API token"
    with_header = client.post(url, data=data, files=files, headers={"X-CSRF-Token": token})
    assert with_header.status_code == 200  # the same file again: unchanged

    bearer = hub.client()
    bearer.headers["Authorization"] = f"Bearer {hub.token('lam-owner', ('ingest',))}"
    assert bearer.post(url, data=data, files=files).status_code == 200
    # Even with a cross-site Origin: a browser never adds a bearer token by itself.
    cross = bearer.post(url, data=data, files=files, headers={"Origin": "https://x.example"})
    assert cross.status_code == 200


def test_an_anonymous_visitor_gets_a_token_only_where_there_is_a_form(accounts_hub: Hub) -> None:
    client = accounts_hub.client()
    client.get("/")
    assert "joinedup_session" not in client.cookies
    client.get("/sign-in")
    assert "joinedup_session" in client.cookies
    with session_scope(accounts_hub.settings) as session:  # no server-side session for it
        assert session.scalar(select(func.count()).select_from(UserSession)) == 0


#: For each role, one of the hub's users who has it.
USER_WITH_ROLE = {
    "hub_admin": "admin",
    "data_owner": "lam-owner",
    "analyst": "lam-analyst",
    "caseworker": "lam-case",
    "dpo": "lam-dpo",
}


def test_every_form_route_refuses_a_post_without_the_token(shared_hub: Hub) -> None:
    """Whatever a form route does with its body (parse it, stream it as multipart), a POST
    without the session's token from someone allowed to use the route is refused with 403
    before anything happens."""
    from tests.security.routes import discover
    from tests.security.test_matrix import _url

    clients: dict[str, TestClient] = {}
    wrong: list[str] = []
    checked = 0
    for route in discover(shared_hub.app):
        if not route.unsafe or route.is_api or route.access is None:
            continue
        roles = sorted(route.roles) if route.roles else ["data_owner"]
        username = USER_WITH_ROLE[roles[0]]
        if username not in clients:
            clients[username], _ = signed_in_without_header(shared_hub, username)
        client = clients[username]
        url = _url(route, "own", shared_hub)
        for kind, body in (
            ("form", {"data": {"x": "1"}}),
            ("multipart", {"data": {"x": "1"}, "files": {"file": ("a.csv", b"a\n1\n")}}),
        ):
            for method in route.methods:
                response = client.request(method, url, follow_redirects=False, **body)
                checked += 1
                if response.status_code != 403 or "did not come from this site" not in (
                    response.text
                ):
                    wrong.append(f"{method} {route.path} ({kind}): {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 20
