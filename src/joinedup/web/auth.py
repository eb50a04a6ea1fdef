"""Who is asking, and may they: sessions, API tokens, CSRF and the access declarations.

A request is made by a :class:`Principal`, or by nobody:

* **Browser sessions.** The ``joinedup_session`` cookie is signed with the home's secret key
  (itsdangerous) and holds a random session id and a CSRF secret. Only the session id's sha256
  is stored (``user_session``), with the purpose the user chose. A session ends at sign-out
  (the row is revoked, so the old cookie no longer works), after :data:`IDLE_TIMEOUT` without a
  request, or :data:`ABSOLUTE_LIFETIME` after sign-in. Signing in always starts a brand-new
  session id and CSRF secret: nothing from before sign-in carries over (no session fixation).
  The cookie is HttpOnly, SameSite=Lax, and Secure when the request came over https.
* **API tokens.** ``Authorization: Bearer jdu_…`` on ``/api/…`` paths only (pages ignore it),
  checked by :func:`joinedup.governance.tokens.verify_token`. The purpose comes from the
  ``X-Joinedup-Purpose`` header; the token's scopes limit what it may do
  (:func:`require_scope`). A bad token is a 401, never a fall-back to the cookie.

Routes declare their access with :func:`access` in ``openapi_extra`` **and** enforce it with
the matching dependency; ``tests/security`` walks ``app.routes`` and fails if any route has no
declaration or a declaration its dependencies do not enforce:

===================  =========================================================================
declaration          dependency (any of these also requires a principal)
===================  =========================================================================
``public``           none
``signed-in``        :func:`require_principal` (or any of the below)
``role:a|b``         ``require_roles(Role.A, Role.B)``
``personal-data``    :func:`require_purpose`, and the read goes through
                     :func:`joinedup.governance.access.read_records`; declared with
                     ``roles=(...)`` also ``require_roles(...)`` of those roles
===================  =========================================================================

Every non-public ``/api/…`` route also depends on ``require_scope(...)``, and every
POST/PUT/PATCH/DELETE route on :func:`verify_csrf`. Routes do not use these directly: each has
one guard (:func:`joinedup.web.guards.guard`) made of them, which also writes the declaration::

    PROVIDERS = guard(SIGNED_IN, (Role.DATA_OWNER,), scope="governance")

    @router.post("/agreements/{reference}/approve", **PROVIDERS.route(csrf=True))
    def approve(request: Request, principal: Annotated[Principal, PROVIDERS.depends]): ...

Nothing here logs a password, a token or a cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, Purpose, Role, User, UserSession
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.governance.access import Actor
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.grants import grant_exists, granted, is_granted, refuse_purpose, standing
from joinedup.governance.tokens import SCOPES, verify_token
from joinedup.home import ensure_secret_key

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])

COOKIE_NAME = "joinedup_session"
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
#: A session's ``last_seen_at`` is written at most this often (not on every request).
TOUCH_EVERY = timedelta(seconds=60)
PURPOSE_HEADER = "X-Joinedup-Purpose"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
API_PREFIX = "/api/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ACCESS_KEY = "x-joinedup-access"
ROLES_KEY = "x-joinedup-roles"
PUBLIC = "public"
SIGNED_IN = "signed-in"
PERSONAL_DATA = "personal-data"

_PRINCIPAL_KEY = "joinedup_principal"
_COOKIE_DATA_KEY = "joinedup_cookie_data"
_PENDING_COOKIE_KEY = "joinedup_set_cookie"
_CSRF_CHECKED_KEY = "joinedup_csrf_checked"
_GRANTED_KEY = "joinedup_purpose_granted"
_SESSION_SALT = "joinedup.session"
_CSRF_SALT = b"joinedup.csrf"


# --- the principal ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """The signed-in user (or the user behind an API token) making this request."""

    user_id: int
    username: str
    display_name: str
    organisation_id: int
    organisation_code: str
    role: str
    purpose: str | None  # chosen in the session, or the API header X-Joinedup-Purpose
    via: str  # "session" or "token"
    scopes: frozenset[str]  # token scopes; for sessions all scopes
    organisation_name: str = ""
    purpose_name: str = ""  # the purpose's name in the register, for the page header

    def actor(self) -> Actor:
        """The actor for :mod:`joinedup.governance.access` (the personal-data gateway)."""
        return Actor(
            user_id=self.user_id,
            username=self.username,
            organisation_id=self.organisation_id,
            role=self.role,
            purpose=self.purpose,
        )

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {str(r) for r in roles}


# --- redirects for pages ----------------------------------------------------------------------


class RedirectRequired(Exception):
    """A page needs the person to do something first (sign in, choose a purpose): 303 there.

    :func:`joinedup.web.errors.install_error_handlers` turns this into the redirect.
    """

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not value or len(value) > 2000:
        return default
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def _here(request: Request) -> str:
    path = request.url.path
    if request.method == "GET" and request.url.query:
        path += "?" + request.url.query
    return path


def _with_next(page: str, request: Request) -> str:
    return f"{page}?next={quote(_here(request), safe='/')}"


# --- the cookie -------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _secret(request: Request) -> str:
    key = getattr(request.app.state, "session_secret", None)
    if not key:
        key = ensure_secret_key(_settings(request))
        request.app.state.session_secret = key
    return str(key)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(request), salt=_SESSION_SALT)


def _hash_sid(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _cookie_data(request: Request) -> dict[str, str]:
    """The verified cookie payload (``{"sid"?, "csrf"}``), or ``{}``; cached per request."""
    state = request.scope.setdefault("state", {})
    if _COOKIE_DATA_KEY in state:
        return dict(state[_COOKIE_DATA_KEY])
    data: dict[str, str] = {}
    raw = request.cookies.get(COOKIE_NAME)
    if raw:
        try:
            loaded = _serializer(request).loads(raw, max_age=int(ABSOLUTE_LIFETIME.total_seconds()))
        except BadSignature:  # includes SignatureExpired
            loaded = None
        if isinstance(loaded, dict):
            data = {k: v for k, v in loaded.items() if k in ("sid", "csrf") and isinstance(v, str)}
    state[_COOKIE_DATA_KEY] = data
    return dict(data)


def _queue_cookie(request: Request, data: dict[str, str] | None) -> None:
    """Set (``data``) or clear (None) the session cookie on this request's response."""
    state = request.scope.setdefault("state", {})
    secure = request.url.scheme == "https"
    attributes = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    if data is None:
        header = f"{COOKIE_NAME}=; Max-Age=0{attributes}"
        state[_COOKIE_DATA_KEY] = {}
    else:
        header = f"{COOKIE_NAME}={_serializer(request).dumps(data)}{attributes}"
        state[_COOKIE_DATA_KEY] = dict(data)
    state[_PENDING_COOKIE_KEY] = header


