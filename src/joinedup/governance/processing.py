"""Bulk, audited reads of personal data by the hub's own services (jobs), with no user.

A job such as the linkage build reads every person record a purpose allows. There is no
signed-in person, so the reader is a *service actor*: an organisation (the hub) acting under a
purpose. Each dataset is decided with the same agreement logic as a person's read
(:func:`joinedup.governance.policy.decide_for_organisation`: the organisation must be the
controller or a recipient of an active agreement that covers the provider, dataset, fields and
purpose), records of residents who objected to the purpose are left out, and one audit event is
written per dataset read or refused (the number of records, not every id).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.governance.access import AccessDenied, NotFound
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.objections import objectors
from joinedup.governance.policy import Decision, Policy
from joinedup.standards import registry
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.sql import ident, lit

#: Provenance columns added to every row returned (after the requested fields).
PROVENANCE = ("_organisation", "_dataset", "_version", "_standard")

#: Resolves objections made by resident id into source records (organisation, dataset,
#: source record id), using the current resident index. Linkage supplies it.
ResidentResolver = Callable[[frozenset[str]], set[tuple[str, str, str]]]


@dataclass(frozen=True)
class DatasetRef:
    """One dataset to read: its latest version unless ``version`` is given."""

    organisation: str
    dataset: str
    version: int | None = None


@dataclass(frozen=True)
class ServiceActor:
    """The hub (or another organisation) acting as a service, for a purpose, with no user."""

    organisation: str
    purpose: str
    name: str = "service"
    job_id: str | None = None

    @property
    def label(self) -> str:
        return f"service:{self.name}"


@dataclass
class DatasetRead:
    """What happened for one dataset: read (how many rows, how many excluded) or refused."""

    organisation: str
    dataset: str
    version: int
    standard: str
    allowed: bool
    reason: str
    agreement: str | None = None
    rows: int = 0
    excluded: int = 0


@dataclass
class ProcessingRead:
    """The rows read (one Arrow table, provenance columns last) and a report per dataset."""

    table: pa.Table
    datasets: list[DatasetRead] = field(default_factory=list)

    @property
    def refused(self) -> list[DatasetRead]:
        return [d for d in self.datasets if not d.allowed]


#: Decides reads of ``fields`` of a dataset held by a provider (see :func:`service_decider`).
ServiceDecider = Callable[[Organisation, Dataset, Iterable[str]], Decision]


def service_decider(
    session: Session, actor: ServiceActor, today: date | None = None
) -> ServiceDecider:
    """:func:`decide_for_service` for any number of datasets: the actor's organisation and
    policy (its purpose and the agreements it receives under) are read once, then each read
    is decided in memory, as :class:`~joinedup.governance.policy.Policy` does."""
    org = session.scalars(
        select(Organisation).where(Organisation.code == actor.organisation)
    ).first()
    if org is None:
        refusal = Decision(False, f"no organisation {actor.organisation!r}")
        return lambda provider, dataset, fields: refusal
    policy = Policy(session, None, org.id, actor.purpose, today or date.today())

    def decide(provider: Organisation, dataset: Dataset, fields: Iterable[str]) -> Decision:
        return policy.decide(provider.id, dataset.name, dataset.standard, tuple(fields))

    return decide


def decide_for_service(
    session: Session,
    actor: ServiceActor,
    *,
    provider: Organisation,
    dataset: Dataset,
    fields: Iterable[str],
    today: date | None = None,
) -> Decision:
    """The policy decision for a service actor reading ``fields`` of ``dataset``."""
    return service_decider(session, actor, today)(provider, dataset, fields)


def _resolve(session: Session, ref: DatasetRef) -> tuple[Organisation, Dataset, DatasetVersion]:
    org = session.scalars(select(Organisation).where(Organisation.code == ref.organisation)).first()
    if org is None:
        raise NotFound(f"no organisation {ref.organisation!r}")
    ds = session.scalars(
        select(Dataset).where(Dataset.organisation_id == org.id, Dataset.name == ref.dataset)
    ).first()
    if ds is None:
        raise NotFound(f"no dataset {ref.organisation}/{ref.dataset}")
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id)
    if ref.version is None:
        query = query.order_by(DatasetVersion.version.desc()).limit(1)
    else:
        query = query.where(DatasetVersion.version == ref.version)
    version = session.scalars(query).first()
    if version is None:
        raise NotFound(f"no version {ref.version} of {ref.organisation}/{ref.dataset}")
    return org, ds, version


def _audit(
    session: Session,
    actor: ServiceActor,
    org_id: int | None,
    decision: Decision,
    target: str,
    details: dict[str, Any],
) -> None:
    append_event(
        session,
        actor=actor.label,
        organisation_id=org_id,
        action=AuditAction.PERSONAL_DATA_PROCESS,
        purpose=actor.purpose,
        decision=decision.label,
        reason=decision.reason,
        target_type="dataset_version",
        target_id=target,
        details={**details, "job": actor.job_id} if actor.job_id else details,
    )


def requested_columns(fields: Callable[[str], list[str]] | list[str], standard: str) -> list[str]:
    """The columns a read asks for: ``source_record_id``, then ``fields`` (a list, or a
    function of the dataset's standard)."""
    wanted = fields(standard) if callable(fields) else list(fields)
    return ["source_record_id", *[f for f in wanted if f != "source_record_id"]]


#: DuckDB types of the standards' field types, for fields a version does not hold.
_SQL_TYPES = {"date": "DATE", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}


def select_list(
    con: duckdb.DuckDBPyConnection, source: str, standard: str, columns: list[str]
) -> str:
    """The SELECT list reading ``columns`` of one version. A field the standard gained after
    the version was ingested (say ``benefit_claim`` 1.1.0's assessment dates) is not in its
    file: it reads as a typed NULL, as a field the source never supplied does, so a newer
    reader works on every version kept."""
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    out = []
    for c in columns:
        if c in present:
            out.append(ident(c))
            continue
        try:
            kind = registry.field(standard, c).get("type", "string")
        except (KeyError, registry.UnknownStandardError):
            kind = "string"
        out.append(f"NULL::{_SQL_TYPES.get(kind, 'VARCHAR')} AS {ident(c)}")
    return ", ".join(out)


def read_details(decision: Decision, fields: list[str], rows: int, excluded: int) -> dict[str, Any]:
    """The audit details of one dataset version read: the fields, the rows read, the records
    left out for objections and the agreement that allowed it."""
    return {
        "fields": fields,
        "rows": rows,
        "excluded_by_objection": excluded,
        "agreement": decision.agreement_reference,
    }


def actor_exclusions(
    settings: Settings,
    session: Session,
    actor: ServiceActor,
    resolve_residents: ResidentResolver | None,
) -> tuple[Organisation, set[tuple[str, str, str]]]:
    """The acting organisation, and the records (organisation, dataset, source record id)
    left out of its reads: every record of residents who objected to the actor's purpose,
    by resident id or by record (:func:`~joinedup.governance.objections.objectors`)."""
    actor_org = session.scalars(
        select(Organisation).where(Organisation.code == actor.organisation)
    ).first()
    if actor_org is None:
        raise NotFound(f"no organisation {actor.organisation!r}")
    exclusions = objectors(settings, session, actor.purpose)
    excluded_records = set(exclusions.records)
    if exclusions.resident_ids and resolve_residents is not None:
        excluded_records |= resolve_residents(exclusions.resident_ids)
    return actor_org, excluded_records


def read_for_processing(
    settings: Settings,
    actor: ServiceActor,
    datasets: Iterable[DatasetRef],
    fields: Callable[[str], list[str]] | list[str],
    *,
    order_by: Callable[[str], str] | None = None,
    resolve_residents: ResidentResolver | None = None,
    on_refusal: str = "skip",
    today: date | None = None,
) -> ProcessingRead:
    """Read ``fields`` of each dataset as ``actor`` (decided, objections honoured, audited).

    ``fields`` is a list, or a function of the dataset's standard giving the fields to read
    (``source_record_id`` is always read). ``order_by`` gives an ORDER BY expression per
    standard. A refused dataset is skipped (``on_refusal="skip"``, reported in the result) or
    raises :class:`AccessDenied` (``"raise"``). Objections by resident id are resolved into
    records with ``resolve_residents`` when given.
    """
    if on_refusal not in ("skip", "raise"):
        raise ValueError("on_refusal is 'skip' or 'raise'")
    store = SnapshotStore(settings)
    parts: list[pa.Table] = []
    reads: list[DatasetRead] = []
    with session_scope(settings) as session:
        actor_org, excluded_records = actor_exclusions(settings, session, actor, resolve_residents)
        plans = []
        decide = service_decider(session, actor, today)
        for ref in datasets:
            org, ds, version = _resolve(session, ref)
            columns = requested_columns(fields, ds.standard)
            decision = decide(org, ds, columns)
            target = f"{org.code}/{ds.name}/{version.version}"
            read = DatasetRead(
                org.code,
                ds.name,
                version.version,
                ds.standard,
                decision.allow,
                decision.reason,
                decision.agreement_reference,
            )
            reads.append(read)
            if not decision.allow:
                _audit(session, actor, actor_org.id, decision, target, {"fields": columns})
                if on_refusal == "raise":
                    session.commit()
                    raise AccessDenied(decision)
                continue
            plans.append((read, decision, target, columns, version.snapshot_sha256))
        with duckdb_session(settings) as con:
            for read, decision, target, columns, sha in plans:
                excluded = sorted(
                    rid
                    for (o, d, rid) in excluded_records
                    if o == read.organisation and d == read.dataset
                )
                where = "TRUE"
                if excluded:
                    where = f"source_record_id NOT IN ({', '.join(lit(r) for r in excluded)})"
                order = order_by(read.standard) if order_by else "_source_row"
                provenance = (
                    f"{lit(read.organisation)} AS _organisation, {lit(read.dataset)} AS _dataset, "
                    f"{read.version}::INTEGER AS _version, {lit(read.standard)} AS _standard"
                )
                source = store.sql_source(sha)
                total = con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
                table = con.sql(
                    f"SELECT {select_list(con, source, read.standard, columns)}, {provenance} "
                    f"FROM {source} WHERE {where} ORDER BY {order}"
                ).to_arrow_table()
                read.rows = table.num_rows
                read.excluded = int(total) - table.num_rows
                _audit(
                    session,
                    actor,
                    actor_org.id,
                    decision,
                    target,
                    read_details(decision, columns, read.rows, read.excluded),
                )
                parts.append(table)
    table = pa.concat_tables(parts, promote_options="permissive") if parts else pa.table({})
    return ProcessingRead(table=table, datasets=reads)


def authorise_reuse(
    settings: Settings,
    actor: ServiceActor,
    datasets: Iterable[DatasetRef],
    fields: Callable[[str], list[str]] | list[str],
    *,
    derived_from: str,
    today: date | None = None,
) -> list[DatasetRead]:
    """Decide, and audit, a service's further processing of records it derived earlier from
    each dataset version (such as the linkage index's prepared records, ``derived_from``),
    without reading the source again. A refused dataset's derived records must be dropped
    by the caller; the decision is the same one :func:`read_for_processing` makes."""
    reads: list[DatasetRead] = []
    with session_scope(settings) as session:
        actor_org = session.scalars(
            select(Organisation).where(Organisation.code == actor.organisation)
        ).first()
        if actor_org is None:
            raise NotFound(f"no organisation {actor.organisation!r}")
        decide = service_decider(session, actor, today)
        for ref in datasets:
            org, ds, version = _resolve(session, ref)
            columns = requested_columns(fields, ds.standard)
            decision = decide(org, ds, columns)
            reads.append(
                DatasetRead(
                    org.code,
                    ds.name,
                    version.version,
                    ds.standard,
                    decision.allow,
                    decision.reason,
                    decision.agreement_reference,
                )
            )
            _audit(
                session,
                actor,
                actor_org.id,
                decision,
                f"{org.code}/{ds.name}/{version.version}",
                {
                    "fields": columns,
                    "derived_from": derived_from,
                    "agreement": decision.agreement_reference,
                },
            )
    return reads
