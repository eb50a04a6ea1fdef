"""Ingest a whole synthetic region: its organisations, then every file in its manifest."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from joinedup.catalog.db import session_scope
from joinedup.config import Settings
from joinedup.governance.organisations import ensure_organisation
from joinedup.ingest.errors import IngestError
from joinedup.ingest.mapping import resolve_mapping_path
from joinedup.ingest.pipeline import IngestRequest, ingest
from joinedup.jobs.registry import JobContext, ProgressListener, job

MANIFEST_FORMAT = "joinedup-synth-manifest/1"


def load_manifest(path: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path.name}: not a joinedup synthetic-region manifest")
    return manifest


def register_organisations(settings: Settings, manifest: dict[str, Any]) -> int:
    with session_scope(settings) as session:
        for org in manifest["organisations"]:
            ensure_organisation(
                session,
                code=org["code"],
                name=org["name"],
                type=org["type"],
                gss_code=org.get("gss_code"),
                actor="demo",
            )
    return len(manifest["organisations"])


def ingest_region(
    settings: Settings, manifest_path: Path, progress: ProgressListener | None = None
) -> dict[str, Any]:
    """Ingest every file of a region in manifest order; raise listing every rejected file."""
    manifest = load_manifest(manifest_path)
    organisations = register_organisations(settings, manifest)
    files = sorted(
        manifest["files"], key=lambda f: (f["dataset"], f["organisation"], f["period"] or "")
    )
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures: list[str] = []
    empty: list[str] = []
    for index, entry in enumerate(files):
        if entry.get("rows") == 0:
            empty.append(entry["path"])  # e.g. nobody in arrears that month: nothing to store
            continue
        if progress is not None:
            progress(index / len(files), f"{entry['organisation']}/{entry['dataset']}")
        request = IngestRequest(
            organisation=entry["organisation"],
            dataset=entry["dataset"],
            path=manifest_path.parent / entry["path"],
            mapping=resolve_mapping_path(entry["mapping"]) if entry.get("mapping") else None,
            standard=entry["standard"],
            # current-records extracts were taken in the timeline's last month
            period=entry.get("period") or manifest.get("period", {}).get("end"),
            actor="demo",
        )
        try:
            result = ingest(settings, request)
        except IngestError as exc:
            failures.append(str(exc))
            continue
        dataset = totals[entry["dataset"]]
        dataset["files"] += 1
        dataset["rows"] += result.rows
        dataset["accepted"] += result.accepted
        dataset["rejected"] += result.rejected
    if failures:
        raise IngestError(
            manifest_path.name,
            None,
            "region_files_rejected",
            f"{len(failures)} file(s) rejected: " + "; ".join(failures[:10]),
        )
    return {
        "organisations": organisations,
        "files": len(files) - len(empty),
        "empty_files_skipped": len(empty),
        "rows": sum(d["rows"] for d in totals.values()),
        "accepted": sum(d["accepted"] for d in totals.values()),
        "rejected": sum(d["rejected"] for d in totals.values()),
        "datasets": {name: dict(d) for name, d in sorted(totals.items())},
    }


@job("ingest.region")
def ingest_region_job(ctx: JobContext) -> dict[str, Any]:
    """Register a region's organisations and ingest every file in ``params['manifest']``."""
    return ingest_region(ctx.settings, Path(ctx.params["manifest"]), ctx.progress)
