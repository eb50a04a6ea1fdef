"""Layouts remembered: accept a mapping for a file's layout, and ask what the hub remembers for
a file (known, drifted with its column diff, or new). Only header names are kept and shown."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from joinedup.config import Settings
from joinedup.errors import InvalidInput
from joinedup.ingest.errors import IngestError
from joinedup.ingest.layouts import LayoutMatch, drift_message, match_layout, remember_layout
from joinedup.ingest.service import UPLOAD_ROLES, IngestErrorDetail, organisation_exists
from joinedup.ingest.suggest import read_sample
from joinedup.web.api.responses import upload_errors
from joinedup.web.auth import SIGNED_IN, Principal
from joinedup.web.guards import guard
from joinedup.web.uploads import (
    FILE_PART,
    KIB,
    UploadedForm,
    UploadError,
    UploadLimits,
    UploadTooLarge,
    authorise_upload,
    drain,
    multipart_body,
    receive_upload,
)

tag = {
    "name": "layouts",
    "description": "Layouts remembered: a data owner's accepted mapping per file layout, so "
    "monthly files need no mapping and a drifted layout is confirmed once.",
}
router = APIRouter(prefix="/datasets", tags=[tag["name"]])
ACCEPTERS = guard(SIGNED_IN, UPLOAD_ROLES, scope="ingest")
Accepter = Annotated[Principal, ACCEPTERS.depends]
OrgCode = Annotated[str, Path(description="The organisation's code", max_length=64)]
DatasetName = Annotated[str, Path(description="The dataset's name", max_length=120)]
MAPPING_BYTES = 32 * KIB
REFUSALS = upload_errors({404: "No such organisation or dataset"})
MAPPING_PART = {
    "type": "string",
    "maxLength": MAPPING_BYTES,
    "description": "The mapping (docs/mapping.md) as YAML or JSON text",
}


class LayoutAccepted(BaseModel):
    fingerprint: str = Field(description="sha256 of the layout's normalised header list")
    standard: str
    columns: list[str]


class RenamedColumn(BaseModel):
    before: str
    now: str


class LayoutDiffOut(BaseModel):
    renamed: list[RenamedColumn]
    added: list[str]
    dropped: list[str]


class LayoutDriftRefused(BaseModel):
    """A file given no mapping whose layout drifted from the last accepted one (409)."""

    error: IngestErrorDetail = Field(description="rule layout_drift, naming the changes")
    diff: LayoutDiffOut
    mapping: dict[str, Any] = Field(description="The last accepted mapping, carried over")
    confirm: str = Field(description="How to confirm the changes once")

    @classmethod
    def of(cls, match: LayoutMatch, filename: str) -> LayoutDriftRefused:
        assert match.diff is not None and match.mapping is not None
        error = IngestError(filename, 1, "layout_drift", drift_message(match))
        return cls(
            error=IngestErrorDetail(**error.as_dict()),
            diff=LayoutDiffOut.model_validate(match.diff.as_dict()),
            mapping=match.mapping,
            confirm="Check the mapping carried over, then send the file again with the form "
            "field confirm_layout=true: it is ingested and the new layout remembered.",
        )


class LayoutMatchOut(BaseModel):
    status: str = Field(description="known, drifted (confirm once) or new (map it first)")
    fingerprint: str
    standard: str | None
    mapping: dict[str, Any] | None = Field(description="The mapping, carried over if drifted")
    diff: LayoutDiffOut | None


async def _receive(request: Request, organisation: str) -> tuple[Settings, UploadedForm]:
    settings: Settings = request.app.state.settings
    if not await run_in_threadpool(organisation_exists, settings, organisation):
        raise HTTPException(404, f"No organisation {organisation!r}")
    await run_in_threadpool(authorise_upload, request, organisation)
    limits = UploadLimits(settings.max_upload_bytes, max_field_bytes=MAPPING_BYTES)
    try:
        form = await receive_upload(request, settings, limits=limits)
    except UploadTooLarge:
        await drain(request)
        raise
    if "file" not in form.files:
        form.discard()
        raise UploadError("Send the file as the multipart field 'file'", 422)
    return settings, form


@router.post(
    "/{organisation}/{dataset}/layouts",
    response_model=LayoutAccepted,
    status_code=201,
    summary="Accept a mapping for a file's layout",
    responses=REFUSALS,
    **ACCEPTERS.route(
        csrf=True,
        openapi={
            "requestBody": multipart_body(
                {"file": FILE_PART, "mapping": MAPPING_PART}, required=["file", "mapping"]
            )
        },
    ),
)
async def accept_layout(
    request: Request, organisation: OrgCode, dataset: DatasetName, principal: Accepter
) -> LayoutAccepted:
    """Send ``file`` (a file in the layout) and ``mapping`` (the mapping as YAML or JSON text) as
    multipart form data. Later files of this dataset in the same layout need no mapping. The
    file is read for its headers only and deleted."""
    settings, form = await _receive(request, organisation)
    try:
        try:
            mapping = yaml.safe_load(form.field("mapping"))
        except yaml.YAMLError:
            raise InvalidInput("The mapping is not valid YAML", field="mapping") from None
        upload = form.files["file"]
        columns, _ = await run_in_threadpool(read_sample, settings, upload.path, 1, upload.filename)
        fingerprint = await run_in_threadpool(
            lambda: remember_layout(
                settings,
                organisation,
                dataset,
                columns,
                mapping,
                actor=principal.username,
                user_id=principal.user_id,
            )
        )
    finally:
        form.discard()
    return LayoutAccepted(fingerprint=fingerprint, standard=mapping["standard"], columns=columns)


@router.post(
    "/{organisation}/{dataset}/layouts/match",
    response_model=LayoutMatchOut,
    summary="What the hub remembers for a file's layout",
    responses=REFUSALS,
    **ACCEPTERS.route(
        csrf=True, openapi={"requestBody": multipart_body({"file": FILE_PART}, required=["file"])}
    ),
)
async def match_file_layout(
    request: Request, organisation: OrgCode, dataset: DatasetName, principal: Accepter
) -> LayoutMatchOut:
    """Send ``file``: the answer says whether its layout is known (ingest it with no mapping),
    drifted (the column diff and the mapping carried over: confirm it once by ingesting with
    ``confirm_layout=true``) or new. Nothing is stored; the file is deleted."""
    settings, form = await _receive(request, organisation)
    try:
        upload = form.files["file"]
        columns, sample = await run_in_threadpool(
            read_sample, settings, upload.path, 500, upload.filename
        )
        match = await run_in_threadpool(
            match_layout, settings, organisation, dataset, columns, sample
        )
    finally:
        form.discard()
    return LayoutMatchOut(
        status=match.status,
        fingerprint=match.fingerprint,
        standard=match.standard,
        mapping=match.mapping,
        diff=LayoutDiffOut.model_validate(match.diff.as_dict()) if match.diff else None,
    )
