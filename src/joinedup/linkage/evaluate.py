"""Evaluation of a resident index against ground truth.

Metrics (over the records that have a truth person):

* **pairwise** precision, recall and F1: over all pairs of records, "same cluster" against
  "same person";
* **B-cubed** precision, recall and F1: per record, the share of its cluster that is its
  person and the share of its person that is in its cluster, averaged;
* **exact clusters**: the share of true persons whose records form exactly one cluster and
  nothing else;
* **hard negatives**: pairs of different people that are easy to merge (twins, a junior and
  senior); a pair is *falsely merged* when any cluster holds records of both.

The synthetic region's truth works out of the box: ``truth/records.parquet`` maps each source
file's record ids to a person, and ``manifest.json`` beside the truth folder names each
file's organisation and dataset. A dataset version is matched to its file by organisation,
dataset and file name, and the column holding the truth's record id is found by trying the
candidates (``source_record_id`` and the standards' own references).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, LinkageRun, Organisation
from joinedup.config import Settings
from joinedup.governance.processing import DatasetRef, ServiceActor, read_for_processing
from joinedup.linkage.inputs import PURPOSE, hub_organisation
from joinedup.store import SnapshotStore, duckdb_session

#: Fields that may hold the record id a source file's truth uses, by preference.
ID_CANDIDATES = ("source_record_id", "episode_ref", "referral_ref", "account_ref", "tenancy_ref")


@dataclass
class Metrics:
    records: int
    persons: int
    clusters: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    exact_clusters: float
    hard_negatives: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def hard_negative_pairs(self) -> int:
        return sum(v["pairs"] for v in self.hard_negatives.values())

    @property
    def hard_negative_merged(self) -> int:
        return sum(v["merged"] for v in self.hard_negatives.values())

    @property
    def hard_negative_rate(self) -> float:
        pairs = self.hard_negative_pairs
        return self.hard_negative_merged / pairs if pairs else 0.0

    def summary(self) -> dict[str, Any]:
        """Flat figures (for job results and the demo's table)."""
        return {
            "pairwise_precision": round(self.precision, 4),
            "pairwise_recall": round(self.recall, 4),
            "pairwise_f1": round(self.f1, 4),
            "bcubed_f1": round(self.bcubed_f1, 4),
            "exact_clusters": round(self.exact_clusters, 4),
            "twin_junior_senior_pairs": self.hard_negative_pairs,
            "twin_junior_senior_false_merges": self.hard_negative_merged,
            "twin_junior_senior_false_merge_rate": round(self.hard_negative_rate, 4),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), **self.summary()}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def metrics(
    con: duckdb.DuckDBPyConnection, assignments: str, hard_pairs: str | None = None
) -> Metrics:
    """Metrics from table ``assignments(cluster, person)`` (one row per record) and optional
    ``hard_pairs(person_a, person_b, kind)``."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __j AS
        SELECT CAST(cluster AS VARCHAR) AS c, CAST(person AS VARCHAR) AS p
        FROM {assignments} WHERE person IS NOT NULL"""
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __cp AS SELECT c, p, count(*) AS n FROM __j GROUP BY ALL"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE __cs AS SELECT c, sum(n) AS n FROM __cp GROUP BY c")
    con.execute("CREATE OR REPLACE TEMP TABLE __ps AS SELECT p, sum(n) AS n FROM __cp GROUP BY p")
    row = con.execute(
        """
        SELECT (SELECT coalesce(sum(n), 0) FROM __cs), (SELECT count(*) FROM __ps),
               (SELECT count(*) FROM __cs),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM __ps),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM __cs),
               (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM __cp),
               (SELECT coalesce(sum(cp.n * cp.n / cs.n), 0)
                FROM __cp cp JOIN __cs cs ON cs.c = cp.c),
               (SELECT coalesce(sum(cp.n * cp.n / ps.n), 0)
                FROM __cp cp JOIN __ps ps ON ps.p = cp.p),
               (SELECT count(*) FROM __cp cp JOIN __cs cs ON cs.c = cp.c
                JOIN __ps ps ON ps.p = cp.p WHERE cp.n = cs.n AND cp.n = ps.n)
        """
    ).fetchall()[0]
    records, persons, clusters, true_pairs, predicted, correct, bp, br, exact = row
    records = int(records)
    precision = float(correct) / float(predicted) if predicted else 1.0
    recall = float(correct) / float(true_pairs) if true_pairs else 1.0
    b_precision = float(bp) / records if records else 1.0
    b_recall = float(br) / records if records else 1.0
    hard: dict[str, dict[str, int]] = {}
    if hard_pairs is not None:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE __hard AS
            SELECT DISTINCT h.kind, CAST(h.person_a AS VARCHAR) AS a,
                   CAST(h.person_b AS VARCHAR) AS b
            FROM {hard_pairs} h
            SEMI JOIN __ps x ON x.p = CAST(h.person_a AS VARCHAR)
            SEMI JOIN __ps y ON y.p = CAST(h.person_b AS VARCHAR)"""
        )
        for kind, pairs, merged in con.execute(
            """
            WITH merged AS (
                SELECT DISTINCT h.kind, h.a, h.b FROM __hard h
                JOIN __cp x ON x.p = h.a JOIN __cp y ON y.p = h.b AND y.c = x.c
            )
            SELECT h.kind, count(*), any_value(coalesce(m.n, 0))
            FROM __hard h
            LEFT JOIN (SELECT kind, count(*) AS n FROM merged GROUP BY kind) m USING (kind)
            GROUP BY h.kind ORDER BY h.kind
            """
        ).fetchall():
            hard[str(kind)] = {"pairs": int(pairs), "merged": int(merged)}
    for table in ("__j", "__cp", "__cs", "__ps", "__hard"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return Metrics(
        records=records,
        persons=int(persons),
        clusters=int(clusters),
        true_pairs=int(true_pairs),
        predicted_pairs=int(predicted),
        correct_pairs=int(correct),
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=_f1(b_precision, b_recall),
        exact_clusters=float(exact or 0) / float(persons) if persons else 1.0,
        hard_negatives=hard,
    )


@dataclass
class TruthFiles:
    records: Path
    manifest: Path
    pairs: Path | None

    @classmethod
    def locate(cls, truth: Path) -> TruthFiles:
        """From ``truth/records.parquet`` (or the truth folder, or the region folder)."""
        truth = Path(truth)
        if truth.is_dir():
            truth = (
                truth / "records.parquet"
                if (truth / "records.parquet").exists()
                else (truth / "truth" / "records.parquet")
            )
        if not truth.is_file():
            raise FileNotFoundError(f"{truth}: no truth records file")
        manifest = truth.parent.parent / "manifest.json"
        if not manifest.is_file():
            raise FileNotFoundError(f"{manifest}: the region's manifest is not beside the truth")
        pairs = truth.parent / "pairs.parquet"
        return cls(truth, manifest, pairs if pairs.is_file() else None)


def _run(settings: Settings, run_id: int | None) -> LinkageRun:
    with session_scope(settings) as session:
        query = select(LinkageRun)
        query = (
            query.where(LinkageRun.id == run_id)
            if run_id is not None
            else query.order_by(LinkageRun.id.desc()).limit(1)
        )
        run = session.scalars(query).first()
        if run is None:
            raise LookupError("no resident index has been built yet: run `joinedup linkage build`")
        session.expunge(run)
        return run


def _file_names(settings: Settings, run: LinkageRun) -> dict[tuple[str, str, int], str]:
    out: dict[tuple[str, str, int], str] = {}
    with session_scope(settings) as session:
        for item in run.inputs:
            name = session.scalars(
                select(DatasetVersion.source_filename)
                .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                .join(Organisation, Organisation.id == Dataset.organisation_id)
                .where(
                    Organisation.code == item["organisation"],
                    Dataset.name == item["dataset"],
                    DatasetVersion.version == item["version"],
                )
            ).first()
            if name:
                out[(item["organisation"], item["dataset"], int(item["version"]))] = name
    return out


def evaluate_run(
    settings: Settings, truth: Path, run_id: int | None = None, organisation: str | None = None
) -> Metrics:
    """Evaluate a linkage run (the latest by default) against a synthetic region's truth.

    The record ids are read through the governance gateway (purpose ``linkage``, audited).
    """
    files = TruthFiles.locate(truth)
    run = _run(settings, run_id)
    manifest = json.loads(files.manifest.read_text(encoding="utf-8"))
    by_name = {
        (f["organisation"], f["dataset"], Path(f["path"]).name): f["path"]
        for f in manifest["files"]
    }
    names = _file_names(settings, run)
    refs = [DatasetRef(o, d, v) for (o, d, v) in names]
    actor = ServiceActor(
        organisation=organisation or hub_organisation(settings), purpose=PURPOSE, name="evaluate"
    )

    def candidates(standard: str) -> list[str]:
        from joinedup.standards import field_names

        present = set(field_names(standard))
        return [c for c in ID_CANDIDATES if c in present]

    read = read_for_processing(settings, actor, refs, candidates)
    store = SnapshotStore(settings)
    with duckdb_session(settings) as con:
        con.execute(
            f"CREATE TABLE truth AS SELECT file, record_id, person_id FROM "
            f"read_parquet('{_q(files.records)}')"
        )
        if files.pairs is not None:
            con.execute(f"CREATE TABLE hard AS SELECT * FROM read_parquet('{_q(files.pairs)}')")
        table = read.table
        file_col = [
            by_name.get((o, d, names.get((o, d, int(v)), "")))
            for o, d, v in zip(
                table.column("_organisation").to_pylist(),
                table.column("_dataset").to_pylist(),
                table.column("_version").to_pylist(),
                strict=True,
            )
        ]
        con.register("rows_read", table.append_column("_file", pa.array(file_col, pa.string())))
        present = [c for c in ID_CANDIDATES if c in table.column_names]
        # per file, the candidate column that joins most rows to the truth
        scores = " UNION ALL ".join(
            f"SELECT r._file, '{c}' AS col, count(t.record_id) AS n FROM rows_read r "
            f"LEFT JOIN truth t ON t.file = r._file AND t.record_id = r.{c} GROUP BY ALL"
            for c in present
        )
        con.execute(
            f"CREATE TABLE best AS SELECT _file, col FROM ({scores}) "
            "QUALIFY row_number() OVER (PARTITION BY _file ORDER BY n DESC, col) = 1"
        )
        picks = " UNION ALL ".join(
            f"SELECT r._organisation, r._dataset, r.source_record_id, t.person_id "
            f"FROM rows_read r JOIN best b ON b._file = r._file AND b.col = '{c}' "
            f"JOIN truth t ON t.file = r._file AND t.record_id = r.{c}"
            for c in present
        )
        con.execute(
            f"CREATE TABLE person_of AS SELECT _organisation AS organisation, _dataset AS dataset, "
            f"source_record_id, min(person_id) AS person FROM ({picks}) GROUP BY ALL"
        )
        con.execute(
            f"""CREATE TABLE assignments AS
            SELECT i.resident_id AS cluster, p.person
            FROM {store.sql_source(run.index_sha256)} i
            LEFT JOIN person_of p USING (organisation, dataset, source_record_id)"""
        )
        return metrics(con, "assignments", "hard" if files.pairs is not None else None)


def _q(path: Path) -> str:
    return str(path).replace("'", "''")
