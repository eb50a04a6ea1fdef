"""Benchmark the insight stage: all starter rules over a large region, and the trends.

    .venv/bin/python benchmarks/insight.py build HOME [--residents 1000000] [--months 24]
    .venv/bin/python benchmarks/insight.py run HOME [--runs 3] [--trend-months 3]

``build`` makes a home: generates the synthetic region, ingests every file, registers the
demo's purposes, users and agreements, and then **builds the resident index from the
generator's truth** (each source record's true person and household), not by linkage: the
linkage build has its own benchmark (``benchmarks/linkage.py``) and a 1,000,000-resident
build here would measure it again. The index has the shape the linkage build writes and is
recorded as a ``linkage_run`` (model ``truth``), so the insight stage cannot tell.

``run`` times, in fresh child processes, the ``insight.run`` job's work (every starter rule,
per council, governed reads, flags snapshot; target: 1,000,000 residents in <= 60 s) and the
``insight.areas`` job's (the rules re-judged at each of the last ``--trend-months`` months,
counted by area; no target), and prints the medians and the peak resident memory of the
children as JSON. Each child imports joinedup (and pyarrow, pandas) before its clock starts:
``seconds`` is the job's work, ``import_seconds`` the interpreter's start-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

CHILD = r"""
import json, sys, time
started = time.perf_counter()
from dataclasses import replace
from pathlib import Path
from joinedup.config import load_settings
from joinedup.insight.run import run_insight
from joinedup.insight.trends import AreaOptions, run_areas
import pyarrow, pandas  # imported on first use by the job: counted with the imports
home, what, months = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
imports = time.perf_counter() - started
started = time.perf_counter()
if what == "run":
    result = run_insight(settings)
    summary = {"flags": result["flags"], "rules": {r["id"]: r["flags"] for r in result["rules"]}}
else:
    result = run_areas(settings, AreaOptions(months=months))
    flags = {r["id"]: r["flags_last_month"] for r in result["rules"]}
    summary = {"months": result["months"], "rules": flags}
import resource
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # KiB -> GiB
print(json.dumps({"seconds": time.perf_counter() - started, "import_seconds": round(imports, 2),
                  "peak_rss_gib": round(peak, 2), **summary}))
"""


def _settings(home: Path) -> Any:
    from joinedup.config import load_settings

    return replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")


def truth_index(settings: Any, region: Path) -> dict[str, Any]:
    """Record the truth's people and households as the resident index (a ``linkage_run``)."""
    import pyarrow as pa
    from sqlalchemy import select

    from joinedup.catalog.db import session_scope
    from joinedup.catalog.models import Dataset, DatasetVersion, LinkageRun, Organisation
    from joinedup.standards import is_person_standard
    from joinedup.store import SnapshotStore, duckdb_session

    with session_scope(settings) as session:
        rows = session.execute(
            select(
                Organisation.code,
                Dataset.name,
                Dataset.standard,
                DatasetVersion.version,
                DatasetVersion.source_filename,
                DatasetVersion.accepted_rows,
            )
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        ).all()
    latest: dict[tuple[str, str], Any] = {}
    for r in rows:
        if is_person_standard(r.standard):
            key = (r.code, r.name)
            if key not in latest or r.version > latest[key].version:
                latest[key] = r
    inputs = [
        {
            "organisation": r.code,
            "dataset": r.name,
            "version": int(r.version),
            "standard": r.standard,
            "rows": int(r.accepted_rows),
            "excluded_by_objection": 0,
        }
        for r in latest.values()
    ]
    files = pa.table(
        {
            "organisation": [r.code for r in latest.values()],
            "dataset": [r.name for r in latest.values()],
            "version": [int(r.version) for r in latest.values()],
            "file": [f"{r.code}/{r.source_filename}" for r in latest.values()],
        }
    )
    store = SnapshotStore(settings)
    records = str(region / "truth" / "records.parquet").replace("'", "''")
    with duckdb_session(settings) as con:
        con.register("__files", files)
        index_sql = f"""
            SELECT DISTINCT ON (f.organisation, f.dataset, t.record_id)
                   f.organisation || '/' || f.dataset || '/' || t.record_id AS record_key,
                   f.organisation, f.dataset, f.version, t.record_id AS source_record_id,
                   'r-' || t.person_id AS resident_id, 'h-' || t.household_id AS household_id,
                   1::BIGINT AS rows
            FROM read_parquet('{records}') t JOIN __files f USING (file)
            ORDER BY f.organisation, f.dataset, t.record_id"""
        counts = con.execute(
            f"SELECT count(*), count(DISTINCT resident_id), count(DISTINCT household_id) "
            f"FROM ({index_sql})"
        ).fetchall()[0]
        with session_scope(settings) as session, store.writer(session) as writer:
            index = writer.write_query(con, index_sql)
            pairs = writer.write_query(
                con,
                "SELECT NULL::VARCHAR AS record_key_l, NULL::VARCHAR AS record_key_r WHERE FALSE",
            )
            session.add(
                LinkageRun(
                    model_version=0,
                    model_path="truth",
                    threshold=1.0,
                    records=int(counts[0]),
                    residents=int(counts[1]),
                    households=int(counts[2]),
                    pairs=0,
                    index_sha256=index.sha256,
                    pairs_sha256=pairs.sha256,
                    inputs=inputs,
                    details={"built_from": "synthetic truth (benchmarks/insight.py)"},
                )
            )
            session.commit()
    return {"records": int(counts[0]), "residents": int(counts[1]), "households": int(counts[2])}


