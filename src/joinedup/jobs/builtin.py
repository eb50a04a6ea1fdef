"""Job kinds that belong to the foundation: checking and backing up the planes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from joinedup.backup import backup
from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Snapshot
from joinedup.jobs.registry import JobContext, job
from joinedup.store import SnapshotStore


@job("store.verify")
def verify_snapshots(ctx: JobContext) -> dict[str, Any]:
    """Re-hash every snapshot file and report any that are missing or changed."""
    store = SnapshotStore(ctx.settings)
    with session_scope(ctx.settings) as session:
        snapshots = list(session.scalars(select(Snapshot).order_by(Snapshot.created_at)))
        session.expunge_all()
    bad: list[str] = []
    for index, snapshot in enumerate(snapshots, start=1):
        if not store.verify(snapshot):
            bad.append(snapshot.sha256)
        ctx.progress(index / max(len(snapshots), 1), f"Checked {index} of {len(snapshots)}")
    return {"checked": len(snapshots), "bad": bad}


@job("backup")
def backup_job(ctx: JobContext) -> dict[str, Any]:
    """Write a backup archive to ``params['path']``."""
    ctx.progress(0.0, "Writing backup")
    summary = backup(ctx.settings, Path(ctx.params["path"]))
    return {
        "path": str(summary.path),
        "tables": summary.tables,
        "snapshots": summary.snapshots,
        "bytes": summary.bytes,
    }
