"""A released subject access export as a file download: the API and the pages answer the same."""

from __future__ import annotations

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