def build(home: Path, residents: int, months: int) -> None:
    from joinedup.demo import DemoOptions, prepare_home, source_dir, timeline
    from joinedup.home import init_home
    from joinedup.jobs.runner import run_inline

    settings = _settings(home)
    prepare_home(settings)
    init_home(settings)
    options = DemoOptions(residents=residents, months=months, seed=2026)
    region = source_dir(settings)
    steps = [
        (
            "synth",
            {
                "out": str(region),
                "residents": residents,
                "seed": 2026,
                "months": months,
                **timeline(options),
            },
        ),
        ("ingest.region", {"manifest": str(region / "manifest.json")}),
        ("governance.demo", {}),
        ("areas.boundaries", {"manifest": str(region / "manifest.json"), "actor": "benchmark"}),
    ]
    for kind, params in steps:
        started = time.perf_counter()
        row = run_inline(settings, kind, params, None)
        if row.status != "succeeded":
            sys.exit(f"{kind} failed: {row.error}")
        print(f"{kind}: {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    counts = truth_index(settings, region)
    print(f"resident index from the truth: {time.perf_counter() - started:.1f} s {counts}")


def run(home: Path, runs: int, trend_months: int, only: str | None = None) -> None:
    out: dict[str, Any] = {}
    for what in [only] if only else ["run", "areas"]:
        results = []
        for _ in range(runs):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(home), what, str(trend_months)],
                capture_output=True,
                text=True,
                check=True,
            )
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(what, json.dumps(results[-1]), flush=True)
        out[what] = {
            "runs": [round(r["seconds"], 2) for r in results],
            "median_seconds": round(statistics.median(r["seconds"] for r in results), 2),
            "median_import_seconds": round(
                statistics.median(r["import_seconds"] for r in results), 2
            ),
            "peak_rss_gib": max(r["peak_rss_gib"] for r in results),
            "last": results[-1],
        }
    print(json.dumps(out, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("home", type=Path)
    b.add_argument("--residents", type=int, default=1_000_000)
    b.add_argument("--months", type=int, default=24)
    r = sub.add_parser("run")
    r.add_argument("home", type=Path)
    r.add_argument("--runs", type=int, default=3)
    r.add_argument("--trend-months", type=int, default=3)
    r.add_argument("--only", choices=("run", "areas"), help="time only this job")
    args = parser.parse_args()
    if args.command == "build":
        build(args.home, args.residents, args.months)
    else:
        run(args.home, args.runs, args.trend_months, args.only)


if __name__ == "__main__":
    main()
