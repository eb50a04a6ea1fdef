"""Released subject access exports: preview, release (recorded and audited), download.

Releasing an export collects the document again (so that what is released is what the DPO
reviewed a moment ago, on current data), stores it as an immutable snapshot (one row, the
JSON document) and records a ``rights_export`` row and a ``rights.export`` audit event in one
transaction. Every download (JSON, JSON-LD, PDF, or the printable page) is a disclosure and is
audited (``rights.export_download``); each format is rendered from the stored document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import RightsExport
from joinedup.config import Settings
from joinedup.governance.access import Actor
from joinedup.governance.audit_actions import AuditAction
from joinedup.rights.common import RightsError, audit, check_dpo
from joinedup.rights.pdf import render_pdf
from joinedup.rights.portable import to_jsonld
from joinedup.rights.subject import CollectOptions, collect
from joinedup.store import SnapshotStore, duckdb_session

FORMATS = {
    "json": "application/json",
    "jsonld": "application/ld+json",
    "pdf": "application/pdf",
    "html": "text/html",
}


@dataclass(frozen=True)
class ExportInfo:
    id: int
    resident_id: str
    created_at: datetime
    released_by: str
    redactions: int
    summary: dict[str, Any]


def _info(row: RightsExport) -> ExportInfo:
    return ExportInfo(
        row.id,
        row.resident_id,
        row.created_at,
        row.released_by.display_name if row.released_by else "",
        len(row.redactions),
        dict(row.summary),
    )


def summary_of(document: dict[str, Any]) -> dict[str, int]:
    return {
        "records": len(document["records"]),
        "organisations": len({r["organisation"] for r in document["records"]}),
        "flags": len(document["flags"]),
        "disclosures": len(document["disclosures"]),
        "objections": len(document["objections"]),
        "disputes": len(document["disputes"]),
    }


def release_export(
    settings: Settings, actor: Actor, resident_id: str, options: CollectOptions | None = None
) -> ExportInfo:
    """Collect, store and record an export for ``resident_id`` (audited)."""
    document = collect(settings, actor, resident_id, options)
    text = json.dumps(document, sort_keys=True, ensure_ascii=False)
    store = SnapshotStore(settings)
    with session_scope(settings) as session, store.writer(session) as writer:
        snapshot = writer.write_table(pa.table({"document": [text]}))
        row = RightsExport(
            resident_id=resident_id,
            released_by_id=actor.user_id,
            organisation_id=actor.organisation_id,
            snapshot_sha256=snapshot.sha256,
            redactions=document["redactions"],
            summary=summary_of(document),
        )
        session.add(row)
        session.flush()
        audit(
            session,
            actor,
            AuditAction.RIGHTS_EXPORT,
            "rights_export",
            str(row.id),
            records=[r["record_key"] for r in document["records"]],
            details={
                "resident": resident_id,
                "redactions": len(document["redactions"]),
                "notes_released": document["notes_released"],
                **summary_of(document),
            },
        )
        session.commit()
        return _info(row)


def list_exports(
    settings: Settings, actor: Actor, resident_id: str | None = None
) -> list[ExportInfo]:
    check_dpo(actor)
    with session_scope(settings) as session:
        query = select(RightsExport).order_by(RightsExport.id.desc()).limit(200)
        if resident_id:
            query = query.where(RightsExport.resident_id == resident_id)
        return [_info(r) for r in session.scalars(query)]


def load_export(
    settings: Settings, actor: Actor, export_id: int, fmt: str
) -> tuple[dict[str, Any], ExportInfo]:
    """The stored document of an export, for one download in ``fmt`` (audited)."""
    check_dpo(actor)
    if fmt not in FORMATS:
        raise RightsError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}", field="format")
    with session_scope(settings) as session:
        row = session.get(RightsExport, export_id)
        if row is None:
            raise RightsError(f"There is no export {export_id}", 404)
        with duckdb_session(settings) as con:
            text = con.execute(
                f"SELECT document FROM {SnapshotStore(settings).sql_source(row.snapshot_sha256)}"
            ).fetchall()[0][0]
        audit(
            session,
            actor,
            AuditAction.RIGHTS_EXPORT_DOWNLOAD,
            "rights_export",
            str(row.id),
            details={"format": fmt, "resident": row.resident_id},
        )
        info = _info(row)
        session.commit()
    return json.loads(text), info


def render(document: dict[str, Any], fmt: str, export_id: int | None = None) -> bytes:
    """The document in ``json``, ``jsonld`` or ``pdf`` (HTML is the web page)."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False).encode()
    if fmt == "jsonld":
        return json.dumps(to_jsonld(document), indent=2, ensure_ascii=False).encode()
    if fmt == "pdf":
        return render_pdf(document, export_id)
    raise RightsError(f"{fmt} is rendered by the web page", field="format")
