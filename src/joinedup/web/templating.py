"""Jinja setup: our templates first, then the GOV.UK Frontend macros (govuk-frontend-jinja).

Templates import the GOV.UK components with, for example,
``{% from "govuk_frontend_jinja/components/table/macro.html" import govukTable %}``.
Pages render through :func:`render`, which supplies what the layout needs: the CSP nonce,
the asset paths, the service navigation and the version.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
)
from jinja2.bccache import Bucket
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from joinedup import __version__
from joinedup.standards.readable import date_text
from joinedup.web.auth import csrf_token, get_principal
from joinedup.web.brand import Brand
from joinedup.web.security import csp_nonce

TEMPLATES_DIR = Path(__file__).parent / "templates"

try:
    UK_TIME: ZoneInfo | None = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # no time zone database on this machine: show UTC
    UK_TIME = None


def format_datetime(value: datetime | None) -> str:
    """GOV.UK style, in UK time: ``5 January 2026 at 2:07pm``."""
    if value is None:
        return ""
    local = value.astimezone(UK_TIME) if UK_TIME else value
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    zone = "" if UK_TIME else " UTC"
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{suffix}{zone}"


def format_month(value: str | None) -> str:
    """``2026-11`` as ``November 2026``; anything else (``all``, empty) unchanged."""
    try:
        return f"{datetime.strptime(value or '', '%Y-%m'):%B %Y}"
    except ValueError:
        return value or ""


def format_number(value: float | int | None, places: int = 1) -> str:
    """A figure rounded for reading: ``35.1667`` as ``35.2``, ``1234`` as ``1,234``; whole
    numbers without decimals; empty for none. Exact values stay in the CSV downloads."""
    if value is None:
        return ""
    if isinstance(value, int) or float(value).is_integer():
        return f"{round(value):,}"
    return f"{value:,.{places}f}"


class _ProcessBytecode(BytecodeCache):
    """Compiled templates kept for the process, shared by every app it builds (each app has
    its own environment; compiling the layout and the GOV.UK macros again for each costs
    more than the request). Jinja reuses an entry only while its template's source is
    unchanged."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._compiled.get(bucket.key)
        if found is not None:
            bucket.bytecode_from_string(found)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _ProcessBytecode()


def create_templates(brand: Brand) -> Jinja2Templates:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(TEMPLATES_DIR),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=True,
        auto_reload=False,
        bytecode_cache=_COMPILED,
    )
    env.filters["govuk_datetime"] = format_datetime
    env.filters["govuk_date"] = lambda d: f"{d.day} {d:%B %Y}" if d else ""
    env.filters["readable_date"] = lambda d: date_text(d) if d else "an unknown date"
    env.filters["month_name"] = format_month
    env.filters["reading"] = format_number
    env.globals["service_name"] = brand.service_name
    env.globals["brand"] = brand
    env.globals["version"] = __version__
    return Jinja2Templates(env=env)


def static_root(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/static"


def _notification_count(request: Request, principal: Any) -> int:
    """Unread in-app notifications, shown in the account bar to data owners."""
    if principal is None or principal.role != "data_owner":
        return 0
    from joinedup.rights.notifications import unread_count

    return unread_count(request.app.state.settings, principal.user_id)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page template that extends ``layout.html``."""
    app_state = request.app.state
    root = static_root(request)
    principal = get_principal(request)
    values: dict[str, Any] = {
        "cspNonce": csp_nonce(request),
        "static_root": root,
        "assetPath": f"{root}/vendor/govuk/assets",
        "navigation": app_state.navigation.for_path(request.url.path, principal),
        "principal": principal,
        "csrf_token": lambda: csrf_token(request),
    }
    values["notification_count"] = _notification_count(request, values["principal"])
    values.update(context or {})
    templates: Jinja2Templates = app_state.templates
    return templates.TemplateResponse(request, template, values, status_code=status_code)
