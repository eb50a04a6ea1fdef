"""Incremental linkage: score only new and changed records against the existing index.

``joinedup linkage update`` (job ``linkage.update``) starts from the latest run and its
prepared-records snapshot, with that run's model (no retraining):

1. **What changed.** Each person dataset whose latest version differs from the one the run
   linked is read again through the governance gateway (decided, objectors left out,
   audited). Its records are prepared and compared with the stored ones by ``attr_hash``: a
   new key or a changed hash is a *delta* record; a key no longer present is removed.
   Datasets that did not change are not read: their stored records are reused, which is
   processing too, so each is decided again and audited (``authorise_reuse``); a dataset
   whose agreement has expired or been revoked has its records dropped. Records of residents
   who have objected since are dropped.
2. **Score.** Delta records against the kept records (Splink's ``predict_between``) and
   among themselves (``predict_within``), with term frequencies from the whole index.
3. **Cluster.** Kept records stay with their residents (each resident is held together by
   links of probability 1); delta records join them through their links, with the usual
   cannot-links. When delta records would join two existing residents, the pairs between
   those residents' records are scored as well, so that a father and son are not merged
   through a new record that matches both.
4. **Ids.** :func:`joinedup.linkage.ids.stabilise_ids` keeps every existing resident's id
   with its unchanged records, names new residents, and records merges, retirements and
   the splits changed records make (a record whose details changed no longer links to its
   resident) with their evidence. Splits among unchanged records are found by a full rebuild
   (``joinedup linkage build``), which re-scores every pair.
5. **Store.** A ``linkage_run`` of kind ``incremental`` whose pairs are the parent's, less
   those of removed or changed records, plus the new ones; households are recomputed.

With ``JOINEDUP_ENGINE=spark`` step 2 (and the guard pairs of step 3) run on Spark
(:mod:`joinedup.linkage.on_spark`, ADR 0038); the rest does not change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.governance.objections import exclusions_for
from joinedup.governance.processing import DatasetRef, ServiceActor, authorise_reuse
from joinedup.linkage import model as m
from joinedup.linkage import namesakes
from joinedup.linkage.chain import (
    MAX_DELTA_SHARE,
    MAX_DELTAS,
    deltas,
    layers,
    pairs_source,
    records_source,
)
from joinedup.linkage.cluster import (
    cannot_link_sql,
    cluster_records,
    connected_components,
    forced_rids,
    households,
    with_forced,
    write_clusters,
)
from joinedup.linkage.ids import stabilise_ids
from joinedup.linkage.inputs import (
    PURPOSE,
    assemble_records,
    fields_for,
    hub_organisation,
    person_datasets,
)
from joinedup.linkage.names import register_variants
from joinedup.linkage.on_spark import SparkLinkage
from joinedup.linkage.prepare import prepare_sql
from joinedup.linkage.review import forced_pairs
from joinedup.linkage.runs import (
    DeltaLayer,
    RunSpec,
    attr_hash_sql,
    latest_run,
    new_pairs_sql,
    reserved_ids,
    resident_resolver,
    store_run,
)
from joinedup.store import SnapshotStore, duckdb_session

Progress = Callable[[float, str], None]
EXTRA = ("version", "source_record_id", "household_ref", "rows")
#: The columns giving a stored record's place in its run's order (see :mod:`.chain`).
POSITION = ("__layer", "__row")


class NothingToUpdate(LookupError):
    """There is no index to update yet (run a full build first)."""


@dataclass
class Delta:
    """What an update found: datasets read again or reused, and records by fate."""

    changed: list[tuple[str, str]] = field(default_factory=list)
    reused: list[tuple[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    new: int = 0
    changed_records: int = 0
    removed: int = 0
    kept: int = 0
    #: the first delta record's rid: kept records' rids are below it (not dense, see
    #: :func:`_combine`), the delta's follow it
    boundary: int = 0


def latest_versions(settings: Settings) -> dict[tuple[str, str], int]:
    """(organisation, dataset) → latest version, for every person dataset."""
    refs = {(r.organisation, r.dataset) for r in person_datasets(settings)}
    with session_scope(settings) as session:
        rows = session.execute(
            select(Organisation.code, Dataset.name, DatasetVersion.version)
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        ).all()
    latest: dict[tuple[str, str], int] = {}
    for org, name, version in rows:
        if (org, name) in refs:
            latest[(org, name)] = max(latest.get((org, name), 0), int(version))
    return latest


def update_index(
    settings: Settings,
    progress: Progress | None = None,
    job_id: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Bring the latest index up to date with the latest dataset versions (see module)."""
    report = progress or (lambda f, msg: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    run = latest_run(settings)
    if run is None or run.records_sha256 is None:
        raise NothingToUpdate("there is no resident index to update: run `joinedup linkage build`")
    model = m.LinkageModel.load(settings.home / run.model_path)
    review_low = float((run.details.get("review_band") or [0.5])[0])
    store = SnapshotStore(settings)
    linked = {(i["organisation"], i["dataset"]): i for i in run.inputs}
    latest = latest_versions(settings)
    delta = Delta(
        changed=sorted(k for k, v in latest.items() if linked.get(k, {}).get("version") != v),
        reused=sorted(k for k, v in latest.items() if linked.get(k, {}).get("version") == v),
    )
    actor = ServiceActor(hub_organisation(settings), PURPOSE, "linkage", job_id)
    with duckdb_session(settings) as con:
        start = time.perf_counter()
        report(0.05, "Checking the agreements for records already linked")
        reuse = authorise_reuse(
            settings,
            actor,
            [DatasetRef(o, d) for o, d in delta.reused],
            fields_for,
            derived_from=f"linkage run {run.id}",
            today=today,
        )
        allowed_reuse = {(r.organisation, r.dataset) for r in reuse if r.allowed}
        delta.refused = [
            {"dataset": f"{r.organisation}/{r.dataset}", "reason": r.reason}
            for r in reuse
            if not r.allowed
        ]
        loading = time.perf_counter()
        timings["decide_reuse"] = loading - start
        report(0.1, "Loading the index")
        chain = layers(settings, run)
        records = records_source(settings, run, chain, positions=True)
        _load_existing(settings, con, records, allowed_reuse, delta)
        timings["load_index"] = time.perf_counter() - loading
        report(0.2, "Reading changed datasets (governed)")
        incoming = assemble_records(
            settings,
            con,
            datasets=[DatasetRef(o, d) for o, d in delta.changed],
            job_id=job_id,
            resolve_residents=resident_resolver(settings),
            today=today,
        )
        delta.refused += incoming.refused
        register_variants(con)
        columns = [r[0] for r in con.execute(f"DESCRIBE {incoming.table}").fetchall()]
        con.execute(
            "CREATE OR REPLACE TABLE __incoming AS SELECT * EXCLUDE (rid), "
            f"{attr_hash_sql()} AS attr_hash FROM ("
            + prepare_sql(incoming.table, columns, EXTRA)
            + ")"
        )
        con.execute(f"DROP TABLE {incoming.table}")
        combining = time.perf_counter()
        _combine(con, records, delta)
        timings["combine"] = time.perf_counter() - combining
        timings["read_and_prepare"] = time.perf_counter() - start
        inputs = [
            *(linked[k] for k in sorted(allowed_reuse)),
            *incoming.versions,
        ]
        records_moved = delta.new or delta.changed_records or delta.removed
        if not records_moved and not delta.changed and not delta.refused:
            report(1.0, "The index is up to date")
            return {
                "run": run.id,
                "kind": "unchanged",
                "records": run.records,
                "residents": run.residents,
                "delta": _delta_summary(delta),
            }
        start = time.perf_counter()
        report(0.35, f"Scoring {delta.new + delta.changed_records:,} new and changed records")
        spark = SparkLinkage.open(settings) if settings.engine == "spark" else None
        try:
            linker = _score(con, model.settings, delta.boundary, spark)
            timings["predict"] = time.perf_counter() - start
            start = time.perf_counter()
            report(0.7, "Clustering")
            earlier = store.sql_source(run.index_sha256)
            _cluster(settings, con, linker, run.threshold, delta.boundary, earlier, spark)
        finally:
            if spark:
                spark.close()
        ids = stabilise_ids(
            con,
            "linkage_clusters",
            earlier,
            "__new_pairs",
            run.threshold,
            reserved_ids(settings, con, earlier),
            anchored=f"c.rid < {delta.boundary}",
        )
        household_count = households(con, "linkage_records", "linkage_clusters")
        timings["cluster"] = time.perf_counter() - start
        start = time.perf_counter()
        report(0.85, "Writing the index")
        parent_pairs = pairs_source(settings, run, chain)
        whole = deltas(chain) + 1 > MAX_DELTAS or (
            delta.new + delta.changed_records > MAX_DELTA_SHARE * max(delta.kept, 1)
        )
        if whole:
            layer = None
            pairs_sql = _pairs_sql(con, parent_pairs, review_low)
        else:
            layer = _delta_layer(con, parent_pairs, run, review_low, delta.boundary)
            pairs_sql = new_pairs_sql(con, "__new_pairs", review_low)
        spec = RunSpec(
            kind="incremental",
            model=model,
            threshold=run.threshold,
            review_low=review_low,
            job_id=job_id,
            inputs=inputs,
            refused=delta.refused,
            ids=ids,
            parent_run_id=run.id,
            model_path=run.model_path,
            details={"delta": _delta_summary(delta)},
        )
        summary = store_run(settings, con, spec, pairs_sql, layer)
        timings["store"] = time.perf_counter() - start
    timings["total"] = time.perf_counter() - started
    summary.update(
        {
            "households": household_count,
            "delta": _delta_summary(delta),
            "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        }
    )
    report(1.0, "Resident index updated")
    return summary


def _delta_summary(delta: Delta) -> dict[str, Any]:
    return {
        "datasets_read": [f"{o}/{d}" for o, d in delta.changed],
        "datasets_reused": len(delta.reused) - len(delta.refused),
        "datasets_refused": delta.refused,
        "records_new": delta.new,
        "records_changed": delta.changed_records,
        "records_removed": delta.removed,
        "records_kept": delta.kept,
    }


def _load_existing(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    source: str,
    allowed: set[tuple[str, str]],
    delta: Delta,
) -> None:
    """``__prev``: the key, hash and place of every stored record (narrow: the prepared
    columns stay in the snapshots until :func:`_combine` reads them once), with ``ok`` when
    its dataset is still allowed (reused) or being read again (changed) and its resident
    has not objected since. The others are tombstoned with their pairs."""
    keep = [*allowed, *delta.changed]
    con.register("__keep_datasets", _datasets_table(keep))
    objected = _objected_records(settings)
    con.register(
        "__objected",
        pa.table(
            {
                "organisation": pa.array([o for o, _, _ in objected], pa.string()),
                "dataset": pa.array([d for _, d, _ in objected], pa.string()),
                "source_record_id": pa.array([r for _, _, r in objected], pa.string()),
            }
        ),
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __prev AS
        SELECT s.record_key, s.attr_hash, s.organisation, s.dataset, s.__layer, s.__row,
               k.dataset IS NOT NULL AND o.dataset IS NULL AS ok
        FROM {source} s
        LEFT JOIN __keep_datasets k
               ON k.organisation = s.organisation AND k.dataset = s.dataset
        LEFT JOIN __objected o
               ON o.organisation = s.organisation AND o.dataset = s.dataset
              AND o.source_record_id = s.source_record_id"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __tombstones AS
        SELECT record_key, true AS pairs FROM __prev WHERE NOT ok"""
    )
    con.unregister("__keep_datasets")
    con.unregister("__objected")
    delta.removed += int(con.execute("SELECT count(*) FROM __tombstones").fetchall()[0][0])


def _datasets_table(datasets: list[tuple[str, str]]) -> pa.Table:
    """(organisation, dataset) pairs as an Arrow table to join on."""
    return pa.table(
        {
            "organisation": pa.array([o for o, _ in datasets], pa.string()),
            "dataset": pa.array([d for _, d in datasets], pa.string()),
        }
    )


def _objected_records(settings: Settings) -> set[tuple[str, str, str]]:
    with session_scope(settings) as session:
        exclusions = exclusions_for(session, PURPOSE)
        records = set(exclusions.records)
        residents = exclusions.resident_ids
    if residents:
        records |= resident_resolver(settings)(residents)
    return records


def _combine(con: duckdb.DuckDBPyConnection, source: str, delta: Delta) -> None:
    """``linkage_records``: kept records (rids below ``delta.boundary``, in the parent's
    order) then delta records (by key); tombstones for the parent records that no longer
    hold."""
    con.register("__changed_sets", _datasets_table(delta.changed))
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    columns = [c for c in columns if c not in POSITION]
    cols = ", ".join(columns)
    con.execute(
        f"""CREATE OR REPLACE TABLE __delta AS
        SELECT {cols} FROM __incoming i
        ANTI JOIN (SELECT record_key, attr_hash FROM __prev WHERE ok) e
               ON e.record_key = i.record_key AND e.attr_hash = i.attr_hash"""
    )
    new, changed = con.execute(
        """SELECT count(*) FILTER (e.record_key IS NULL),
                  count(*) FILTER (e.record_key IS NOT NULL)
        FROM __delta d LEFT JOIN (SELECT record_key FROM __prev WHERE ok) e USING (record_key)"""
    ).fetchall()[0]
    delta.new, delta.changed_records = int(new), int(changed)
    # a stored record of a re-read dataset is replaced when changed (it is in the delta),
    # dropped when gone (both lose their pairs) and otherwise kept, rewritten with its new
    # version and row count (its pairs stay)
    con.execute(
        """INSERT INTO __tombstones
        SELECT p.record_key,
               d.record_key IS NOT NULL OR i.record_key IS NULL AS pairs
        FROM __prev p
        SEMI JOIN __changed_sets c USING (organisation, dataset)
        LEFT JOIN (SELECT record_key FROM __delta) d USING (record_key)
        LEFT JOIN (SELECT record_key FROM __incoming) i USING (record_key)
        WHERE p.ok"""
    )
    ok = int(con.execute("SELECT count(*) FILTER (ok) FROM __prev").fetchall()[0][0])
    gone = int(
        con.execute(
            "SELECT count(*) FROM __tombstones t "
            "SEMI JOIN (SELECT record_key FROM __prev WHERE ok) p USING (record_key) "
            "WHERE t.pairs"
        ).fetchall()[0][0]
    )
    delta.kept = ok - gone
    delta.removed += gone - delta.changed_records
    kept_cols = ", ".join(
        f"coalesce(i.{c}, s.{c}) AS {c}" if c in ("version", "rows") else f"s.{c}" for c in columns
    )
    # one pass over the stored records. A kept record's rid is its place in the stored
    # files (the layers one after another, older first), so numbering needs no sort; the
    # places of records dropped are gaps, which clustering treats as records without links.
    # The delta follows, numbered by key.
    sizes = con.execute(
        "SELECT __layer, max(__row) + 1 FROM __prev GROUP BY 1 ORDER BY 1"
    ).fetchall()
    offsets, boundary = [], 0
    for layer, size in sizes:
        offsets.append(f"WHEN {int(layer)} THEN {boundary}")
        boundary += int(size)
    delta.boundary = boundary
    offset = f"CASE s.__layer {' '.join(offsets)} END" if offsets else "0"
    con.execute(
        f"""CREATE OR REPLACE TABLE linkage_records AS
        SELECT ({offset} + s.__row)::BIGINT AS rid,
               {kept_cols}
        FROM {source} s
        ANTI JOIN (SELECT record_key FROM __tombstones WHERE pairs) t
               ON t.record_key = s.record_key
        LEFT JOIN (SELECT record_key, version, rows FROM __incoming) i
               ON i.record_key = s.record_key
        UNION ALL
        SELECT ({boundary} + row_number() OVER (ORDER BY record_key) - 1)::BIGINT AS rid,
               {cols}
        FROM __delta"""
    )
    con.unregister("__changed_sets")
    for table in ("__incoming", "__prev", "__delta"):
        con.execute(f"DROP TABLE {table}")


def _linker_with_tf(
    con: duckdb.DuckDBPyConnection,
    table: str,
    settings: dict[str, Any],
    spark: SparkLinkage | None = None,
) -> Any:
    """A linker over ``table`` with its term-frequency tables computed (prediction on
    subsets of it reads them)."""
    linker = m.engine_linker(con, [table], settings, spark)
    if any(c["output_column_name"] == namesakes.COLUMN for c in settings["comparisons"]):
        # the whole index's namesakes
        namesakes.register(con, linker, [table], spark.handover(con) if spark else None)
    for column in linker._settings_obj._term_frequency_columns:
        linker.table_management.compute_tf_table(column.unquote().name)
    return linker


def _score(
    con: duckdb.DuckDBPyConnection,
    settings: dict[str, Any],
    kept: int,
    spark: SparkLinkage | None = None,
) -> Any:
    """``__new_pairs``: delta × kept and delta × delta, scored with the run's model (rids
    below ``kept`` are kept records). Returns the linker, whose term frequencies (the whole
    index's) score the guard pairs too."""
    for name, condition in (("__kept_view", f"rid < {kept}"), ("__delta_view", f"rid >= {kept}")):
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM linkage_records WHERE {condition}"
        )
    linker = _linker_with_tf(con, "linkage_records", settings, spark)
    db_api = linker._db_api
    source = spark.handover(con) if spark else (lambda name: name)
    left = db_api.register(source("__kept_view"), table_name="__jd_kept")
    right = db_api.register(source("__delta_view"), table_name="__jd_delta")
    parts = []
    if kept:
        between = linker.inference.predict_between(left, right, warning_mode="never")
        parts.append(between)
    within = linker.inference.predict_within(right, warning_mode="never")
    parts.append(within)
    names = [p.physical_name for p in parts]
    if spark:  # the scored pairs come back to DuckDB
        names = [f"__new_pairs_{i}" for i in range(len(parts))]
        for part, name in zip(parts, names, strict=True):
            spark.to_duckdb(con, part, name)
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {name}" for name in names)
    con.execute(f"CREATE OR REPLACE TABLE __new_pairs AS {union}")
    for part in parts:
        part.drop_table_from_database_and_remove_from_cache()
    if spark:
        for name in names:
            con.execute(f"DROP TABLE {name}")
    return linker


def _cluster(
    settings_of_run: Settings,
    con: duckdb.DuckDBPyConnection,
    linker: Any,
    threshold: float,
    kept: int,
    earlier: str,
    spark: SparkLinkage | None = None,
) -> None:
    """``linkage_clusters`` over all records: kept residents held together, delta records
    joined through their links, cannot-links honoured (see the module docstring)."""
    n = int(con.execute("SELECT coalesce(max(rid) + 1, 0) FROM linkage_records").fetchall()[0][0])
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __previous_ids AS
        SELECT r.rid, i.resident_id FROM linkage_records r
        JOIN (SELECT record_key, resident_id FROM {earlier}) i USING (record_key)
        WHERE r.rid < {kept}"""
    )
    star = con.sql(
        """SELECT rid, min(rid) OVER (PARTITION BY resident_id) AS root FROM __previous_ids"""
    ).to_arrow_table()
    new = con.sql(
        f"SELECT rid_l, rid_r, match_probability FROM __new_pairs "
        f"WHERE match_probability >= {float(threshold)}"
    ).to_arrow_table()
    cannot = con.sql(
        f"SELECT rid_l, rid_r FROM __new_pairs WHERE {cannot_link_sql(threshold)}"
    ).to_arrow_table()
    left = [_ints(new.column(0))]
    right = [_ints(new.column(1))]
    prob = [new.column(2).to_numpy().astype(np.float64)]
    s_left, s_right = _ints(star.column(0)), _ints(star.column(1))
    mask = s_left != s_right
    left.insert(0, s_left[mask])
    right.insert(0, s_right[mask])
    # above any probability: a kept resident is held together before any new link is tried
    prob.insert(0, np.full(int(mask.sum()), 2.0))
    links = (np.concatenate(left), np.concatenate(right), np.concatenate(prob))
    c_left, c_right = [_ints(cannot.column(0))], [_ints(cannot.column(1))]
    guard = _guard_pairs(con, linker, n, links, threshold, spark)
    if guard is not None:
        c_left.append(guard[0])
        c_right.append(guard[1])
    cannot_pairs = (np.concatenate(c_left), np.concatenate(c_right))
    forced = forced_pairs(settings_of_run)  # reviewers' decisions override the model
    if forced.links or forced.cannot:
        links, cannot_pairs = with_forced(
            n,
            links,
            cannot_pairs,
            forced_rids(con, "linkage_records", forced.links),
            forced_rids(con, "linkage_records", forced.cannot),
        )
    result = cluster_records(n, links, cannot_pairs)
    write_clusters(con, "linkage_records", result.labels, "linkage_clusters")
    con.execute("DROP TABLE __previous_ids")


def _guard_pairs(
    con: duckdb.DuckDBPyConnection,
    linker: Any,
    n: int,
    links: tuple[Any, Any, Any],
    threshold: float,
    spark: SparkLinkage | None = None,
) -> tuple[Any, Any] | None:
    """Cannot-links between existing residents that delta records would join: the pairs
    between their records, scored, where the model says the two are different people."""
    labels = connected_components(n, links[0], links[1])
    con.register("__cc", pa.table({"rid": pa.array(np.arange(n)), "label": pa.array(labels)}))
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __guard AS
        WITH c AS (
            SELECT rid, cc.label, i.resident_id FROM __previous_ids i JOIN __cc cc USING (rid)
        ), joined AS (
            SELECT label FROM c GROUP BY label HAVING count(DISTINCT resident_id) > 1
        )
        SELECT r.*, c.resident_id AS __resident FROM linkage_records r
        JOIN c USING (rid) SEMI JOIN joined USING (label)"""
    )
    con.unregister("__cc")
    if not con.execute("SELECT count(*) FROM __guard").fetchall()[0][0]:
        con.execute("DROP TABLE __guard")
        return None
    source = spark.handover(con)("__guard") if spark else "__guard"
    frame = linker._db_api.register(source, table_name="__jd_guard")
    scored = linker.inference.predict_within(frame, warning_mode="never")
    scored_name = scored.physical_name
    if spark:
        scored_name = "__guard_scored"
        spark.to_duckdb(con, scored, scored_name)
    rows = con.sql(
        f"""SELECT p.rid_l, p.rid_r FROM {scored_name} p
        JOIN __guard a ON a.rid = p.rid_l JOIN __guard b ON b.rid = p.rid_r
        WHERE a.__resident <> b.__resident AND {cannot_link_sql(threshold)}"""
    ).to_arrow_table()
    scored.drop_table_from_database_and_remove_from_cache()
    if spark:
        con.execute(f"DROP TABLE {scored_name}")
    con.execute("DROP TABLE __guard")
    return _ints(rows.column(0)), _ints(rows.column(1))


def _ints(column: pa.ChunkedArray) -> Any:
    return column.to_numpy().astype(np.int64)


def _pairs_sql(con: duckdb.DuckDBPyConnection, parent_pairs: str, review_low: float) -> str:
    """The whole pairs of the run: the parent's between records still kept unchanged, plus
    the new ones (when the update writes whole snapshots, see :mod:`.chain`)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __gone_keys AS
        SELECT record_key FROM __tombstones WHERE pairs"""
    )
    # the parent's pairs first (part 0, by record keys), the new ones follow (part 1)
    return f"""
        SELECT p.*, 0 AS __part,
               row_number() OVER (ORDER BY p.record_key_l, p.record_key_r) AS __pos_l,
               0 AS __pos_r
        FROM {parent_pairs} p
        ANTI JOIN __gone_keys g1 ON g1.record_key = p.record_key_l
        ANTI JOIN __gone_keys g2 ON g2.record_key = p.record_key_r
        UNION ALL BY NAME
        {new_pairs_sql(con, "__new_pairs", review_low)}
    """


