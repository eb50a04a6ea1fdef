"""``POST /api/v1/mappings/suggest``: draft a mapping from a sample file."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from joinedup.config import Settings
from joinedup.web.api.responses import errors
from joinedup.web.auth import (
    SIGNED_IN,
    Principal,
)
from joinedup.web.guards import guard
from joinedup.web.uploads import (
    FILE_PART,
    UploadLimits,
    multipart_body,
    receive_upload,
    standard_part,
    suggest_upload,
)

router = APIRouter(tags=["mappings"])
tag = {
    "name": "mappings",
    "description": "Draft mappings from a council's export to an open standard.",
}


#: Any signed-in user drafts a mapping (tokens: ``ingest``); nothing is stored.
SUGGESTERS = guard(SIGNED_IN, scope="ingest")
Suggester = Annotated[Principal, SUGGESTERS.depends]


class FieldSuggestion(BaseModel):
    field: str
    column: str | None
    why: str
    score: float = 0.0
    confidence: str = "none"
    required: bool = False
    review: bool = False
    problems: list[str] = []


class SuggestionOut(BaseModel):
    standard: str
    yaml: str
    fields: list[FieldSuggestion]


@router.post(
    "/mappings/suggest",
    response_model=SuggestionOut,
    summary="Draft a mapping from a sample file",
    responses=errors(
        400,
        413,
        415,
        422,
        described={
            400: "A malformed multipart body",
            413: "The file is too large",
            415: "The body is not multipart/form-data",
            422: "The file cannot be read or the standard is unknown",
        },
    ),
    **SUGGESTERS.route(
        csrf=True,
        openapi={
            "requestBody": multipart_body(
                {
                    "file": FILE_PART,
                    "standard": standard_part("The standard to map the file's columns to"),
                },
                required=["file", "standard"],
            )
        },
    ),
)
async def post_suggest(request: Request, principal: Suggester) -> SuggestionOut:
    """Send ``file`` (any format ingest reads) and ``standard`` as multipart form data. The
    sample is read, a draft mapping is returned as YAML with the reason for each field, and the
    file is deleted: nothing is stored."""
    settings: Settings = request.app.state.settings
    form = await receive_upload(request, settings, limits=UploadLimits.for_settings(settings))
    try:
        standard = form.field("standard")
        draft = await run_in_threadpool(suggest_upload, settings, form, standard)
    finally:
        form.discard()
    return SuggestionOut(
        standard=standard,
        yaml=draft.yaml,
        fields=[
            FieldSuggestion.model_validate(asdict(s) | {"confidence": s.confidence})
            for s in draft.suggestions
        ],
    )
