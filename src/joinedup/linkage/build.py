"""The full build of the resident index: assemble, prepare, train, predict, cluster, store.

Outputs, each recorded in the catalogue as one ``linkage_run`` row:

* the model, ``<home>/linkage/models/<n>.json`` (Splink settings with trained parameters and
  joinedup's training record: data versions, counts, timings, parameters);
* the **index** snapshot: one row per linked record (``record_key``, organisation, dataset,
  version, source record id, ``resident_id``, ``household_id``, rows it stands for);
* the **pairs** snapshot: every scored pair at or above the review band's lower bound, with
  each comparison's level (``gamma_``) and match weight (``mw_``) — the evidence for review
  and explanation pages — and no personal values.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageRun
from joinedup.config import Settings
from joinedup.linkage import model as m
from joinedup.linkage.cluster import cluster_predictions, households
from joinedup.linkage.inputs import assemble_records
from joinedup.linkage.names import register_variants
from joinedup.linkage.prepare import prepare_sql
from joinedup.linkage.review import forced_pairs
from joinedup.store import SnapshotStore, duckdb_session

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class BuildOptions:
    """How to build: the clustering threshold, the review band and training parameters."""

    threshold: float = 0.9
    review_low: float = 0.5
    training: m.TrainingOptions = field(default_factory=m.TrainingOptions)
    today: date | None = None
    #: The organisation the linkage service acts for (default: the hub organisation).
    organisation: str | None = None


def models_dir(settings: Settings) -> Path:
    return settings.home / "linkage" / "models"


def latest_run(settings: Settings) -> LinkageRun | None:
    with session_scope(settings) as session:
        run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc()).limit(1)).first()
        if run is not None:
            session.expunge(run)
        return run


def _next_model_version(settings: Settings) -> int:
    with session_scope(settings) as session:
        recorded = session.scalar(select(func.max(LinkageRun.model_version))) or 0
    on_disk = [int(p.stem) for p in models_dir(settings).glob("*.json") if p.stem.isdigit()]
    return max([recorded, *on_disk]) + 1


def resident_resolver(settings: Settings) -> Callable[[frozenset[str]], set[tuple[str, str, str]]]:
    """Objections by resident id → the records of those residents in the latest index."""

    def resolve(resident_ids: frozenset[str]) -> set[tuple[str, str, str]]:
        run = latest_run(settings)
        if run is None or not resident_ids:
            return set()
        source = SnapshotStore(settings).sql_source(run.index_sha256)
        with duckdb_session(settings) as con:
            con.register("__objectors", _ids_table(resident_ids))
            rows = con.execute(
                f"SELECT organisation, dataset, source_record_id FROM {source} "
                "WHERE resident_id IN (SELECT id FROM __objectors)"
            ).fetchall()
        return {(str(o), str(d), str(r)) for o, d, r in rows}

    return resolve


def _ids_table(ids: frozenset[str]) -> Any:
    import pyarrow as pa

    return pa.table({"id": pa.array(sorted(ids), pa.string())})


def pair_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The evidence columns of a predictions table (levels and weights, no personal values)."""
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    keep = ("match_weight", "match_probability")
    return [n for n in names if n in keep or n.startswith(("gamma_", "mw_", "tf_"))]


