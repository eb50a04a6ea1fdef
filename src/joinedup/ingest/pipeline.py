"""Ingest one file: read → map → validate → normalise → snapshot → dataset version.

Nothing is stored unless the whole ingest completes: the accepted rows, the quarantined rows,
the dataset version, its report and the audit entry are committed in one transaction, and the
snapshot files are removed again if that transaction fails. Identical re-uploads are recognised
by the source file's sha256 and create nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.ingest.compile import compile_ingest_sql, output_columns
from joinedup.ingest.errors import IngestError
from joinedup.ingest.layouts import LayoutMatch, drift_message, match_layout, remember_layout
from joinedup.ingest.mapping import Mapping, identity_mapping, load_mapping
from joinedup.ingest.readers import ReadOptions, read_source
from joinedup.ingest.report import build_report
from joinedup.ingest.suggest import sample_of
from joinedup.jobs.registry import ProgressListener
from joinedup.standards import redactable_fields, required_fields
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.engine import engine_table
from joinedup.store.hashing import file_sha256
from joinedup.store.sql import ident

DEFAULT_REJECT_THRESHOLD = 0.2


@dataclass(frozen=True)
class IngestRequest:
    """Everything an ingest needs; the same for the CLI, the API and the upload page."""

    organisation: str
    dataset: str
    path: Path
    mapping: Mapping | Path | None = None
    standard: str | None = None
    period: str | None = None
    filename: str | None = None
    user_id: int | None = None
    actor: str = "cli"
    reject_threshold: float = DEFAULT_REJECT_THRESHOLD
    read_options: ReadOptions | None = None
    today: date | None = None
    confirm_layout: bool = False

    @property
    def display_name(self) -> str:
        return self.filename or self.path.name


@dataclass
class IngestResult:
    status: str  # "created" or "unchanged"
    dataset: str
    organisation: str
    version: int
    rows: int
    accepted: int
    rejected: int
    report: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "organisation": self.organisation,
            "dataset": self.dataset,
            "version": self.version,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }


def _resolve_mapping(req: IngestRequest, existing: Dataset | None, columns: list[str]) -> Mapping:
    if isinstance(req.mapping, Mapping):
        mapping = req.mapping
    elif isinstance(req.mapping, Path):
        mapping = load_mapping(req.mapping)
    else:
        standard = req.standard or (existing.standard if existing else None)
        if standard is None:
            raise IngestError(
                req.display_name,
                None,
                "no_mapping",
                "give a mapping or the standard the file follows",
            )
        mapping = identity_mapping(standard, columns)
    if mapping.needs_period:
        if not req.period:
            raise IngestError(
                req.display_name,
                None,
                "missing_period",
                f"mapping {mapping.name} takes the reporting period from the upload: give the "
                "period (e.g. 2026-10)",
            )
        mapping = mapping.with_period(req.period)
    return mapping


def _remembered(
    settings: Settings, req: IngestRequest, con: duckdb.DuckDBPyConnection, columns: list[str]
) -> LayoutMatch | None:
    """The remembered layout's mapping for a file given no mapping (layout memory)."""
    if req.mapping is not None:
        return None
    match = match_layout(
        settings, req.organisation, req.dataset, columns, sample_of(con, "src", columns)
    )
    if match.status == "new":
        return None
    if match.status == "drifted" and not req.confirm_layout:
        raise IngestError(req.display_name, 1, "layout_drift", drift_message(match))
    return match


def _drift(previous: DatasetVersion | None, columns: list[str]) -> list[str]:
    if previous is None:
        return []
    before = list(previous.details.get("source_columns", []))
    missing = [c for c in before if c not in columns]
    added = [c for c in columns if c not in before]
    notes = []
    if missing:
        notes.append(f"columns missing since version {previous.version}: {', '.join(missing)}")
    if added:
        notes.append(f"new columns since version {previous.version}: {', '.join(added)}")
    return notes


