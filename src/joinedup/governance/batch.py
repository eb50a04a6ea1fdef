"""Shared, audited reads of personal data for several consumers of one service at once.

A service job such as an insight run needs the same dataset versions for many consumers (the
rules of one purpose, and their sources) under one actor (a council acting under a purpose).
:func:`read_batch` reads them **once**, into the caller's DuckDB connection, with the same
governance as :func:`joinedup.governance.processing.read_for_processing`:

* every consumer's fields of every dataset are decided by the one policy decision
  (:func:`joinedup.governance.processing.decide_for_service`); the decision does not depend on
  the version, so a series of versions of one dataset is decided once per set of fields;
* a dataset version is read once, with the union of the fields its *allowed* consumers asked
  for; records of residents who objected to the purpose are left out;
* one audit event is written per dataset version read (per agreement that allowed it: the
  fields, rows, records left out and the consumers it served) and one per refused set of
  fields, so the log still names every version whose records were processed.

Each version's rows land in their own table (``<prefix><n>``), with the provenance columns and
``_source_row`` (its row in the file); consumers select their own allowed fields from the
versions they were allowed, and the caller drops the tables with :meth:`BatchRead.drop`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.governance.policy import Decision
from joinedup.governance.processing import (
    DatasetRead,
    DatasetRef,
    ResidentResolver,
    ServiceActor,
    _audit,
    _resolve,
    actor_exclusions,
    read_details,
    requested_columns,
    select_list,
    service_decider,
)
from joinedup.store import SnapshotStore
from joinedup.store.sql import ident, lit

VersionKey = tuple[str, str, int]  # organisation code, dataset name, version


@dataclass(frozen=True)
class ReadRequest:
    """One consumer's part of a batch: dataset versions and the fields it needs of each
    (a list, or a function of the dataset's standard; ``source_record_id`` is always read)."""

    name: str
    datasets: tuple[DatasetRef, ...]
    fields: Callable[[str], list[str]] | list[str]


@dataclass(frozen=True)
class VersionTable:
    """A dataset version read into the connection: its table and the columns read."""

    key: VersionKey
    standard: str
    table: str
    columns: tuple[str, ...]


@dataclass
class BatchRead:
    """What a batch read: per request, a report per dataset (in its order) and the columns
    it was allowed; per version read, its table."""

    tables: dict[VersionKey, VersionTable] = field(default_factory=dict)
    reads: dict[str, list[DatasetRead]] = field(default_factory=dict)
    columns: dict[tuple[str, VersionKey], tuple[str, ...]] = field(default_factory=dict)

    def allowed(self, request: str) -> list[tuple[VersionKey, tuple[str, ...]]]:
        """The versions ``request`` may use, in its order, with the columns it asked for."""
        out = []
        for d in self.reads.get(request, []):
            key = (d.organisation, d.dataset, d.version)
            if d.allowed and key in self.tables:
                out.append((key, self.columns[(request, key)]))
        return out

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        for t in self.tables.values():
            con.execute(f"DROP TABLE IF EXISTS {ident(t.table)}")
        self.tables.clear()


@dataclass
class _Plan:
    """One dataset version: its snapshot and who asked for what."""

    read: DatasetRead
    sha256: str
    allowed: dict[str | None, tuple[Decision, list[str], list[str]]] = field(default_factory=dict)
    refused: dict[tuple[str, ...], tuple[Decision, list[str]]] = field(default_factory=dict)


def _resolve_all(
    session: Session, refs: list[DatasetRef]
) -> dict[tuple[str, str, int | None], tuple[Organisation, Dataset, DatasetVersion]]:
    """Every ref's organisation, dataset and version, in one query for those naming a
    version; the rest (latest version, or not found: :class:`NotFound`) one by one."""
    wanted = {(r.organisation, r.dataset, r.version) for r in refs}
    out: dict[tuple[str, str, int | None], tuple[Organisation, Dataset, DatasetVersion]] = {}
    named = {k for k in wanted if k[2] is not None}
    if named:
        rows = session.execute(
            select(Organisation, Dataset, DatasetVersion)
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
            .where(Organisation.code.in_(sorted({k[0] for k in named})))
            .where(Dataset.name.in_(sorted({k[1] for k in named})))
            .where(DatasetVersion.version.in_(sorted({int(k[2] or 0) for k in named})))
        ).all()
        for org, ds, version in rows:
            key = (org.code, ds.name, int(version.version))
            if key in named:
                out[key] = (org, ds, version)
    for rest in wanted - set(out):
        out[rest] = _resolve(session, DatasetRef(*rest))
    return out


def _union(into: list[str], more: Iterable[str]) -> None:
    into.extend(c for c in more if c not in into)


def read_batch(
    settings: Settings,
    actor: ServiceActor,
    requests: Iterable[ReadRequest],
    con: duckdb.DuckDBPyConnection,
    *,
    prefix: str = "__read_",
    resolve_residents: ResidentResolver | None = None,
    today: date | None = None,
) -> BatchRead:
    """Decide, read once and audit every dataset version the ``requests`` name (see above).

    Refused datasets are skipped and reported per request, as ``read_for_processing`` does
    with ``on_refusal="skip"``."""
    store = SnapshotStore(settings)
    out = BatchRead()
    plans: dict[VersionKey, _Plan] = {}
    with session_scope(settings) as session:
        actor_org, excluded_records = actor_exclusions(settings, session, actor, resolve_residents)
        requests = list(requests)
        resolved = _resolve_all(session, [r for q in requests for r in q.datasets])
        decisions: dict[tuple[str, str, tuple[str, ...]], Decision] = {}
        decide = service_decider(session, actor, today)
        for request in requests:
            reads = out.reads.setdefault(request.name, [])
            for ref in request.datasets:
                org, ds, version = resolved[(ref.organisation, ref.dataset, ref.version)]
                columns = requested_columns(request.fields, ds.standard)
                dkey = (org.code, ds.name, tuple(columns))
                if dkey not in decisions:  # one decision per dataset and fields, any version
                    decisions[dkey] = decide(org, ds, columns)
                decision = decisions[dkey]
                key: VersionKey = (org.code, ds.name, int(version.version))
                read = DatasetRead(
                    *key,
                    ds.standard,
                    decision.allow,
                    decision.reason,
                    decision.agreement_reference,
                )
                reads.append(read)
                plan = plans.setdefault(key, _Plan(read, version.snapshot_sha256))
                if decision.allow:
                    out.columns[(request.name, key)] = tuple(columns)
                    _, cols, names = plan.allowed.setdefault(
                        decision.agreement_reference, (decision, [], [])
                    )
                    _union(cols, columns)
                    names.append(request.name)
                else:
                    plan.refused.setdefault(tuple(columns), (decision, []))[1].append(request.name)
        for n, (key, plan) in enumerate(plans.items()):
            target = "/".join(str(k) for k in key)
            for columns_t, (decision, names) in plan.refused.items():
                details = {"fields": list(columns_t), "for": names}
                _audit(session, actor, actor_org.id, decision, target, details)
            if not plan.allowed:
                continue
            columns = []
            for _, cols, _ in plan.allowed.values():
                _union(columns, cols)
            rows, excluded = _read_version(
                con,
                store.sql_source(plan.sha256),
                f"{prefix}{n}",
                plan.read,
                columns,
                excluded_records,
            )
            out.tables[key] = VersionTable(key, plan.read.standard, f"{prefix}{n}", tuple(columns))
            for decision, cols, names in plan.allowed.values():
                _audit(
                    session,
                    actor,
                    actor_org.id,
                    decision,
                    target,
                    {**read_details(decision, cols, rows, excluded), "for": names},
                )
            for reads in out.reads.values():
                for d in reads:
                    if d.allowed and (d.organisation, d.dataset, d.version) == key:
                        d.rows, d.excluded = rows, excluded
    return out


def _read_version(
    con: duckdb.DuckDBPyConnection,
    source: str,
    table: str,
    read: DatasetRead,
    columns: list[str],
    excluded_records: set[tuple[str, str, str]],
) -> tuple[int, int]:
    """Copy the columns of one version into ``table`` (objectors left out); (rows, left out)."""
    excluded = sorted(
        rid for (o, d, rid) in excluded_records if o == read.organisation and d == read.dataset
    )
    where = "TRUE"
    if excluded:
        con.register(f"{table}__excluded", pa.table({"id": pa.array(excluded, pa.string())}))
        where = f"source_record_id NOT IN (SELECT id FROM {ident(table + '__excluded')})"
    provenance = (
        f"{lit(read.organisation)} AS _organisation, {lit(read.dataset)} AS _dataset, "
        f"{read.version}::INTEGER AS _version, {lit(read.standard)} AS _standard"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE {ident(table)} AS "
        f"SELECT {select_list(con, source, read.standard, columns)}, {provenance}, _source_row "
        f"FROM {source} WHERE {where}"
    )
    if excluded:
        con.unregister(f"{table}__excluded")
    total = con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0]
    rows = con.execute(f"SELECT count(*) FROM {ident(table)}").fetchall()[0][0]
    return int(rows), int(total) - int(rows)
