"""CORS for the public read API and the open data downloads only.

Web apps on other sites (the "third parties build apps" of the mission) may call the CKAN
Action API (``/api/3/action/…``, ``/api/action/…``), and fetch a release's files and the DCAT
catalogue, from any origin, without credentials. Every other path (the staff API, pages,
sign-in) gets no CORS headers at all, so browsers keep other origins out of them."""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PATHS = re.compile(
    r"^/api/(3/)?action/[a-z_]+$"
    r"|^/open-data/catalog\.(jsonld|ttl)$"
    r"|^/open-data/[a-z0-9-]+/v[0-9]+/(data\.csv|datapackage\.json)$"
)
EXPOSED = ["ETag", "Last-Modified", "Content-Length", "Content-Disposition"]


class PublicCORSMiddleware:
    """Starlette's CORS middleware, on :data:`PUBLIC_PATHS` only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Content-Type", "If-None-Match", "If-Modified-Since"],
            expose_headers=EXPOSED,
            allow_credentials=False,
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not PUBLIC_PATHS.match(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return

        async def shareable(message: Message) -> None:
            if message["type"] == "http.response.start":
                # the files are meant for other sites: not only same-origin reads
                MutableHeaders(scope=message)["Cross-Origin-Resource-Policy"] = "cross-origin"
            await send(message)

        await self.cors(scope, receive, shareable)
