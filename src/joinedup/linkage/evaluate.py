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
from joinedup.errors import InvalidInput, Missing
from joinedup.governance.processing import DatasetRef, ServiceActor, read_for_processing
from joinedup.linkage.inputs import PURPOSE, hub_organisation
from joinedup.store import SnapshotStore, duckdb_session

#: Fields that may hold the record id a source file's truth uses, by preference.
ID_CANDIDATES = ("source_record_id", "episode_ref", "referral_ref", "account_ref", "tenancy_ref")


@dataclass
class Pairwise:
    """Pairwise figures: pairs the truth holds, pairs predicted, and how many agree."""

    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float

    @staticmethod
    def of(true_pairs: int, predicted: int, correct: int) -> dict[str, Any]:
        """The six figures from the three counts (an empty side scores 1)."""
        precision = correct / predicted if predicted else 1.0
        recall = correct / true_pairs if true_pairs else 1.0
        return {
            "true_pairs": true_pairs,
            "predicted_pairs": predicted,
            "correct_pairs": correct,
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
        }


@dataclass
class Metrics(Pairwise):
    records: int
    persons: int
    clusters: int
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
        **Pairwise.of(int(true_pairs), int(predicted), int(correct)),
        records=records,
        persons=int(persons),
        clusters=int(clusters),
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
            raise Missing(f"{truth}: no truth records file")
        manifest = truth.parent.parent / "manifest.json"
        if not manifest.is_file():
            raise Missing(f"{manifest}: the region's manifest is not beside the truth")
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
            raise Missing("no resident index has been built yet: run `joinedup linkage build`")
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


# --- evaluation against any labelled file -------------------------------------------------
#
# Labels are a file (CSV or Parquet) with one row per record: an id (one column, or several
# that together make the key) and an entity (the true person). Linkage output is judged
# against them whatever produced it: the hub's index (``--run``), ``joinedup dedupe``'s
# ``record_id,cluster_id`` (``--clusters``) or ``joinedup match``'s
# ``left_id,right_id,match_probability`` (``--pairs``; with two labels files for a link of
# two files, or one for pairs within a file). Errors name the file, the row and the rule,
# never a value.

KEY_SEP = "\x1f"  # joins the columns of a composite key


class LabelError(InvalidInput):
    """A labels or linkage-output file cannot be evaluated (names file, row and rule)."""


@dataclass
class LinkMetrics(Pairwise):
    """Pairwise figures for a link of two files (pairs across them, no clusters)."""

    left_records: int
    right_records: int
    persons: int

    def summary(self) -> dict[str, Any]:
        return {
            "pairwise_precision": round(self.precision, 4),
            "pairwise_recall": round(self.recall, 4),
            "pairwise_f1": round(self.f1, 4),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), **self.summary()}


def _source(path: Path) -> str:
    """A DuckDB table expression reading ``path`` as text (CSV, TSV or Parquet)."""
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet('{_q(path)}')"
    return f"read_csv('{_q(path)}', all_varchar = true, header = true)"


def _load(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, columns: dict[str, list[str]]
) -> None:
    """Create table ``name`` from ``path`` with the wanted ``columns`` (output name -> input
    columns, several joined as one key) and ``_row``, the data row number (1 = first row
    after the header)."""
    try:
        present = [
            str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {_source(path)}").fetchall()
        ]
    except duckdb.Error as exc:
        raise LabelError(f"{path}: cannot be read as a table ({type(exc).__name__})") from None
    for wanted in columns.values():
        for column in wanted:
            if column not in present:
                raise LabelError(f"{path}: no column {column!r} (columns: {', '.join(present)})")

    def expr(cols: list[str]) -> str:
        parts = [f'CAST("{c.replace(chr(34), chr(34) * 2)}" AS VARCHAR)' for c in cols]
        if len(parts) == 1:
            return f"nullif(trim({parts[0]}), '')"
        return f"concat_ws('{KEY_SEP}', {', '.join(f'trim({p})' for p in parts)})"

    select = ", ".join(f"{expr(cols)} AS {out}" for out, cols in columns.items())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}, "
        f"row_number() OVER () AS _row FROM {_source(path)}"
    )


def _first_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, int] | None:
    """(count, first row) of the rows ``sql`` selects (it must select ``_row``), or None."""
    n, first = con.execute(f"SELECT count(*), min(_row) FROM ({sql})").fetchall()[0]
    return (int(n), int(first)) if n else None