def _delta_layer(
    con: duckdb.DuckDBPyConnection,
    parent_pairs: str,
    parent: Any,
    review_low: float,
    kept: int,
) -> DeltaLayer:
    """What an update writes on top of its parent's snapshots (see :mod:`.chain`): the
    records it added or rewrote, its tombstones, and the run's pair counts (the parent's,
    less the pairs of tombstoned records, plus the new ones)."""
    threshold = float(parent.threshold)
    gone, gone_review = con.execute(
        f"""WITH g AS (SELECT record_key FROM __tombstones WHERE pairs)
        SELECT count(*), count(*) FILTER (match_probability < {threshold})
        FROM {parent_pairs} p
        WHERE p.record_key_l IN (SELECT record_key FROM g)
           OR p.record_key_r IN (SELECT record_key FROM g)"""
    ).fetchall()[0]
    new, new_review = con.execute(
        f"""SELECT count(*), count(*) FILTER (match_probability < {threshold})
        FROM __new_pairs WHERE match_probability >= {float(review_low)}"""
    ).fetchall()[0]
    parent_review = int(parent.details.get("pairs_in_review_band") or 0)
    return DeltaLayer(
        records_sql=f"""SELECT * EXCLUDE (rid) FROM linkage_records
            WHERE rid >= {kept} OR record_key IN (
                SELECT record_key FROM __tombstones WHERE NOT pairs)
            ORDER BY rid""",
        tombstones_sql="SELECT record_key, pairs FROM __tombstones ORDER BY record_key",
        pairs=int(parent.pairs) - int(gone) + int(new),
        review=parent_review - int(gone_review) + int(new_review),
    )
