"""File downloads: a released subject access export (the API and the pages answer the same),
and the open data portal's public files with validators and cache headers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from joinedup.rights import exports
from joinedup.web.auth import Principal


async def download(request: Request, principal: Principal, export_id: int, fmt: str) -> Response:
    """The export rendered as ``fmt`` (json, jsonld or pdf); the download is audited."""
    document, info = await run_in_threadpool(
        exports.load_export, request.app.state.settings, principal.actor(), export_id, fmt
    )
    body = await run_in_threadpool(exports.render, document, fmt, info.id)
    suffix = {"jsonld": "jsonld", "json": "json", "pdf": "pdf"}[fmt]
    return Response(
        body,
        media_type=exports.FORMATS[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="subject-access-{info.id}.{suffix}"',
            "Cache-Control": "no-store",
        },
    )


#: Each release's files never change (a new release is a new version), so caches may keep them.
IMMUTABLE = "public, max-age=31536000, immutable"
#: The catalogue changes when a release is approved.
CHANGING = "public, max-age=300"


def public_file(
    request: Request,
    body: bytes,
    media_type: str,
    release: Any | None,
    *,
    filename: str | None = None,
) -> Response:
    """A public open-data file with validators and cache headers: a strong ``ETag`` (the
    sha256 of the bytes), ``Last-Modified`` (the release's approval) and ``Cache-Control``
    (immutable for a release's files). ``If-None-Match`` / ``If-Modified-Since`` get 304, and
    HEAD gets the headers alone."""
    etag = f'"{hashlib.sha256(body).hexdigest()}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if release is not None else CHANGING}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    modified = None
    if release is not None:
        modified = release.last_updated.replace(microsecond=0)
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    if _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(b"", media_type=media_type, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since and modified is not None:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
