"""The ``ingest`` job kind: one file into one dataset, with progress.

Parameters: ``organisation``, ``dataset``, ``path``, and optionally ``filename`` (the name to
show and record; defaults to the path's name), ``mapping``, ``standard``, ``period``,
``reject_threshold``, ``actor``, ``user_id``, ``confirm_layout`` (accept a drifted layout's
carried-over mapping and remember it), and ``delete_after``: when true, the file at
``path`` is removed when the job ends, whether it succeeded or failed (the web uploads use
this, since the uploaded copy is only needed for the ingest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from joinedup.ingest.mapping import resolve_mapping_path
from joinedup.ingest.pipeline import (
    DEFAULT_REJECT_THRESHOLD,
    IngestRequest,
    ingest,
)
from joinedup.jobs.registry import JobContext, job


def request_from_params(params: dict[str, Any]) -> IngestRequest:
    mapping = params.get("mapping")
    return IngestRequest(
        organisation=str(params["organisation"]),
        dataset=str(params["dataset"]),
        path=Path(params["path"]),
        mapping=resolve_mapping_path(str(mapping)) if mapping else None,
        standard=params.get("standard"),
        period=params.get("period"),
        filename=params.get("filename"),
        user_id=params.get("user_id"),
        actor=str(params.get("actor", "job")),
        reject_threshold=float(params.get("reject_threshold", DEFAULT_REJECT_THRESHOLD)),
        confirm_layout=bool(params.get("confirm_layout", False)),
    )


@job("ingest")
def ingest_job(ctx: JobContext) -> dict[str, Any]:
    """Ingest ``params['path']`` into ``params['organisation']``/``params['dataset']``."""
    try:
        result = ingest(ctx.settings, request_from_params(ctx.params), ctx.progress)
    finally:
        if ctx.params.get("delete_after"):
            Path(ctx.params["path"]).unlink(missing_ok=True)
    return result.as_dict()
