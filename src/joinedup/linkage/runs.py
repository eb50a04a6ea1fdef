"""Linkage runs in the catalogue: find the latest, reserve ids, and store a run all or nothing.

A run (full or incremental) leaves, in DuckDB connection ``con``:

* ``linkage_records``: the prepared records (``rid`` and the columns of
  :func:`joinedup.linkage.prepare.prepare_sql`, plus provenance and ``attr_hash``);
* ``linkage_clusters(rid, record_key, resident_id)`` with stable ids;
* ``linkage_households(resident_id, household_id, address_key)``;

and a SELECT giving its pairs. :func:`store_run` writes the index, pairs and records
snapshots (an incremental run's pairs and records as a delta on its parent's, see
:mod:`joinedup.linkage.chain`), the model (for a full run), the ``linkage_run`` row and its
``linkage_id_event`` rows in one transaction: either all of them exist afterwards or none
does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageIdEvent, LinkageRun
from joinedup.config import Settings
from joinedup.governance.objections import resident_records
from joinedup.linkage import model as m
from joinedup.linkage.ids import IdReport
from joinedup.linkage.prepare import MODEL_COLUMNS
from joinedup.store import SnapshotStore

#: Columns whose values decide a record's comparisons: a record whose hash of these changes
#: between dataset versions is re-scored by an incremental run.
HASHED_COLUMNS = (*MODEL_COLUMNS, "household_ref", "dataset_key", "standard")


def attr_hash_sql(alias: str = "") -> str:
    """SQL for ``attr_hash``: md5 of the columns that decide a record's comparisons."""
    prefix = f"{alias}." if alias else ""
    parts = ", ".join(f"coalesce(CAST({prefix}{c} AS VARCHAR), '\u2205')" for c in HASHED_COLUMNS)
    return f"md5(concat_ws('\u241f', {parts}))"


def models_dir(settings: Settings) -> Path:
    return settings.home / "linkage" / "models"


def latest_run(settings: Settings) -> LinkageRun | None:
    with session_scope(settings) as session:
        run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc()).limit(1)).first()
        if run is not None:
            session.expunge(run)
        return run


def next_model_version(settings: Settings) -> int:
    with session_scope(settings) as session:
        recorded = session.scalar(select(func.max(LinkageRun.model_version))) or 0
    on_disk = [int(p.stem) for p in models_dir(settings).glob("*.json") if p.stem.isdigit()]
    return max([recorded, *on_disk]) + 1


def reserved_ids(settings: Settings, con: duckdb.DuckDBPyConnection, index: str | None) -> set[str]:
    """Every resident id issued before: the latest index's and every id event's."""
    ids: set[str] = set()
    if index is not None:
        rows = con.execute(f"SELECT DISTINCT resident_id FROM {index}").fetchall()
        ids |= {str(r[0]) for r in rows}
    with session_scope(settings) as session:
        for resident_id, related in session.execute(
            select(LinkageIdEvent.resident_id, LinkageIdEvent.related)
        ):
            ids.add(str(resident_id))
            ids |= {str(r) for r in related or []}
    return ids


def resident_resolver(settings: Settings) -> Callable[[frozenset[str]], set[tuple[str, str, str]]]:
    """Objections by resident id → the records of those residents in the latest index."""

    def resolve(resident_ids: frozenset[str]) -> set[tuple[str, str, str]]:
        with session_scope(settings) as session:
            return resident_records(settings, session, resident_ids)

    return resolve


INDEX_SQL = """
    SELECT r.record_key, r.organisation, r.dataset, r.version, r.source_record_id,
           c.resident_id, h.household_id, r.rows
    FROM linkage_records r
    JOIN linkage_clusters c USING (rid)
    JOIN linkage_households h USING (resident_id)
    ORDER BY r.rid
"""

#: Snapshots are written in rid order, an integer sort: a full build numbers its records in
#: record-key order, an update numbers the kept records so and then the delta's, so each
#: snapshot's bytes follow from its inputs without sorting a million string keys again.
RECORDS_SQL = "SELECT * EXCLUDE (rid) FROM linkage_records ORDER BY rid"
#: The pairs' ordering columns (see :func:`new_pairs_sql`), dropped when they are written.
PAIR_ORDER = ("__part", "__pos_l", "__pos_r")


def new_pairs_sql(con: duckdb.DuckDBPyConnection, pairs: str, review_low: float) -> str:
    """The scored pairs of table ``pairs`` at or above the review band, keyed by record key
    (levels and weights only: no personal values)."""
    names = [r[0] for r in con.execute(f"DESCRIBE {pairs}").fetchall()]
    keep = ("match_weight", "match_probability")
    evidence = ", ".join(
        f"p.{n}" for n in names if n in keep or n.startswith(("gamma_", "mw_", "tf_"))
    )
    return f"""
        SELECT a.record_key AS record_key_l, b.record_key AS record_key_r, {evidence},
               1 AS __part, p.rid_l AS __pos_l, p.rid_r AS __pos_r
        FROM {pairs} p
        JOIN linkage_records a ON a.rid = p.rid_l
        JOIN linkage_records b ON b.rid = p.rid_r
        WHERE p.match_probability >= {float(review_low)}
    """


