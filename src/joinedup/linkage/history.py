"""The history of resident ids: the ``linkage_id_event`` rows runs wrote (no personal data:
ids, record keys, counts and pair weights)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageIdEvent, LinkageRun
from joinedup.config import Settings


def id_events(
    settings: Settings,
    *,
    resident_id: str | None = None,
    run_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Id moves, newest first; for one resident, the moves that name it either way."""
    query = select(LinkageIdEvent, LinkageRun.kind).join(
        LinkageRun, LinkageRun.id == LinkageIdEvent.run_id
    )
    if run_id is not None:
        query = query.where(LinkageIdEvent.run_id == run_id)
    with session_scope(settings) as session:
        rows = session.execute(query.order_by(LinkageIdEvent.id.desc())).all()
        out = []
        for event, run_kind in rows:
            if resident_id is not None and not (
                event.resident_id == resident_id or resident_id in (event.related or [])
            ):
                continue
            out.append(
                {
                    "run": event.run_id,
                    "run_kind": run_kind,
                    "kind": event.kind,
                    "resident_id": event.resident_id,
                    "related": list(event.related or []),
                    "records": event.records,
                    "evidence": dict(event.evidence or {}),
                    "at": event.created_at.isoformat(),
                }
            )
            if len(out) >= limit:
                break
    return out