class SessionCookieMiddleware:
    """Pure ASGI middleware: writes the cookie a request queued (sign-in, sign-out, a new
    CSRF secret for an anonymous visitor) onto its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                header = state.pop(_PENDING_COOKIE_KEY, None)
                if header:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", header.encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- resolving the principal ------------------------------------------------------------------


def _principal_for(user: User, org: Organisation, **values: Any) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation_id=org.id,
        organisation_code=org.code,
        organisation_name=org.name,
        role=user.role,
        **values,
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return ""  # present but malformed: refused, never a fall-back to the cookie
    return value.strip()


class _BadToken(Exception):
    pass


def _note_granted(request: Request, principal: Principal) -> None:
    """Remember for this request that the principal's purpose is registered and granted (read
    in the statement that found the principal), so :func:`require_purpose` need not ask
    again. Only a grant is remembered: a refusal is decided, and audited, there."""
    request.scope.setdefault("state", {})[_GRANTED_KEY] = _granted_key(principal)


def _forget_principal(request: Request) -> None:
    """The principal changed (signed in, out, or chose a purpose): resolve it afresh."""
    state = request.scope.setdefault("state", {})
    state.pop(_PRINCIPAL_KEY, None)
    state.pop(_GRANTED_KEY, None)


def _granted_key(principal: Principal) -> tuple[Any, ...]:
    return (principal.user_id, principal.organisation_id, principal.role, principal.purpose)


def _token_principal(request: Request, plaintext: str) -> Principal:
    purpose = request.headers.get(PURPOSE_HEADER, "").strip()[:64] or None
    with session_scope(_settings(request)) as session:
        token = verify_token(session, plaintext) if plaintext else None
        if token is None:
            raise _BadToken
        user = token.user
        principal = _principal_for(
            user,
            user.organisation,
            purpose=purpose,
            via="token",
            scopes=frozenset(str(s) for s in token.scopes),
        )
        if (
            purpose is not None
            and standing(session, purpose, user.role, user.organisation_id).granted
        ):
            _note_granted(request, principal)
        return principal


def _session_principal(request: Request) -> Principal | None:
    """The session's user and organisation, and its purpose's name and grant: one statement."""
    sid = _cookie_data(request).get("sid")
    if not sid:
        return None
    now = utcnow()
    with session_scope(_settings(request)) as session:
        found = session.execute(
            select(
                UserSession,
                User,
                Organisation,
                Purpose.name,
                grant_exists(Purpose.id, User.role, User.organisation_id),
            )
            .join(User, User.id == UserSession.user_id)
            .join(Organisation, Organisation.id == User.organisation_id)
            .outerjoin(Purpose, Purpose.code == UserSession.purpose)
            .where(UserSession.id_hash == _hash_sid(sid))
        ).first()
        if found is None:
            return None
        row, user, org, purpose_name, in_register = found
        if row.revoked_at is not None or now >= row.expires_at:
            return None
        if now - row.last_seen_at > IDLE_TIMEOUT:
            return None
        if not user.is_active:
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
        principal = _principal_for(
            user,
            org,
            purpose=row.purpose,
            purpose_name=purpose_name or "",
            via="session",
            scopes=frozenset(SCOPES),
        )
        registered = purpose_name is not None
        if row.purpose is not None and registered and granted(row.purpose, user.role, in_register):
            _note_granted(request, principal)
        return principal


def get_principal(request: Request) -> Principal | None:
    """Who is making this request, or None. Cached for the request.

    On ``/api/…`` an ``Authorization`` header decides alone: a token that does not verify is
    a 401 (raised here), not an anonymous request.
    """
    state = request.scope.setdefault("state", {})
    if _PRINCIPAL_KEY in state:
        cached: Principal | None = state[_PRINCIPAL_KEY]
        return cached
    principal: Principal | None
    token = _bearer(request) if is_api(request) else None
    if token is not None:
        try:
            principal = _token_principal(request, token)
        except _BadToken:
            raise HTTPException(
                401,
                "The API token is not valid: it may be wrong, expired or revoked",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
    else:
        principal = _session_principal(request)
    state[_PRINCIPAL_KEY] = principal
    return principal


def require_principal(request: Request) -> Principal:
    """A signed-in principal. Pages: 303 to ``/sign-in?next=…``; API: 401 JSON."""
    principal = get_principal(request)
    if principal is not None:
        return principal
    if is_api(request):
        raise HTTPException(
            401,
            "Sign in, or send an API token as 'Authorization: Bearer jdu_…'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    raise RedirectRequired(_with_next("/sign-in", request))


def role(*roles: Role) -> str:
    """The access declaration for routes limited to these roles: ``role:a|b``."""
    if not roles:
        raise ValueError("name at least one role")
    return "role:" + "|".join(sorted(str(r) for r in roles))


def require_roles(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency: a signed-in principal with one of ``roles`` (403 otherwise)."""
    allowed = frozenset(str(r) for r in roles)
    if not allowed:
        raise ValueError("name at least one role")

    def _require_roles(request: Request) -> Principal:
        principal = require_principal(request)
        if principal.role not in allowed:
            raise HTTPException(403, "Your role does not allow this")
        return principal

    _require_roles.joinedup_roles = allowed  # type: ignore[attr-defined]
    return _require_roles