def load_labels(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    id_columns: list[str],
    entity_column: str,
    name: str = "labels",
) -> int:
    """Read a labels file into table ``name(id, entity)``; refuse blank or repeated ids and
    blank entities. Returns the number of labelled records."""
    _load(con, path, name, {"id": id_columns, "entity": [entity_column]})
    blank = _first_row(con, f"SELECT _row FROM {name} WHERE id IS NULL OR id = ''")
    if blank:
        raise LabelError(f"{path}: {blank[0]} rows have no id (first at data row {blank[1]})")
    blank = _first_row(con, f"SELECT _row FROM {name} WHERE entity IS NULL")
    if blank:
        raise LabelError(
            f"{path}: {blank[0]} rows have no {entity_column!r} (first at data row {blank[1]})"
        )
    repeated = _first_row(
        con, f"SELECT _row FROM {name} QUALIFY count(*) OVER (PARTITION BY id) > 1"
    )
    if repeated:
        raise LabelError(
            f"{path}: {repeated[0]} rows repeat an id that must be unique "
            f"(first at data row {repeated[1]})"
        )
    return int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])


def _unlabelled(
    con: duckdb.DuckDBPyConnection, table: str, column: str, labels: str, path: Path, name: str
) -> None:
    missing = _first_row(
        con,
        f"SELECT t._row FROM {table} t ANTI JOIN {labels} l ON l.id = t.{column} "
        f"WHERE t.{column} IS NOT NULL",
    )
    if missing:
        raise LabelError(
            f"{path}: {missing[0]} ids in column {name!r} are not in the labels "
            f"(first at data row {missing[1]})"
        )


def evaluate_clusters(
    labels: Path,
    clusters: Path,
    *,
    id_columns: list[str],
    entity_column: str,
    record_column: str = "record_id",
    cluster_column: str = "cluster_id",
) -> Metrics:
    """A clustering (``joinedup dedupe``'s ``record_id,cluster_id``) against labels. Labelled
    records missing from the clustering count as clusters of their own."""
    with duckdb.connect() as con:
        load_labels(con, labels, id_columns, entity_column)
        _load(con, clusters, "clusters", {"rid": [record_column], "cid": [cluster_column]})
        blank = _first_row(con, "SELECT _row FROM clusters WHERE rid IS NULL OR cid IS NULL")
        if blank:
            raise LabelError(
                f"{clusters}: {blank[0]} rows have no record or cluster id "
                f"(first at data row {blank[1]})"
            )
        repeated = _first_row(
            con, "SELECT _row FROM clusters QUALIFY count(*) OVER (PARTITION BY rid) > 1"
        )
        if repeated:
            raise LabelError(
                f"{clusters}: {repeated[0]} rows repeat a record id "
                f"(first at data row {repeated[1]})"
            )
        _unlabelled(con, "clusters", "rid", "labels", clusters, record_column)
        con.execute(
            """CREATE TEMP TABLE assignments AS
            SELECT coalesce('c' || c.cid, 'r' || l.id) AS cluster, l.entity AS person
            FROM labels l LEFT JOIN clusters c ON c.rid = l.id"""
        )
        return metrics(con, "assignments")


def evaluate_pairs(
    labels: list[Path],
    pairs: Path,
    *,
    id_columns: list[str],
    entity_column: str,
    left_column: str = "left_id",
    right_column: str = "right_id",
    probability_column: str = "match_probability",
    threshold: float | None = None,
) -> Metrics | LinkMetrics:
    """Scored pairs (``joinedup match``'s ``left_id,right_id,match_probability``) against
    labels. With two labels files the pairs link the first file to the second (pairwise
    figures over left x right); with one they are pairs within that file, clustered by
    connected components (pairwise and B-cubed figures, as for ``evaluate_clusters``).
    ``threshold`` keeps pairs at or above that probability (default: every pair)."""
    if len(labels) not in (1, 2):
        raise LabelError("give one labels file (pairs within a file) or two (a link)")
    columns = {"l": [left_column], "r": [right_column]}
    if threshold is not None:
        columns["p"] = [probability_column]
    with duckdb.connect() as con:
        load_labels(con, labels[0], id_columns, entity_column, "labels_l")
        if len(labels) == 2:
            load_labels(con, labels[1], id_columns, entity_column, "labels_r")
        right_labels = "labels_r" if len(labels) == 2 else "labels_l"
        _load(con, pairs, "pairs_in", columns)
        blank = _first_row(con, "SELECT _row FROM pairs_in WHERE l IS NULL OR r IS NULL")
        if blank:
            raise LabelError(
                f"{pairs}: {blank[0]} rows lack a left or right id (first at data row {blank[1]})"
            )
        _unlabelled(con, "pairs_in", "l", "labels_l", pairs, left_column)
        _unlabelled(con, "pairs_in", "r", right_labels, pairs, right_column)
        keep = ""
        if threshold is not None:
            bad = _first_row(con, "SELECT _row FROM pairs_in WHERE TRY_CAST(p AS DOUBLE) IS NULL")
            if bad:
                raise LabelError(
                    f"{pairs}: {bad[0]} rows have no number in {probability_column!r} "
                    f"(first at data row {bad[1]})"
                )
            keep = f"WHERE CAST(p AS DOUBLE) >= {float(threshold)!r}"
        if len(labels) == 1:
            return _pairs_within(con, keep)
        con.execute(f"CREATE TEMP TABLE pairs AS SELECT DISTINCT l, r FROM pairs_in {keep}")
        row = con.execute(
            """SELECT (SELECT count(*) FROM labels_l), (SELECT count(*) FROM labels_r),
            (SELECT count(DISTINCT entity) FROM (SELECT entity FROM labels_l
                                                 UNION ALL SELECT entity FROM labels_r)),
            (SELECT coalesce(sum(a.n * b.n), 0) FROM
                (SELECT entity, count(*) AS n FROM labels_l GROUP BY entity) a
                JOIN (SELECT entity, count(*) AS n FROM labels_r GROUP BY entity) b
                USING (entity)),
            (SELECT count(*) FROM pairs),
            (SELECT count(*) FROM pairs p JOIN labels_l a ON a.id = p.l
                JOIN labels_r b ON b.id = p.r WHERE a.entity = b.entity)"""
        ).fetchall()[0]
    left_n, right_n, persons, true_pairs, predicted, correct = (int(v) for v in row)
    return LinkMetrics(
        **Pairwise.of(true_pairs, predicted, correct),
        left_records=left_n,
        right_records=right_n,
        persons=persons,
    )