@dataclass(frozen=True)
class DeltaLayer:
    """What an incremental run stores on top of its parent's snapshots instead of whole ones
    (:mod:`joinedup.linkage.chain`): SELECTs over ``con`` for the records it added or
    rewrote and for its tombstones, and the run's pair counts, worked out by the caller."""

    records_sql: str
    tombstones_sql: str
    pairs: int
    review: int


@dataclass
class RunSpec:
    """What a run records besides its tables."""

    kind: str
    model: m.LinkageModel
    threshold: float
    review_low: float
    job_id: str | None
    inputs: list[dict[str, Any]]
    refused: list[dict[str, str]]
    ids: IdReport
    parent_run_id: int | None = None
    model_path: str | None = None  # an incremental run reuses its parent's model file
    details: dict[str, Any] = field(default_factory=dict)


def store_run(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    spec: RunSpec,
    pairs_sql: str,
    layer: DeltaLayer | None = None,
) -> dict[str, Any]:
    """Write the run's snapshots, model and catalogue rows (all or nothing); its summary.

    ``pairs_sql`` gives the run's pairs, or with ``layer`` only the pairs it adds to its
    parent's (a delta in the parent's snapshot chain)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE __run_pairs AS {pairs_sql}")
    records, residents = con.execute(
        "SELECT count(*), count(DISTINCT resident_id) FROM linkage_clusters"
    ).fetchall()[0]
    households_n = con.execute(
        "SELECT count(DISTINCT household_id) FROM linkage_households"
    ).fetchall()[0][0]
    if layer is None:
        n_pairs, review = con.execute(
            f"SELECT count(*), count(*) FILTER (match_probability < {float(spec.threshold)}) "
            "FROM __run_pairs"
        ).fetchall()[0]
    else:
        n_pairs, review = layer.pairs, layer.review
    new_model = spec.model_path is None
    if new_model:
        assert spec.model.version is not None
        path = models_dir(settings) / f"{spec.model.version}.json"
    else:
        path = settings.home / str(spec.model_path)
    store = SnapshotStore(settings)
    try:
        with session_scope(settings) as session, store.writer(session) as writer:
            index = writer.write_query(con, INDEX_SQL)
            scored = writer.write_query(
                con,
                f"SELECT * EXCLUDE ({', '.join(PAIR_ORDER)}) FROM __run_pairs "
                f"ORDER BY {', '.join(PAIR_ORDER)}",
            )
            prepared = writer.write_query(con, RECORDS_SQL if layer is None else layer.records_sql)
            tombstones = None if layer is None else writer.write_query(con, layer.tombstones_sql)
            if new_model:
                spec.model.save(path)
            run = LinkageRun(
                model_version=spec.model.version,
                model_path=str(path.relative_to(settings.home)),
                job_id=spec.job_id,
                threshold=spec.threshold,
                records=int(records),
                residents=int(residents),
                households=int(households_n),
                pairs=int(n_pairs),
                index_sha256=index.sha256,
                pairs_sha256=scored.sha256,
                records_sha256=prepared.sha256,
                tombstones_sha256=None if tombstones is None else tombstones.sha256,
                kind=spec.kind,
                parent_run_id=spec.parent_run_id,
                inputs=spec.inputs,
                details={
                    "refused": spec.refused,
                    "review_band": [spec.review_low, spec.threshold],
                    "pairs_in_review_band": int(review),
                    "id_moves": spec.ids.counts(),
                    **spec.details,
                },
            )
            session.add(run)
            session.flush()
            run_id = int(run.id)
            session.add_all(
                LinkageIdEvent(
                    run_id=run_id,
                    kind=move.kind,
                    resident_id=move.resident_id,
                    related=move.related,
                    records=move.records,
                    evidence=move.evidence,
                )
                for move in spec.ids.moves
            )
            session.commit()
    except BaseException:
        if new_model:
            path.unlink(missing_ok=True)
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS __run_pairs")
    return {
        "run": run_id,
        "kind": spec.kind,
        "model_version": spec.model.version,
        "records": int(records),
        "residents": int(residents),
        "households": int(households_n),
        "pairs_scored_above_review": int(n_pairs),
        "pairs_for_review": int(review),
        "datasets_linked": len(spec.inputs),
        "datasets_refused": len(spec.refused),
        "threshold": spec.threshold,
        "id_moves": spec.ids.counts(),
    }
