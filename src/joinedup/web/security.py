"""Security headers on every response, and the per-request CSP nonce.

The Content-Security-Policy allows scripts from our own origin plus inline scripts that carry
this request's nonce (the GOV.UK template has one inline script that marks the body as
JavaScript-enabled). Nothing is allowed from any other origin.

Headers are only added when the response has not set them itself, so a route with a genuine
need (say, a public open-data file that other sites may embed) can set its own value.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NONCE_STATE_KEY = "csp_nonce"

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def new_nonce() -> str:
    """A fresh, unguessable nonce (128 bits of randomness, URL-safe)."""
    return secrets.token_urlsafe(16)


def content_security_policy(nonce: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": "'self'",
        "img-src": "'self'",
        "font-src": "'self'",
        "connect-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(nonce: str, *, https: bool = False, cacheable: bool = False) -> dict[str, str]:
    """The headers every response carries. ``cacheable`` is for static assets only."""
    headers = {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not cacheable:
        # Pages and API answers may hold personal data: never keep them in shared caches.
        headers["Cache-Control"] = "no-store"
    return headers


def apply_security_headers(
    headers: MutableHeaders, nonce: str, *, https: bool = False, cacheable: bool = False
) -> None:
    for name, value in security_headers(nonce, https=https, cacheable=cacheable).items():
        if name not in headers:
            headers[name] = value


def csp_nonce(request: Request) -> str:
    """This request's nonce, for ``<script nonce="...">`` in templates."""
    nonce = request.scope.setdefault("state", {}).get(NONCE_STATE_KEY)
    if not nonce:
        nonce = new_nonce()
        request.scope["state"][NONCE_STATE_KEY] = nonce
    return str(nonce)


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: makes a nonce per request and adds the headers to the response."""

    def __init__(self, app: ASGIApp, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        nonce = state.get(NONCE_STATE_KEY) or new_nonce()
        state[NONCE_STATE_KEY] = nonce
        https = scope.get("scheme") == "https"
        cacheable = str(scope.get("path", "")).startswith(self.static_prefix)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                apply_security_headers(headers, nonce, https=https, cacheable=cacheable)
            await send(message)

        await self.app(scope, receive, send_with_headers)