def _pairs_within(con: duckdb.DuckDBPyConnection, keep: str) -> Metrics:
    """Pairs within one labelled file: clusters are their connected components."""
    import numpy as np

    from joinedup.linkage.cluster import connected_components

    con.execute(f"CREATE TEMP TABLE kept AS SELECT l, r FROM pairs_in {keep}")
    con.execute(
        """CREATE TEMP TABLE nodes AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
        FROM (SELECT l AS id FROM kept UNION SELECT r FROM kept)"""
    )
    edges = con.execute(
        "SELECT a.n AS a, b.n AS b FROM kept p "
        "JOIN nodes a ON a.id = p.l JOIN nodes b ON b.id = p.r"
    ).fetchnumpy()
    count = int(con.execute("SELECT count(*) FROM nodes").fetchall()[0][0])
    labels = connected_components(
        count, np.asarray(edges["a"], dtype=np.int64), np.asarray(edges["b"], dtype=np.int64)
    )
    con.register("components", pa.table({"n": np.arange(count), "c": labels}))
    con.execute(
        """CREATE TEMP TABLE assignments AS
        SELECT coalesce('c' || c.c, 'r' || l.id) AS cluster, l.entity AS person
        FROM labels_l l LEFT JOIN nodes d ON d.id = l.id LEFT JOIN components c ON c.n = d.n"""
    )
    return metrics(con, "assignments")


def evaluate_run_labels(
    settings: Settings,
    labels: Path,
    *,
    id_columns: list[str],
    entity_column: str,
    run_id: int | None = None,
) -> Metrics:
    """The hub's index (the latest run by default) against a labels file keyed by the
    index's ``record_key`` (one id column) or by organisation, dataset and source record id
    (three id columns, in that order). Labelled records the index does not hold count as
    residents of their own; index records without a label are left out."""
    if len(id_columns) not in (1, 3):
        raise LabelError(
            "label the hub's records by record_key (one id column) or by organisation, "
            "dataset and source_record_id (three id columns)"
        )
    run = _run(settings, run_id)
    store = SnapshotStore(settings)
    key = (
        "CAST(i.record_key AS VARCHAR)"
        if len(id_columns) == 1
        else f"concat_ws('{KEY_SEP}', i.organisation, i.dataset, "
        "CAST(i.source_record_id AS VARCHAR))"
    )
    with duckdb.connect() as con:
        load_labels(con, labels, id_columns, entity_column)
        con.execute(
            f"""CREATE TEMP TABLE idx AS SELECT {key} AS id, i.resident_id AS cluster
            FROM {store.sql_source(run.index_sha256)} i"""
        )
        matched = con.execute("SELECT count(*) FROM labels SEMI JOIN idx USING (id)").fetchall()
        if not matched[0][0]:
            raise LabelError(
                f"{labels}: no labelled record is in linkage run {run.id}'s index "
                f"(keyed by {', '.join(id_columns)})"
            )
        con.execute(
            """CREATE TEMP TABLE assignments AS
            SELECT coalesce(CAST(i.cluster AS VARCHAR), 'r' || l.id) AS cluster,
                   l.entity AS person
            FROM labels l LEFT JOIN idx i USING (id)"""
        )
        return metrics(con, "assignments")
