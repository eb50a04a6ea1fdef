"""Security headers on every kind of response, and the CSP nonce."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import APIRouter, Response

from joinedup.config import Settings
from joinedup.web.app import create_app
from joinedup.web.security import content_security_policy

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
CSP_DIRECTIVES = [
    "default-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]


def assert_security_headers(response: Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert "camera=()" in response.headers["permissions-policy"]
    csp = response.headers["content-security-policy"]
    for directive in CSP_DIRECTIVES:
        assert directive in csp.split("; "), directive
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}'", csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize(
    "path",
    ["/", "/accessibility", "/api", "/jobs", "/healthz", "/api/v1/status", "/openapi.json"],
)
def test_headers_on_pages_and_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers


def test_headers_on_static_files_which_may_be_cached(client: TestClient) -> None:
    response = client.get("/static/js/joinedup.js")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize("path", ["/no-such-page", "/api/v1/no-such-thing", "/static/nope.css"])
def test_headers_on_not_found(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert_security_headers(response)


def test_headers_on_server_errors(client_for: Any, home_settings: Settings) -> None:
    app = create_app(home_settings)
    broken = APIRouter()

    @broken.get("/broken")
    def fail() -> None:
        raise RuntimeError("boom")

    app.include_router(broken)
    response = client_for(app).get("/broken")
    assert response.status_code == 500
    assert_security_headers(response)
    assert "boom" not in response.text


def test_hsts_only_over_https(client: TestClient) -> None:
    response = client.get("https://testserver/")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_nonce_matches_the_inline_script_and_changes_per_request(client: TestClient) -> None:
    nonces = []
    for _ in range(2):
        response = client.get("/")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
        assert nonce
        nonces.append(nonce.group(1))
        scripts = re.findall(r"<script\b([^>]*)>", response.text)
        assert scripts
        for attributes in scripts:
            # Every script is either external (from 'self') or carries this request's nonce.
            assert f'nonce="{nonce.group(1)}"' in attributes or "src=" in attributes
    assert nonces[0] != nonces[1]


@pytest.mark.parametrize("path", ["/", "/accessibility", "/api", "/jobs", "/no-such-page"])
def test_pages_need_nothing_the_csp_forbids(client: TestClient, path: str) -> None:
    html = client.get(path).text
    assert " style=" not in html  # inline styles are blocked by style-src 'self'
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        if url.startswith(("http://", "https://", "//")):
            # Links to other sites are fine; nothing may be loaded from them.
            assert not re.search(rf'<(?:script|img|link)[^>]+"{re.escape(url)}"', html), url


def test_a_route_can_set_its_own_header(client_for: Any, home_settings: Settings) -> None:
    app = create_app(home_settings)
    router = APIRouter()

    @router.get("/embeddable")
    def embeddable() -> Response:
        return Response("ok", headers={"Cross-Origin-Resource-Policy": "cross-origin"})

    app.include_router(router)
    response = client_for(app).get("/embeddable")
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_policy_text() -> None:
    assert content_security_policy("abc").startswith(
        "default-src 'self'; script-src 'self' 'nonce-abc'"
    )