def require_scope(scope: str) -> Callable[[Request], Principal]:
    """A dependency: API tokens must carry ``scope`` (403 otherwise); sessions pass."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; scopes: {', '.join(SCOPES)}")

    def _require_scope(request: Request) -> Principal:
        principal = require_principal(request)
        if scope not in principal.scopes:
            raise HTTPException(403, f"This API token does not have the {scope!r} scope")
        return principal

    _require_scope.joinedup_scope = scope  # type: ignore[attr-defined]
    return _require_scope


def registered_purposes(settings: Settings, principal: Principal | None = None) -> list[Purpose]:
    """The purpose register, by name; with ``principal``, only the purposes granted to them."""
    with session_scope(settings) as session:
        rows = list(session.scalars(select(Purpose).order_by(Purpose.name)))
        if principal is not None:
            rows = [
                p
                for p in rows
                if is_granted(session, p.code, principal.role, principal.organisation_id)
            ]
        session.expunge_all()
        return rows


_UNREGISTERED, _UNGRANTED, _GRANTED = "unregistered", "ungranted", "granted"


def _purpose_standing(settings: Settings, principal: Principal, code: str) -> str:
    """Whether ``code`` is registered and granted to the principal; a purpose that is
    registered but not granted is refused here and the refusal audited."""
    with session_scope(settings) as session:
        found = standing(session, code, principal.role, principal.organisation_id)
        if not found.registered:
            return _UNREGISTERED
        if found.granted:
            return _GRANTED
        refuse_purpose(
            session,
            user_id=principal.user_id,
            username=principal.username,
            organisation_id=principal.organisation_id,
            purpose=code,
            role=principal.role,
            via=principal.via,
        )
        return _UNGRANTED


def require_purpose(request: Request) -> Principal:
    """A signed-in principal acting under a registered purpose the register grants their role
    in their organisation (:mod:`joinedup.governance.grants`); a purpose claimed but not
    granted is refused, and the refusal audited.

    Pages: 303 to ``/purpose?next=…``; API: 403 JSON naming ``X-Joinedup-Purpose``.
    """
    principal = require_principal(request)
    decided = None
    if principal.purpose is not None:
        if request.scope.get("state", {}).get(_GRANTED_KEY) == _granted_key(principal):
            return principal  # granted, as read with the principal in this request
        decided = _purpose_standing(_settings(request), principal, principal.purpose)
        if decided == _GRANTED:
            return principal
    if principal.via == "token" or is_api(request):
        if principal.purpose is None:
            detail = (
                f"Send the purpose you are acting under in the {PURPOSE_HEADER} header "
                "(a purpose code from the register)"
            )
        elif decided == _UNGRANTED:
            detail = (
                f"{PURPOSE_HEADER}: your role is not granted that purpose in your organisation "
                "(see GET /api/v1/purposes/grants)"
            )
        else:
            detail = f"{PURPOSE_HEADER}: there is no registered purpose with that code"
        raise HTTPException(403, detail)
    raise RedirectRequired(_with_next("/purpose", request))


# --- access declarations ----------------------------------------------------------------------


def access(level: str, *, roles: tuple[Role, ...] = ()) -> dict[str, Any]:
    """``openapi_extra`` declaring a route's access: ``public``, ``signed-in``,
    ``personal-data`` or :func:`role` (``role:a|b``). See the module docstring.

    ``roles`` narrows a ``personal-data`` route to those roles (``x-joinedup-roles``); the
    route then also depends on ``require_roles(*roles)``. For example the clerical review of
    linkage: personal data, for analysts only."""
    if level not in (PUBLIC, SIGNED_IN, PERSONAL_DATA) and not level.startswith("role:"):
        raise ValueError(f"unknown access level {level!r}")
    if roles and level != PERSONAL_DATA:
        raise ValueError("roles narrow personal-data routes; declare others with role(...)")
    declared: dict[str, Any] = {ACCESS_KEY: level}
    if roles:
        declared[ROLES_KEY] = sorted(str(r) for r in roles)
    return declared


def document_security(app: Any) -> None:
    """Describe API tokens in the app's OpenAPI document: a ``bearer`` security scheme, asked
    for by every operation not declared public, and the purpose header."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        cached = app.openapi_schema is not None
        schema: dict[str, Any] = original()
        if cached:
            return schema
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`jdu_…`, from `joinedup token create` or the "
            "Your API tokens page), with the scopes the operation needs. Operations on "
            f"personal data also need the `{PURPOSE_HEADER}` header: the purpose you act under.",
        }
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and operation.get(ACCESS_KEY, PUBLIC) != PUBLIC:
                    operation["security"] = [{"bearer": []}]
        return schema

    app.openapi = openapi


