"""Running the web app under uvicorn (used by ``joinedup serve`` and ``joinedup demo``)."""

from __future__ import annotations

import uvicorn

from joinedup.config import Settings


def serve_app(settings: Settings, host: str, port: int) -> None:
    """Serve the app in the foreground until interrupted."""
    from joinedup.web.app import create_app

    # Forwarded headers are handled by the app itself, from trusted proxies only
    # (settings.trusted_proxies): uvicorn's own default would believe any local peer.
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