def _organisation(session: Session, code: str, filename: str) -> Organisation:
    org = session.scalars(select(Organisation).where(Organisation.code == code)).first()
    if org is None:
        raise IngestError(filename, None, "unknown_organisation", f"no organisation {code!r}")
    return org


def _dataset(session: Session, org: Organisation, name: str) -> Dataset | None:
    return session.scalars(
        select(Dataset).where(Dataset.organisation_id == org.id, Dataset.name == name)
    ).first()


@dataclass
class _Existing:
    dataset: Dataset | None
    latest: DatasetVersion | None
    identical: DatasetVersion | None


def _existing(settings: Settings, req: IngestRequest, source_sha: str) -> _Existing:
    with session_scope(settings) as session:
        org = _organisation(session, req.organisation, req.display_name)
        dataset = _dataset(session, org, req.dataset)
        if dataset is None:
            return _Existing(None, None, None)
        versions = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
        latest = session.scalars(versions.order_by(DatasetVersion.version.desc()).limit(1)).first()
        identical = session.scalars(
            versions.where(DatasetVersion.source_sha256 == source_sha)
        ).first()
        session.expunge_all()
        return _Existing(dataset, latest, identical)


def _unchanged(req: IngestRequest, same: DatasetVersion) -> IngestResult:
    return IngestResult(
        status="unchanged",
        dataset=req.dataset,
        organisation=req.organisation,
        version=same.version,
        rows=same.accepted_rows + same.rejected_rows,
        accepted=same.accepted_rows,
        rejected=same.rejected_rows,
        report=dict(same.details.get("report", {})),
        warnings=[f"identical to version {same.version}; nothing new was stored"],
    )


def _check_mapping(
    name: str, mapping: Mapping, dataset: Dataset | None, columns: list[str]
) -> None:
    if dataset is not None and dataset.standard != mapping.standard:
        raise IngestError(
            name,
            None,
            "standard_mismatch",
            f"the dataset holds {dataset.standard} records but the mapping gives "
            f"{mapping.standard}",
        )
    missing = mapping.missing_columns(columns)
    if missing:
        raise IngestError(
            name,
            1,
            "missing_column",
            f"mapping {mapping.name} needs column(s) the file lacks: {', '.join(missing)}",
        )
    unmapped = [f for f in required_fields(mapping.standard) if f not in mapping.fields]
    if unmapped:
        raise IngestError(
            name,
            1,
            "missing_column",
            f"no column fills required {mapping.standard} field(s): {', '.join(unmapped)}",
        )


def _enforce_threshold(name: str, report: dict[str, Any], threshold: float) -> None:
    total, rejected = report["rows"], report["rejected"]
    if total == 0:
        raise IngestError(name, None, "headers_only", "the file has no data rows")
    if rejected / total <= threshold:
        return
    worst = report["rules"][0]
    raise IngestError(
        name,
        worst["examples"][0]["row"] if worst["examples"] else None,
        "rejection_threshold",
        f"{rejected} of {total} rows ({rejected / total:.0%}) failed validation, more than the "
        f"{threshold:.0%} allowed; most common: {worst['field']} {worst['rule']} "
        f"({worst['rows']} rows)",
    )