# --- CSRF -------------------------------------------------------------------------------------


def _csrf_for(request: Request, data: dict[str, str]) -> str:
    message = f"{data.get('sid', '')}:{data['csrf']}".encode()
    return hmac.new(_secret(request).encode() + _CSRF_SALT, message, hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page (also ``csrf_token()`` in every template).

    It is bound to the cookie's CSRF secret and session id; a visitor without a cookie gets
    one (so the sign-in form is protected too).
    """
    data = _cookie_data(request)
    if "csrf" not in data:
        data = {"csrf": secrets.token_urlsafe(24)}
        _queue_cookie(request, data)
    return _csrf_for(request, data)


def _same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site (Origin/Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True  # not a browser, or a browser that sends neither: the token decides
    if source == "null":
        return False
    host = request.headers.get("host", "")
    return urlsplit(source).netloc.lower() == host.lower()


def check_csrf_value(request: Request, token: str | None) -> None:
    """Raise 403 unless ``token`` is this session's CSRF token."""
    data = _cookie_data(request)
    if not token or "csrf" not in data:
        raise HTTPException(403, "The form has expired or did not come from this site")
    if not hmac.compare_digest(token.encode(), _csrf_for(request, data).encode()):
        raise HTTPException(403, "The form has expired or did not come from this site")


def check_form_csrf(request: Request, field: str | None) -> None:
    """For multipart page forms, after streaming the body: 403 unless the form's
    ``csrf_token`` field (or an ``X-CSRF-Token`` header :func:`verify_csrf` already checked)
    is this session's token."""
    if request.scope.get("state", {}).get(_CSRF_CHECKED_KEY):
        return
    check_csrf_value(request, field)


def streams_form(endpoint: _Endpoint) -> _Endpoint:
    """Mark a page route that streams its multipart body itself (an upload): for it,
    :func:`verify_csrf` leaves the token to the route, which must call
    :func:`check_form_csrf` on the form's ``csrf_token`` field right after streaming and
    before keeping or starting anything. Any other route's multipart body is parsed and
    checked by :func:`verify_csrf` itself. Use it under the route decorator::

        @router.post("/upload", ..., dependencies=[Depends(verify_csrf)])
        @streams_form
        async def upload_submit(request: Request) -> Response: ...
    """
    endpoint.joinedup_streams_form = True  # type: ignore[attr-defined]
    return endpoint


def _streams_form(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    return bool(getattr(endpoint, "joinedup_streams_form", False))


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def verify_csrf(request: Request) -> None:
    """A dependency on every POST/PUT/PATCH/DELETE route: 403 unless the request carries this
    session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).

    Requests authenticated by an API bearer token are exempt (a browser never adds one by
    itself). Cross-site ``Origin``/``Referer`` are refused outright. A multipart page form
    whose route streams the body itself (marked with :func:`streams_form`, like the upload
    page) is checked by that route after streaming, with :func:`check_form_csrf`.
    """
    if request.method not in UNSAFE_METHODS:
        return
    if is_api(request) and _bearer(request) is not None:
        get_principal(request)  # a bad token is a 401 here, not a CSRF failure
        return
    if not _same_origin(request):
        raise HTTPException(403, "The form did not come from this site")
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        check_csrf_value(request, header)
        request.scope.setdefault("state", {})[_CSRF_CHECKED_KEY] = True
        return
    if is_api(request):
        raise HTTPException(403, f"Send the {CSRF_HEADER} header, or use an API token")
    if _is_multipart(request) and _streams_form(request):
        return  # the route calls check_form_csrf once it has streamed the body
    form = await request.form()
    value = form.get(CSRF_FIELD)
    check_csrf_value(request, value if isinstance(value, str) else None)


# --- sign-in, sign-out, purpose ---------------------------------------------------------------


def remote_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def start_session(request: Request, user_id: int) -> None:
    """Begin a brand-new session for ``user_id`` (after a successful sign-in).

    Any session the cookie held is revoked, and the new cookie shares nothing with the old
    one: a new session id and a new CSRF secret.
    """
    old_sid = _cookie_data(request).get("sid")
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope(_settings(request)) as session:
        if old_sid:
            old = session.get(UserSession, _hash_sid(old_sid))
            if old is not None and old.revoked_at is None:
                old.revoked_at = now
        session.add(
            UserSession(
                id_hash=_hash_sid(sid),
                user_id=user_id,
                purpose=None,
                remote=remote_address(request)[:64],
                created_at=now,
                last_seen_at=now,
                expires_at=now + ABSOLUTE_LIFETIME,
            )
        )
    _queue_cookie(request, {"sid": sid, "csrf": secrets.token_urlsafe(24)})
    _forget_principal(request)


def end_session(request: Request) -> None:
    """Sign out: revoke the session server-side (audited) and clear the cookie."""
    sid = _cookie_data(request).get("sid")
    principal = get_principal(request) if not is_api(request) else None
    if sid:
        with session_scope(_settings(request)) as session:
            row = session.get(UserSession, _hash_sid(sid))
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                if principal is not None:
                    append_event(
                        session,
                        actor=principal.username,
                        actor_user_id=principal.user_id,
                        organisation_id=principal.organisation_id,
                        action=AuditAction.SIGN_OUT,
                        target_type="user",
                        target_id=principal.username,
                    )
    _queue_cookie(request, None)
    _forget_principal(request)
    request.scope.setdefault("state", {})[_PRINCIPAL_KEY] = None


class PurposeNotGranted(ValueError):
    """A purpose the register does not grant the person's role (the refusal is audited)."""


def choose_purpose(request: Request, principal: Principal, code: str) -> None:
    """Act under ``code`` for the rest of this session (audited). Raises ValueError for a
    purpose that is not in the register, :class:`PurposeNotGranted` for one not granted."""
    sid = _cookie_data(request).get("sid")
    if principal.via != "session" or not sid:
        raise ValueError("only a browser session chooses a purpose; API calls send a header")
    with session_scope(_settings(request)) as session:
        if session.scalar(select(Purpose.id).where(Purpose.code == code)) is None:
            raise ValueError(f"no registered purpose {code!r}")
    if _purpose_standing(_settings(request), principal, code) != _GRANTED:
        raise PurposeNotGranted("the purpose is not granted to your role in your organisation")
    with session_scope(_settings(request)) as session:
        row = session.get(UserSession, _hash_sid(sid))
        if row is None:
            raise ValueError("the session has ended")
        previous = row.purpose
        row.purpose = code
        append_event(
            session,
            actor=principal.username,
            actor_user_id=principal.user_id,
            organisation_id=principal.organisation_id,
            action=AuditAction.PURPOSE_CHANGE,
            purpose=code,
            target_type="user",
            target_id=principal.username,
            details={"from": previous, "to": code},
        )
    _forget_principal(request)


def session_expiry(now: datetime | None = None) -> datetime:
    """When a session started now would end at the latest."""
    return (now or utcnow()) + ABSOLUTE_LIFETIME
