"""Why a standalone dedupe misses what it misses (issue 14): the suite's labelled input, run
in one process with the scored pairs kept, then read against the labels.

    .venv/bin/python benchmarks/linkage_misses.py WORK [--threshold 0.9] [--classes 20]

``--threshold`` is the dedupe's (it links at :func:`joinedup.linkage.cluster.link_threshold`).

``WORK`` is a dedupe folder of ``benchmarks/linkage.py suite`` (``input.csv``,
``labels_input.csv``, ``meta.json``: e.g. ``OUT/suite/region-names/dedupe`` or
``OUT/suite/febrl3``). It prints:

1. **where the missed true pairs are**: never scored (blocking), by score band, or scored at
   or above the threshold and split by a cannot-link (clustering); and the false pairs;
2. **classes**: the pairs grouped by the comparison levels they fell into, with the true
   pairs the model leaves below the threshold, the false pairs it puts above it, and the
   matches the model expects in the class (the sum of its probabilities) against the true
   count (a class whose expected count is far from the true one is mis-weighted);
3. **m as trained against m among the true pairs**, per level (EM learns m only from the
   pairs its sessions block; a level whose true pairs those blocks leave out is mis-learned);
4. **a supervised bound**: gradient-boosted trees given the labels and the same comparison
   vectors (levels and term-frequency adjustments), cross-fitted on two halves of the
   entities, clustered the same way. Where even that does not reach a target, the
   comparisons do not hold the evidence: no weight, threshold or clustering rule will.

For analysis only: it reads the labels, which the model never sees.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from joinedup.linkage import standalone
from joinedup.linkage.cluster import (
    cannot_link_sql,
    cluster_records,
    has_households,
    link_threshold,
)
from joinedup.linkage.comparisons import HOUSEHOLD_LABEL
from linkage import _maps  # the suite's own column mapping


def pairwise(labels: np.ndarray, entity: np.ndarray) -> tuple[float, float, float]:
    def pairs(keys: list[Any]) -> int:
        return sum(v * (v - 1) // 2 for v in Counter(keys).values())

    tp = pairs(list(zip(labels.tolist(), entity.tolist(), strict=True)))
    pred, true = pairs(labels.tolist()), pairs(entity.tolist())
    p, r = tp / max(pred, 1), tp / max(true, 1)
    return round(p, 4), round(r, 4), round(2 * p * r / max(p + r, 1e-12), 4)


class Run:
    """One dedupe of ``work`` with its scored pairs (``p``: ``l < r``) and labels (``rl``)."""

    def __init__(self, work: Path) -> None:
        meta = json.loads((work / "meta.json").read_text())
        maps = [v for i, v in enumerate(_maps(meta, "--map")) if i % 2 == 1]
        self.con = con = duckdb.connect(":memory:", config={"preserve_insertion_order": True})
        result = standalone.dedupe(
            work / "input.csv", work / "misses-clusters.csv", id_column="id", maps=maps, con=con
        )
        self.settings = result.model.settings
        self.households = has_households(self.settings)
        con.execute(
            f"""CREATE TABLE rl AS SELECT r.rid, l.entity FROM records r
            JOIN read_csv('{work / "labels_input.csv"}', all_varchar = true) l
            ON l.id = r.record_key ORDER BY r.rid"""
        )
        con.execute(
            """CREATE TABLE p AS SELECT least(rid_l, rid_r) AS l, greatest(rid_l, rid_r) AS r,
            * EXCLUDE (rid_l, rid_r) FROM linkage_pairs"""
        )
        self.cols = {r[0] for r in con.execute("DESCRIBE p").fetchall()}
        self.n = int(con.execute("SELECT count(*) FROM rl").fetchall()[0][0])
        entity = [r[0] for r in con.execute("SELECT entity FROM rl ORDER BY rid").fetchall()]
        self.entity = np.unique(np.array(entity), return_inverse=True)[1]
        self.labels_of_level = {}
        for c in self.settings["comparisons"]:
            levels = [lv for lv in c["comparison_levels"] if not lv.get("is_null_level")]
            self.labels_of_level[c["output_column_name"]] = {
                len(levels) - 1 - i: lv["label_for_charts"] for i, lv in enumerate(levels)
            }

    def cluster(self, threshold: float, probability: str = "match_probability") -> np.ndarray:
        links = self.con.execute(
            f"SELECT l, r, {probability} AS p FROM p WHERE {probability} >= {threshold}"
        ).fetchnumpy()
        refused = cannot_link_sql(
            threshold, with_source=False, conflicts=self.households, present=self.cols
        ).replace("match_probability", probability)
        cannot = self.con.execute(f"SELECT l, r FROM p WHERE {refused}").fetchnumpy()
        result = cluster_records(
            self.n,
            (links["l"].astype(np.int64), links["r"].astype(np.int64), links["p"].astype(float)),
            (cannot["l"].astype(np.int64), cannot["r"].astype(np.int64)),
        )
        return result.labels

    def class_key(self, row: tuple[Any, ...], gammas: list[str]) -> str:
        parts = []
        for column, value in zip(gammas, row, strict=True):
            if value is None or int(value) == -1:
                continue
            name = column.removeprefix("gamma_")
            parts.append(f"{name}: {self.labels_of_level[name][int(value)][:30]}")
        return " | ".join(parts)


def bands(run: Run, threshold: float) -> None:
    labels = run.cluster(threshold)
    run.con.register("lab", {"rid": np.arange(run.n), "label": labels})
    run.con.execute(
        """CREATE OR REPLACE TABLE tp AS SELECT a.rid AS l, b.rid AS r, x.label = y.label AS linked
        FROM rl a JOIN rl b ON a.entity = b.entity AND a.rid < b.rid
        JOIN lab x ON x.rid = a.rid JOIN lab y ON y.rid = b.rid"""
    )
    print("pairwise P, R, F1:", pairwise(labels, run.entity))
    missed = run.con.execute(
        f"""SELECT CASE WHEN p.l IS NULL THEN 'never scored (blocking)'
            WHEN match_probability < 0.01 THEN 'below 0.01'
            WHEN match_probability < 0.5 THEN '0.01-0.5'
            WHEN match_probability < {threshold} THEN '0.5-threshold'
            ELSE 'at or above the threshold, split (clustering)' END, count(*)
        FROM tp LEFT JOIN p USING (l, r) WHERE NOT linked GROUP BY 1 ORDER BY 2 DESC"""
    ).fetchall()
    print("missed true pairs:", missed)
    false = run.con.execute(
        f"""SELECT CASE WHEN p.l IS NULL THEN 'not scored (joined through others)'
            WHEN match_probability < {threshold} THEN 'below the threshold (joined through others)'
            ELSE 'at or above the threshold' END, count(*)
        FROM rl a JOIN rl b ON a.rid < b.rid AND a.entity <> b.entity
        JOIN lab x ON x.rid = a.rid JOIN lab y ON y.rid = b.rid AND x.label = y.label
        LEFT JOIN p ON p.l = a.rid AND p.r = b.rid GROUP BY 1 ORDER BY 2 DESC"""
    ).fetchall()
    print("false pairs:", false)


def classes(run: Run, threshold: float, top: int) -> None:
    gammas = sorted(c for c in run.cols if c.startswith("gamma_"))
    rows = run.con.execute(
        f"""SELECT {", ".join(gammas)}, count(*), sum((a.entity = b.entity)::INT),
            sum(match_probability),
            sum((a.entity = b.entity AND match_probability < {threshold})::INT),
            sum((a.entity <> b.entity AND match_probability >= {threshold})::INT)
        FROM p JOIN rl a ON a.rid = p.l JOIN rl b ON b.rid = p.r GROUP BY ALL"""
    ).fetchall()
    k = len(gammas)
    table = [
        (r[k + 3], r[k + 4], r[k], r[k + 1], r[k + 2], run.class_key(r[:k], gammas)) for r in rows
    ]
    for title, key in (("true pairs below the threshold", 0), ("false pairs above it", 1)):
        print(f"\nclasses by {title}: below / above / pairs / true / expected by the model")
        for row in sorted(table, key=lambda t: -t[key])[:top]:
            if row[key]:
                print(f"{row[0]:5d} {row[1]:5d} {row[2]:6d} {row[3]:6d} {row[4]:8.1f}  {row[5]}")


def m_check(run: Run) -> None:
    print("\nm as trained against m among the true scored pairs (2x or more apart, 5+ pairs)")
    run.con.execute(
        "CREATE OR REPLACE TABLE tpp AS SELECT p.* FROM p JOIN rl a ON a.rid = p.l "
        "JOIN rl b ON b.rid = p.r WHERE a.entity = b.entity"
    )
    for c in run.settings["comparisons"]:
        name = c["output_column_name"]
        if f"gamma_{name}" not in run.cols:
            continue
        counts = dict(
            run.con.execute(
                f"SELECT gamma_{name}, count(*) FROM tpp WHERE gamma_{name} <> -1 GROUP BY 1"
            ).fetchall()
        )
        total = sum(counts.values())
        levels = run.labels_of_level[name]
        household = next((g for g, label in levels.items() if label == HOUSEHOLD_LABEL), None)
        if household is not None:  # the household level shares the m of "exact"
            exact = next(g for g, label in levels.items() if label == "exact")
            counts[exact] = counts.get(exact, 0) + counts.pop(household, 0)
        for gamma, label in levels.items():
            level = next(lv for lv in c["comparison_levels"] if lv["label_for_charts"] == label)
            m, seen = level.get("m_probability"), counts.get(gamma, 0)
            if m is None or level.get("fix_m_probability") or not total or seen < 5:
                continue
            true = seen / total
            if abs(math.log2(true / max(m, 1e-9))) >= 1:
                print(f"  {name}: {label[:40]}: trained {m:.4f}, true {true:.4f} ({seen} pairs)")


def supervised_bound(run: Run, thresholds: tuple[float, ...]) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    features = sorted(c for c in run.cols if c.startswith(("gamma_", "mw_tf_adj_")))
    data = run.con.execute(
        f"""SELECT p.l, p.r, {", ".join(f"coalesce({c}, 0) AS {c}" for c in features)},
            (a.entity = b.entity)::INT AS y, hash(a.entity) % 2 AS half
        FROM p JOIN rl a ON a.rid = p.l JOIN rl b ON b.rid = p.r ORDER BY p.l, p.r"""
    ).fetchnumpy()
    x = np.column_stack(
        [np.asarray(data[c], dtype=float) + (1 if c.startswith("gamma_") else 0) for c in features]
    )
    y, half = np.asarray(data["y"]), np.asarray(data["half"])
    probability = np.zeros(len(y))
    for side in (0, 1):
        model = HistGradientBoostingClassifier(
            max_iter=300,
            categorical_features=[c.startswith("gamma_") for c in features],
            random_state=0,  # its early stopping holds out a random tenth
        )
        model.fit(x[half != side], y[half != side])
        probability[half == side] = model.predict_proba(x[half == side])[:, 1]
    run.con.register("sup", {"l": data["l"], "r": data["r"], "q": probability})
    run.con.execute("ALTER TABLE p ADD COLUMN supervised DOUBLE")
    run.con.execute("UPDATE p SET supervised = sup.q FROM sup WHERE sup.l = p.l AND sup.r = p.r")
    print("\nsupervised bound (labels, same comparison vectors), clustered the same way:")
    for t in thresholds:
        print(f"  at {t}: P, R, F1 = {pairwise(run.cluster(t, 'supervised'), run.entity)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--classes", type=int, default=20)
    args = parser.parse_args()
    run = Run(args.work)
    # the probability the dedupe links at (twice or half the odds of --threshold)
    link_at = link_threshold(args.threshold, run.households)
    print(f"households of different people: {run.households}; links at {link_at:.3f}")
    bands(run, link_at)
    classes(run, link_at, args.classes)
    m_check(run)
    supervised_bound(run, (0.3, 0.5, 0.7, 0.9))


if __name__ == "__main__":
    main()