def train_and_score(
    con: duckdb.DuckDBPyConnection,
    table: str,
    options: m.TrainingOptions,
    progress: Progress,
    *,
    link_type: str = "dedupe_only",
    tables: list[str] | None = None,
    with_source: bool = True,
) -> tuple[m.LinkageModel, str, dict[str, float]]:
    """Train on prepared ``table`` (or ``tables`` for a link) and score every blocked pair
    into table ``linkage_pairs``. Returns the model, the pairs table and timings."""
    inputs = tables or [table]
    timings: dict[str, float] = {}
    start = time.perf_counter()
    sizes = [int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in inputs]
    if sum(sizes) < m.EM_SAMPLING_FROM:
        options = replace(options, em_max_pairs=None)  # small data: EM on every blocked pair
    if max(sizes) < m.MIN_TRAINING_RECORDS:
        progress(0.1, "Too few records to train: using the reference model")
        scoring, record = m.reference_settings(link_type, sizes, with_source=with_source)
    else:
        settings = m.with_identifier_u(
            m.settings_dict(link_type, with_source=with_source), m.identifier_u(con, inputs)
        )
        linker = m.make_linker(con, inputs, settings)
        record = m.train(linker, options, lambda f, msg: progress(0.2 * f, msg))
        household = m.household_u(con, inputs[0]) if len(inputs) == 1 else {}
        scoring, filled = m.trained_settings(linker, 1.0 / options.u_max_pairs, household)
        record["defaults"] = filled
        record["household_u"] = household
    timings["train"] = time.perf_counter() - start
    start = time.perf_counter()
    progress(0.2, "Scoring candidate pairs")
    scorer = m.make_linker(con, inputs, scoring)
    predictions = scorer.inference.predict(warning_mode="never")
    con.execute(
        f"CREATE OR REPLACE TABLE linkage_pairs AS SELECT * FROM {predictions.physical_name}"
    )
    predictions.drop_table_from_database_and_remove_from_cache()
    timings["predict"] = time.perf_counter() - start
    model = m.LinkageModel(settings=scoring, training=record)
    return model, "linkage_pairs", timings


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
    with duckdb_session(settings) as con:
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

        model, pairs, model_timings = train_and_score(
            con, "linkage_records", options.training, scaled
        )
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
        household_count = households(con, "linkage_records", "linkage_clusters")
        timings["cluster"] = time.perf_counter() - start
        report(0.9, "Writing the index")
        start = time.perf_counter()
        model.threshold = options.threshold
        model.review_band = (options.review_low, options.threshold)
        model.version = _next_model_version(settings)
        model.training.update(
            {
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
        summary = _store(settings, con, model, pairs, options, job_id, linkage_input)
        timings["store"] = time.perf_counter() - start
    timings["total"] = time.perf_counter() - started
    summary.update(
        {
            "links_refused_by_conflicts": clustered.links_refused,
            "review_decisions": {"match": len(forced.links), "non_match": len(forced.cannot)},
            "households": household_count,
            "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        }
    )
    report(1.0, "Resident index built")
    return summary


def _store(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    model: m.LinkageModel,
    pairs: str,
    options: BuildOptions,
    job_id: str | None,
    linkage_input: Any,
) -> dict[str, Any]:
    store = SnapshotStore(settings)
    index_sql = """
        SELECT r.record_key, r.organisation, r.dataset, r.version, r.source_record_id,
               c.resident_id, h.household_id, r.rows
        FROM linkage_records r
        JOIN linkage_clusters c USING (rid)
        JOIN linkage_households h USING (resident_id)
        ORDER BY r.record_key
    """
    evidence = ", ".join(f"p.{c}" for c in pair_columns(con, pairs))
    pairs_sql = f"""
        SELECT a.record_key AS record_key_l, b.record_key AS record_key_r, {evidence}
        FROM {pairs} p
        JOIN linkage_records a ON a.rid = p.rid_l
        JOIN linkage_records b ON b.rid = p.rid_r
        WHERE p.match_probability >= {float(options.review_low)}
        ORDER BY record_key_l, record_key_r
    """
    counts = con.execute(
        "SELECT count(*), count(DISTINCT resident_id) FROM linkage_clusters"
    ).fetchall()[0]
    n_pairs = con.execute(
        f"SELECT count(*) FROM {pairs} WHERE match_probability >= {float(options.review_low)}"
    ).fetchall()[0][0]
    households_n = con.execute(
        "SELECT count(DISTINCT household_id) FROM linkage_households"
    ).fetchall()[0][0]
    review = con.execute(
        f"SELECT count(*) FROM {pairs} WHERE match_probability >= {float(options.review_low)} "
        f"AND match_probability < {float(options.threshold)}"
    ).fetchall()[0][0]
    assert model.version is not None
    path = models_dir(settings) / f"{model.version}.json"
    try:
        run_id = _record(
            settings,
            con,
            store,
            model,
            path,
            index_sql,
            pairs_sql,
            options,
            job_id,
            linkage_input,
            counts,
            households_n,
            n_pairs,
            review,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return {
        "run": run_id,
        "model_version": model.version,
        "records": int(counts[0]),
        "residents": int(counts[1]),
        "pairs_scored_above_review": int(n_pairs),
        "pairs_for_review": int(review),
        "datasets_linked": len(linkage_input.versions),
        "datasets_refused": len(linkage_input.refused),
        "threshold": options.threshold,
        "training": asdict(options.training),
    }


def _record(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    store: SnapshotStore,
    model: m.LinkageModel,
    path: Path,
    index_sql: str,
    pairs_sql: str,
    options: BuildOptions,
    job_id: str | None,
    linkage_input: Any,
    counts: tuple[Any, ...],
    households_n: int,
    n_pairs: int,
    review: int,
) -> int:
    """Write both snapshots and the model, and commit the run row (all or nothing)."""
    with session_scope(settings) as session, store.writer(session) as writer:
        index = writer.write_query(con, index_sql)
        scored = writer.write_query(con, pairs_sql)
        model.save(path)
        run = LinkageRun(
            model_version=model.version,
            model_path=str(path.relative_to(settings.home)),
            job_id=job_id,
            threshold=options.threshold,
            records=int(counts[0]),
            residents=int(counts[1]),
            households=int(households_n),
            pairs=int(n_pairs),
            index_sha256=index.sha256,
            pairs_sha256=scored.sha256,
            inputs=linkage_input.versions,
            details={
                "refused": linkage_input.refused,
                "review_band": [options.review_low, options.threshold],
                "pairs_in_review_band": int(review),
                "training": {k: v for k, v in model.training.items() if k != "inputs"},
            },
        )
        session.add(run)
        session.flush()
        run_id = int(run.id)
        session.commit()
    return run_id
