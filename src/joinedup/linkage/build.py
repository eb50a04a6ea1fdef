"""The full build of the resident index: assemble, prepare, train, predict, cluster, store.

Outputs, each recorded in the catalogue as one ``linkage_run`` row:

* the model, ``<home>/linkage/models/<n>.json`` (Splink settings with trained parameters and
  joinedup's training record: data versions, counts, timings, parameters);
* the **index** snapshot: one row per linked record (``record_key``, organisation, dataset,
  version, source record id, ``resident_id``, ``household_id``, rows it stands for);
* the **pairs** snapshot: every scored pair at or above the review band's lower bound, with
  each comparison's level (``gamma_``) and match weight (``mw_``) — the evidence for review
  and explanation pages — and no personal values;
* the **records** snapshot: the prepared records, which the next incremental run
  (``linkage/update.py``) scores new and changed records against.

With ``JOINEDUP_ENGINE=spark`` training and scoring run on Spark
(:mod:`joinedup.linkage.on_spark`, ADR 0038); reading, preparing, clustering and storing do
not change.

When an earlier index exists, resident ids follow it (``linkage/ids.py``) and the run
records how they moved (merges, splits, retirements) with their evidence.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from joinedup.config import Settings
from joinedup.linkage import model as m
from joinedup.linkage.cluster import cluster_predictions, households
from joinedup.linkage.ids import stabilise_ids
from joinedup.linkage.inputs import assemble_records
from joinedup.linkage.names import register_variants
from joinedup.linkage.on_spark import SparkLinkage
from joinedup.linkage.prepare import prepare_sql
from joinedup.linkage.review import forced_pairs
from joinedup.linkage.runs import (
    RunSpec,
    attr_hash_sql,
    latest_run,
    new_pairs_sql,
    next_model_version,
    reserved_ids,
    resident_resolver,
    store_run,
)
from joinedup.store import SnapshotStore, duckdb_session

Progress = Callable[[float, str], None]

#: DuckDB's memory limit for the build (unless ``JOINEDUP_DUCKDB_MEMORY`` sets one). DuckDB's
#: limit bounds its buffers, not the process: at a million records the build peaked at 4.5 GB
#: with the default 4 GB limit; below it, DuckDB spills to the home's tmp folder.
BUILD_MEMORY_LIMIT = "3GB"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: the clustering threshold, the review band and training parameters."""

    threshold: float = 0.9
    review_low: float = 0.5
    training: m.TrainingOptions = field(default_factory=m.TrainingOptions)
    today: date | None = None
    #: The organisation the linkage service acts for (default: the hub organisation).
    organisation: str | None = None


def build_index(
    settings: Settings,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    """Build the resident index from every person record the linkage purpose allows."""
    options = options or BuildOptions()
    report = progress or (lambda f, msg: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    memory = None if os.environ.get("JOINEDUP_DUCKDB_MEMORY") else BUILD_MEMORY_LIMIT
    with duckdb_session(settings, memory_limit=memory) as con:
        report(0.02, "Reading person records (governed)")
        start = time.perf_counter()
        linkage_input = assemble_records(
            settings,
            con,
            job_id=job_id,
            resolve_residents=resident_resolver(settings),
            today=options.today,
            organisation=options.organisation,
        )
        if linkage_input.records < 2:
            raise ValueError("fewer than two person records are available to link")
        register_variants(con)
        columns = [r[0] for r in con.execute(f"DESCRIBE {linkage_input.table}").fetchall()]
        con.execute(
            "CREATE OR REPLACE TABLE linkage_records AS "
            + prepare_sql(
                linkage_input.table,
                columns,
                ("version", "source_record_id", "household_ref", "rows"),
            )
        )
        con.execute(f"DROP TABLE {linkage_input.table}")
        timings["read_and_prepare"] = time.perf_counter() - start

        def scaled(f: float, msg: str) -> None:
            report(0.1 + 3 * f, msg)  # training reports 0-0.2: the build's 0.1-0.7

        spark = SparkLinkage.open(settings) if settings.engine == "spark" else None
        try:
            model, pairs, model_timings = m.train_and_score(
                con, "linkage_records", options.training, scaled, spark=spark
            )
        finally:
            if spark:
                spark.close()
        timings.update(model_timings)
        report(0.75, "Clustering residents and households")
        start = time.perf_counter()
        forced = forced_pairs(settings)  # reviewers' decisions override the model
        clustered = cluster_predictions(
            con,
            "linkage_records",
            pairs,
            options.threshold,
            forced_links=forced.links,
            forced_cannot=forced.cannot,
        )
        previous = latest_run(settings)
        earlier = SnapshotStore(settings).sql_source(previous.index_sha256) if previous else None
        id_report = stabilise_ids(
            con,
            "linkage_clusters",
            earlier,
            pairs,
            options.threshold,
            reserved_ids(settings, con, earlier),
        )
        household_count = households(con, "linkage_records", "linkage_clusters")
        timings["cluster"] = time.perf_counter() - start
        report(0.9, "Writing the index")
        start = time.perf_counter()
        model.threshold = options.threshold
        model.review_band = (options.review_low, options.threshold)
        model.version = next_model_version(settings)
        model.training.update(
            {
                "engine": settings.engine,
                "records": linkage_input.records,
                "rows": linkage_input.rows,
                "inputs": linkage_input.versions,
                "refused": linkage_input.refused,
                "timings_seconds": {
                    **model.training.get("timings_seconds", {}),
                    **{k: round(v, 3) for k, v in timings.items()},
                },
            }
        )
        con.execute("ALTER TABLE linkage_records ADD COLUMN attr_hash VARCHAR")
        con.execute(f"UPDATE linkage_records SET attr_hash = {attr_hash_sql()}")
        spec = RunSpec(
            kind="full",
            model=model,
            threshold=options.threshold,
            review_low=options.review_low,
            job_id=job_id,
            inputs=linkage_input.versions,
            refused=linkage_input.refused,
            ids=id_report,
            parent_run_id=previous.id if previous else None,
            details={"training": {k: v for k, v in model.training.items() if k != "inputs"}},
        )
        summary = store_run(settings, con, spec, new_pairs_sql(con, pairs, options.review_low))
        summary["training"] = asdict(options.training)
        timings["store"] = time.perf_counter() - start
    timings["total"] = time.perf_counter() - started
    summary.update(
        {
            "links_refused_by_conflicts": clustered.links_refused,
            "review_decisions": {"match": len(forced.links), "non_match": len(forced.cannot)},
            "households": household_count,
            "candidate_pairs": model.training.get("candidate_pairs"),
            "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        }
    )
    report(1.0, "Resident index built")
    return summary
