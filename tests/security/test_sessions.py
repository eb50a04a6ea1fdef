"""Sign-in, sessions and API tokens: cookie flags, fixation, sign-out, timeouts, tampering,
open redirects, throttling through the form, the purpose page and the page header."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import ApiToken, AuditEvent, User, UserSession
from joinedup.catalog.types import utcnow
from joinedup.governance.accounts import MAX_FAILURES_PER_ADDRESS_AND_USER
from joinedup.web import auth
from tests.security.conftest import Hub
from tests.support import PASSWORD, csrf_of, make_client, sign_in

if TYPE_CHECKING:
    from httpx import Response

COOKIE = auth.COOKIE_NAME


@pytest.fixture
def hub(accounts_hub: Hub) -> Hub:
    """These tests need accounts, not datasets."""
    return accounts_hub


def set_cookie(response: Response) -> str:
    values = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    [value] = [v for v in values if v.startswith(COOKIE + "=")]
    return value


def actions(hub: Hub) -> list[str]:
    with session_scope(hub.settings) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def error_summary(html: str) -> list[str]:
    found = re.search(r'<div class="govuk-error-summary.*?</ul>', html, re.S)
    assert found, "no error summary"
    return [t.strip() for t in re.findall(r"<a [^>]*>(.*?)</a>", found.group(0), re.S)]


# --- the cookie ------------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(hub: Hub) -> None:
    client = hub.client()
    response = sign_in(client, "lam-analyst")
    assert response.status_code == 303
    cookie = set_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http (a test client); see below for https

    secure = make_client(hub.app)
    secure.base_url = secure.base_url.copy_with(scheme="https")  # type: ignore[assignment]
    with secure:
        response = sign_in(secure, "lam-analyst")
        assert response.status_code == 303
        assert "; Secure" in set_cookie(response)


def test_public_pages_set_no_cookie(hub: Hub) -> None:
    client = hub.client()
    for path in ("/", "/accessibility", "/api", "/healthz", "/api/v1/status"):
        assert COOKIE not in client.get(path).headers.get("set-cookie", "")


def test_a_new_session_at_sign_in_and_nothing_carries_over(hub: Hub) -> None:
    """Session fixation: the cookie before sign-in is not the cookie after, and a cookie an
    attacker planted before the victim signed in stays anonymous."""
    victim = hub.client()
    victim.get("/sign-in")
    planted = victim.cookies[COOKIE]
    assert sign_in(victim, "lam-analyst").status_code == 303
    after = victim.cookies[COOKIE]
    assert after != planted

    attacker = hub.client()
    attacker.cookies.set(COOKIE, planted)
    assert attacker.get("/jobs", follow_redirects=False).status_code == 303
    assert victim.get("/jobs").status_code == 200

    # Signing in again (say, as someone else on a shared computer) ends the first session.
    assert sign_in(victim, "lam-case").status_code == 303
    old = hub.client()
    old.cookies.set(COOKIE, after)
    assert old.get("/jobs", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_on_the_server(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    cookie = client.cookies[COOKIE]
    token = csrf_of(client.get("/jobs").text)
    response = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?signed-out=1"
    assert "Max-Age=0" in set_cookie(response)
    assert "You have signed out" in client.get("/sign-in?signed-out=1").text

    replay = hub.client()
    replay.cookies.set(COOKIE, cookie)
    assert replay.get("/jobs", follow_redirects=False).status_code == 303
    assert replay.get("/api/v1/jobs").status_code == 401
    assert "auth.sign_out" in actions(hub)
    with session_scope(hub.settings) as session:
        [row] = session.scalars(select(UserSession)).all()
        assert row.revoked_at is not None


@pytest.mark.parametrize(
    ("column", "ago"),
    [
        ("last_seen_at", auth.IDLE_TIMEOUT + timedelta(seconds=5)),
        ("expires_at", timedelta(seconds=1)),
    ],
    ids=["idle", "absolute"],
)
def test_sessions_time_out(hub: Hub, column: str, ago: timedelta) -> None:
    client = hub.signed_in("lam-analyst")
    assert client.get("/jobs").status_code == 200
    with session_scope(hub.settings) as session:
        session.execute(update(UserSession).values({column: utcnow() - ago}))
    response = client.get("/jobs", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/jobs"


def test_activity_keeps_a_session_alive(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    with session_scope(hub.settings) as session:
        session.execute(update(UserSession).values(last_seen_at=utcnow() - auth.IDLE_TIMEOUT / 2))
    assert client.get("/jobs").status_code == 200
    with session_scope(hub.settings) as session:
        [row] = session.scalars(select(UserSession)).all()
        assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_a_tampered_or_foreign_cookie_is_anonymous(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    good = client.cookies[COOKIE]
    for bad in (good[:-2] + ("AA" if not good.endswith("AA") else "BB"), "x", good + "x"):
        other = hub.client()
        other.cookies.set(COOKIE, bad)
        assert other.get("/jobs", follow_redirects=False).status_code == 303
    # The same payload signed with another hub's key.
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("another-key", salt="joinedup.session").dumps(
        {"sid": "guess", "csrf": "x"}
    )
    other = hub.client()
    other.cookies.set(COOKIE, forged)
    assert other.get("/jobs", follow_redirects=False).status_code == 303


def test_a_deactivated_user_is_signed_out(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    with session_scope(hub.settings) as session:
        session.execute(update(User).where(User.username == "lam-analyst").values(is_active=False))
    assert client.get("/jobs", follow_redirects=False).status_code == 303


def test_the_session_id_is_stored_hashed(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst")
    from itsdangerous import URLSafeTimedSerializer

    data = URLSafeTimedSerializer("test-secret-key", salt="joinedup.session").loads(
        client.cookies[COOKIE]
    )
    with session_scope(hub.settings) as session:
        [row] = session.scalars(select(UserSession)).all()
        assert row.id_hash != data["sid"] and len(row.id_hash) == 64
        assert session.get(UserSession, data["sid"]) is None


# --- the sign-in form ------------------------------------------------------------------------


def test_wrong_username_and_wrong_password_get_the_same_answer(hub: Hub) -> None:
    client = hub.client()
    wrong_password = sign_in(client, "lam-analyst", "not the password at all")
    no_such_user = sign_in(client, "nobody-here", "not the password at all")
    for response in (wrong_password, no_such_user):
        assert response.status_code == 422
        assert error_summary(response.text) == ["Enter a correct username and password"]
        assert 'value="' + "not the password" not in response.text  # never echoed
    assert wrong_password.text.count("Enter a correct") == no_such_user.text.count(
        "Enter a correct"
    )
    assert actions(hub).count("auth.sign_in_failed") == 2


def test_empty_answers(hub: Hub) -> None:
    client = hub.client()
    token = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"csrf_token": token})
    assert response.status_code == 422
    assert error_summary(response.text) == ["Enter your username", "Enter your password"]
    assert "<title>Error: Sign in – joinedup</title>" in response.text


def test_throttling_through_the_form(hub: Hub) -> None:
    client = hub.client()
    for _ in range(MAX_FAILURES_PER_ADDRESS_AND_USER):
        assert sign_in(client, "lam-analyst", "wrong password!!").status_code == 422
    # Now even the right password is refused, with the throttling message.
    response = sign_in(client, "lam-analyst", PASSWORD)
    assert response.status_code == 429
    assert "too many attempts to sign in" in response.text
    assert client.get("/jobs", follow_redirects=False).status_code == 303
    assert "auth.sign_in_throttled" in actions(hub)
    # Another account from elsewhere is unaffected.
    assert sign_in(hub.client(), "lam-case").status_code == 303


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aSet-Cookie:x=1",
        "/jobs\r\nX: y",
        "",
    ],
)
def test_next_never_leaves_the_site(hub: Hub, next_path: str) -> None:
    client = hub.client()
    response = sign_in(client, "lam-analyst", next_path=next_path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location.split("?")[0] or location.startswith("/%0d%0a")
    assert "\r" not in location and "\n" not in location


def test_next_leads_back_to_the_page_asked_for(hub: Hub) -> None:
    client = hub.client()
    first = client.get("/datasets/lambeth/school-census?tab=versions", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == (
        "/sign-in?next=/datasets/lambeth/school-census%3Ftab%3Dversions"
    )
    form = client.get(first.headers["location"]).text
    assert 'name="next" value="/datasets/lambeth/school-census?tab=versions"' in form
    response = sign_in(client, "lam-analyst", next_path="/datasets/lambeth/school-census?tab=x")
    assert response.headers["location"] == "/datasets/lambeth/school-census?tab=x"


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("/jobs", "/jobs"),
        ("/jobs?x=1#y", "/jobs?x=1#y"),
        ("//evil", "/"),
        ("/\\evil", "/"),
        ("https://evil", "/"),
        ("jobs", "/"),
        ("/a\x00b", "/"),
        ("/" + "a" * 3000, "/"),
        (None, "/"),
    ],
)
def test_safe_next(value: str | None, safe: str) -> None:
    assert auth.safe_next(value) == safe


# --- pages need a principal, the API a token or session --------------------------------------


def test_pages_send_people_to_sign_in_and_the_api_answers_401(hub: Hub) -> None:
    client = hub.client()
    page = client.get("/jobs", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/sign-in?next=/jobs"
    api = client.get("/api/v1/jobs")
    assert api.status_code == 401
    assert api.headers["www-authenticate"] == "Bearer"
    assert "Sign in, or send an API token" in api.json()["detail"]


def test_api_tokens(hub: Hub) -> None:
    token = hub.token("lam-analyst", ("read",))
    client = hub.client()
    ok = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    with session_scope(hub.settings) as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() is not None

    for bad in (token[:-1] + "x", "jdu_nope_nope", "not-a-token", ""):
        response = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert "invalid_token" in response.headers["www-authenticate"] or not bad
    basic = client.get("/api/v1/jobs", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401

    # A bad token is refused even with a good session cookie: no silent fall-back.
    signed = hub.signed_in("lam-analyst")
    assert signed.get("/api/v1/jobs").status_code == 200
    bearer = {"Authorization": "Bearer jdu_nope_nope"}
    assert signed.get("/api/v1/jobs", headers=bearer).status_code == 401

    # Tokens are for the API: a page ignores them.
    page = client.get("/jobs", headers={"Authorization": f"Bearer {token}"}, follow_redirects=False)
    assert page.status_code == 303


def test_expired_and_revoked_tokens_and_deactivated_users(hub: Hub) -> None:
    client = hub.client()

    def status(token: str) -> int:
        return client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"}).status_code

    assert status(hub.token("lam-analyst", ("read",), expires_in=timedelta(seconds=-1))) == 401

    revoked = hub.token("lam-case", ("read",))
    with session_scope(hub.settings) as session:
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    assert status(revoked) == 401

    live = hub.token("lam-dpo", ("read",))
    assert status(live) == 200
    with session_scope(hub.settings) as session:
        session.execute(update(User).where(User.username == "lam-dpo").values(is_active=False))
    assert status(live) == 401


def test_scopes(hub: Hub) -> None:
    client = hub.client()
    ingest_only = hub.token("lam-owner", ("ingest",))
    response = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {ingest_only}"})
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token does not have the 'read' scope"
    with pytest.raises(ValueError, match="unknown scope"):
        auth.require_scope("everything")


# --- the purpose, and the header -------------------------------------------------------------


def test_choosing_a_purpose(hub: Hub) -> None:
    client = hub.signed_in("lam-analyst", purpose=None)
    home = client.get("/").text
    assert "Signed in as <strong>Lam Analyst</strong>, Lambeth." in home
    assert "No purpose chosen." in home
    assert 'href="/purpose?next=/"' in home

    page = client.get("/purpose?next=/jobs")
    assert page.status_code == 200
    html = page.text
    assert "Choose the purpose you are acting under" in html
    assert "Free school meals auto-enrolment" in html
    assert "Lawful basis: UK GDPR Article 6(1)(e): public task" in html
    assert 'name="next" value="/jobs"' in html
    token = csrf_of(html)

    missing = client.post("/purpose", data={"csrf_token": token, "next": "/jobs"})
    assert missing.status_code == 422
    assert error_summary(missing.text) == ["Select the purpose you are acting under"]
    unknown = client.post("/purpose", data={"csrf_token": token, "purpose": "snooping"})
    assert unknown.status_code == 422

    chosen = client.post(
        "/purpose",
        data={"csrf_token": token, "purpose": "fsm", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303 and chosen.headers["location"] == "/"
    home = client.get("/").text
    assert "Acting for: <strong>Free school meals auto-enrolment</strong>." in home
    assert 'Change<span class="govuk-visually-hidden"> the purpose' in home
    assert re.search(r'value="fsm"\s+checked', client.get("/purpose").text)
    with session_scope(hub.settings) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.purpose_change")
        ).one()
        assert event.purpose == "fsm" and event.actor == "lam-analyst"
        assert event.details == {"from": None, "to": "fsm"}


def test_the_header_offers_sign_in_or_sign_out(hub: Hub) -> None:
    anonymous = hub.client().get("/").text
    assert '<a class="govuk-service-navigation__link" href="/sign-in">Sign in</a>' in anonymous
    assert "Signed in as" not in anonymous
    signed = hub.signed_in("lam-analyst").get("/").text
    assert re.search(
        r'<form method="post" action="/sign-out"[^>]*>\s*<input type="hidden" '
        r'name="csrf_token" value="[^"]+">',
        signed,
    )
    assert ">Sign out</button>" in signed


def test_every_sign_in_failure_sign_out_and_purpose_change_is_audited(hub: Hub) -> None:
    sign_in(hub.client(), "lam-analyst", "wrong password!!")
    client = hub.signed_in("lam-analyst", purpose="statistics")
    client.post("/sign-out", data={"csrf_token": csrf_of(client.get("/").text)})
    assert [a for a in actions(hub) if a.startswith("auth.")] == [
        "auth.sign_in_failed",
        "auth.sign_in",
        "auth.purpose_change",
        "auth.sign_out",
    ]


def test_a_personal_data_page_asks_for_the_purpose_first(hub: Hub) -> None:
    """No page reads personal data yet; this one shows what require_purpose does for pages."""
    from fastapi import APIRouter, Depends
    from fastapi.responses import PlainTextResponse

    router = APIRouter()

    @router.get("/residents-test", openapi_extra=auth.access(auth.PERSONAL_DATA))
    def residents(principal: auth.Principal = Depends(auth.require_purpose)) -> PlainTextResponse:
        return PlainTextResponse(f"{principal.username} for {principal.purpose}")

    hub.app.include_router(router)
    client = hub.signed_in("lam-analyst", purpose=None)
    first = client.get("/residents-test?page=2", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/purpose?next=/residents-test%3Fpage%3D2"
    token = csrf_of(client.get(first.headers["location"]).text)
    chosen = client.post(
        "/purpose",
        data={"csrf_token": token, "purpose": "fsm", "next": "/residents-test?page=2"},
        follow_redirects=False,
    )
    assert chosen.headers["location"] == "/residents-test?page=2"
    assert client.get("/residents-test?page=2").text == "lam-analyst for fsm"
    anonymous = hub.client().get("/residents-test", follow_redirects=False)
    assert anonymous.headers["location"] == "/sign-in?next=/residents-test"
