"""Running the web app under uvicorn (used by ``joinedup serve`` and ``joinedup demo``)."""

from __future__ import annotations

import logging

import uvicorn

from joinedup.config import Settings
from joinedup.logs import configure_logging
from joinedup.metrics import start_listener

log = logging.getLogger(__name__)


def serve_app(settings: Settings, host: str, port: int) -> None:
    """Serve the app in the foreground until interrupted, logging in ``settings.log_format``
    (uvicorn's access log, which carries raw paths, is off: the app logs each request by its
    route template) and, with ``metrics_bind``, serving the metrics on that address too."""
    from joinedup.web.app import create_app

    configure_logging(settings.log_format)
    if settings.metrics_bind:
        where = start_listener(settings.metrics_bind)
        log.info("metrics listener", extra={"metrics_address": f"{where[0]}:{where[1]}"})
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # Forwarded headers are handled by the app itself, from trusted proxies only
        # (settings.trusted_proxies): uvicorn's own default would believe any local peer.
        proxy_headers=False,
    )
