"""The FastAPI application factory: ``joinedup.web.app:create_app``.

Where things are added:

* JSON API routers: :func:`joinedup.web.api.api_modules` (and the CKAN API, ``web.api.ckan``)
* pages (and their place in the service navigation): :func:`joinedup.web.pages.all_sections`
* ``/healthz`` checks: :func:`joinedup.web.health.default_checks`
* request metrics, request log lines and ``/metrics``: :mod:`joinedup.web.observe`
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from joinedup import __version__
from joinedup.config import Settings, load_settings
from joinedup.web import health, observe, openapi_doc
from joinedup.web.api import build_api_router, ckan, openapi_tags
from joinedup.web.auth import SessionCookieMiddleware, document_security
from joinedup.web.brand import brand_for
from joinedup.web.cors import PublicCORSMiddleware
from joinedup.web.errors import install_error_handlers
from joinedup.web.navigation import Navigation
from joinedup.web.pages import all_sections
from joinedup.web.security import SecurityHeadersMiddleware
from joinedup.web.templating import create_templates

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_STAMP = STATIC_DIR / "vendor" / ".stamp"

DESCRIPTION = """\
The JSON API of joinedup, a regional data hub for councils and their partners.

Every path is under `/api/v1/`. A readable list of operations is at [/api](/api).
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for these settings (default: from the environment and joinedup.toml)."""
    settings = settings or load_settings()
    app = FastAPI(
        title="joinedup",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        openapi_tags=[
            *openapi_tags(),
            ckan.tag,
            {"name": "health", "description": "Service health."},
        ],
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: see docs/adr/0002-web-stack.md
        redoc_url=None,
        license_info={"name": "MIT", "identifier": "MIT"},
    )
    app.state.settings = settings
    document_security(app)
    openapi_doc.install(app)  # every status the app answers with (401, 403, 400, 413, 422)
    app.state.brand = brand_for(settings)
    app.state.templates = create_templates(app.state.brand)
    app.state.health_checks = health.default_checks(settings)
    app.state.navigation = Navigation()

    app.add_middleware(SessionCookieMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, static_prefix="/static/")
    app.add_middleware(PublicCORSMiddleware)  # the public read API and downloads only
    if settings.trusted_proxies.strip():
        # Outermost: the client's address and scheme, as a listed proxy forwarded them.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_error_handlers(app)
    observe.install(app, settings.metrics_token)  # outermost: times every request

    if not VENDOR_STAMP.is_file():
        log.warning(
            "front-end assets are not built (%s is missing): run scripts/build-assets.sh",
            VENDOR_STAMP.parent,
        )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.router.routes.extend(site_routes())
    sections = all_sections()
    for section in sections:
        if section.nav is not None:
            app.state.navigation.register(section.nav)
    app.state.navigation.bind(route for section in sections for route in section.router.routes)
    return app


@functools.cache
def site_routes() -> tuple[Any, ...]:
    """Every route of the app but its static files, in the order they match: health, the
    JSON API, the CKAN API and the page sections. Built once a process and shared by every
    app: FastAPI builds each included route's dependency state the first time a request
    passes it, per inclusion, so including the routers into each app would build it again
    for every app (about 0.45 s of CPU an app in the tests, which build hundreds). No route
    depends on the app (the app's ``dependency_overrides`` are not used; the routers have
    no startup or lifespan handlers, which only an app's own ``include_router`` would
    merge)."""
    site = APIRouter()
    site.include_router(health.router)
    site.include_router(build_api_router())
    ckan.install(site)  # CKAN-compatible /api/3/action/… and /api/action/… (open data)
    for section in all_sections():
        site.include_router(section.router)
    if site.on_startup or site.on_shutdown:
        raise RuntimeError(
            "a router's startup or shutdown handlers would be lost: give them to the app"
        )
    return tuple(site.routes)