def _store(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    req: IngestRequest,
    mapping: Mapping,
    report: dict[str, Any],
    source_sha: str,
) -> int:
    """Write both snapshots, the version and its audit entry in one unit of work."""
    columns = output_columns(mapping.standard)
    typed = ", ".join(ident(c) for c in columns)
    text = ", ".join(f"{ident('t:' + c)} AS {ident(c)}" for c in columns)
    total, rejected = report["rows"], report["rejected"]
    store = SnapshotStore(settings)
    with session_scope(settings) as session, store.writer(session) as writer:
        accepted = writer.write_query(
            con,
            f"SELECT _row AS _source_row, {typed} FROM checked "
            "WHERE len(_reasons) = 0 ORDER BY _row",
        )
        quarantine = None
        if rejected:
            quarantine = writer.write_query(
                con,
                f"SELECT _row AS _source_row, {text}, _reasons FROM checked "
                "WHERE len(_reasons) > 0 ORDER BY _row",
            )
        org = _organisation(session, req.organisation, req.display_name)
        dataset = _dataset(session, org, req.dataset)
        if dataset is None:
            dataset = Dataset(
                organisation_id=org.id,
                name=req.dataset,
                standard=mapping.standard,
                title=req.dataset.replace("-", " ").capitalize(),
            )
            session.add(dataset)
            session.flush()
        latest = session.scalar(
            select(func.max(DatasetVersion.version)).where(DatasetVersion.dataset_id == dataset.id)
        )
        number = (latest or 0) + 1
        session.add(
            DatasetVersion(
                dataset_id=dataset.id,
                version=number,
                snapshot_sha256=accepted.sha256,
                quarantine_sha256=quarantine.sha256 if quarantine else None,
                accepted_rows=total - rejected,
                rejected_rows=rejected,
                mapping_name=mapping.name,
                source_filename=req.display_name,
                source_sha256=source_sha,
                period=req.period,
                created_by_id=req.user_id,
                details={"report": report, "source_columns": report["source"]["columns"]},
            )
        )
        session.flush()
        append_event(
            session,
            actor=req.actor,
            actor_user_id=req.user_id,
            organisation_id=org.id,
            action=AuditAction.DATASET_VERSION_CREATE,
            target_type="dataset_version",
            target_id=f"{req.organisation}/{req.dataset}/{number}",
            details={"rows": total, "accepted": total - rejected, "rejected": rejected},
        )
        session.commit()
    return number


def ingest(
    settings: Settings, req: IngestRequest, progress: ProgressListener | None = None
) -> IngestResult:
    """Run one ingest to completion, or raise :class:`IngestError` having stored nothing."""
    report_progress = progress or (lambda fraction, message: None)
    name = req.display_name
    source_sha = file_sha256(req.path)
    existing = _existing(settings, req, source_sha)
    if existing.identical is not None:
        return _unchanged(req, existing.identical)
    report_progress(0.05, "Reading the file")
    with duckdb_session(settings) as con:
        options = req.read_options or ReadOptions(max_file_bytes=settings.max_upload_bytes)
        info = read_source(
            con, req.path, "src", options, tmp_dir=settings.tmp_dir, name=req.display_name
        )
        layout = _remembered(settings, req, con, info.columns)
        if layout is not None:
            name_ = f"remembered layout {layout.fingerprint[:12]}"
            req = replace(req, mapping=layout.as_mapping(name_))
        mapping = _resolve_mapping(req, existing.dataset, info.columns)
        _check_mapping(name, mapping, existing.dataset, info.columns)
        report_progress(0.3, "Validating rows")
        today = (req.today or date.today()).isoformat()
        sql = compile_ingest_sql(mapping, "src", today)
        engine_table(settings, con, "checked", sql, ["src"], temp=True)
        report = build_report(con, "checked", redactable_fields(mapping.standard))
        warnings = [*info.warnings, *_drift(existing.latest, info.columns)]
        report |= {
            "source": {
                "file": name,
                "format": info.format,
                "encoding": info.encoding,
                "delimiter": info.delimiter,
                "sheet": info.sheet,
                "columns": info.columns,
                "bytes": info.size_bytes,
            },
            "mapping": mapping.name,
            "standard": mapping.standard,
            "warnings": warnings,
        }
        _enforce_threshold(name, report, req.reject_threshold)
        report_progress(0.6, "Writing snapshots")
        number = _store(settings, con, req, mapping, report, source_sha)
    if layout is not None and layout.status == "drifted" and layout.mapping is not None:
        remember_layout(
            settings,
            req.organisation,
            req.dataset,
            info.columns,
            layout.mapping,
            actor=req.actor,
            user_id=req.user_id,
        )
    report_progress(1.0, "Stored")
    return IngestResult(
        status="created",
        dataset=req.dataset,
        organisation=req.organisation,
        version=number,
        rows=report["rows"],
        accepted=report["accepted"],
        rejected=report["rejected"],
        report=report,
        warnings=warnings,
    )
