# ruff: noqa: E501  (the child programs are kept as plain scripts, one statement a line)
"""Scaling of the linkage build on DuckDB and Spark (issue 19), and its extrapolation.

    .venv/bin/python benchmarks/scale.py homes --sizes 2000,4000,8000 [--out DIR]
    .venv/bin/python benchmarks/scale.py run --sizes 2000,4000,8000 [--engines duckdb:1,duckdb:2,spark:1,spark:2] [--runs 3]
    .venv/bin/python benchmarks/scale.py fit [--out DIR]
    .venv/bin/python benchmarks/scale.py measure -- COMMAND...

``homes`` builds one home per region size (residents): the demo's first three stages
(synthetic region, ingest, governance), so each holds the person records a linkage build
reads. ``run`` builds the resident index in each home with each engine (``duckdb:N``: DuckDB
with N threads; ``spark:N``: Spark ``local[N]``), each build in its own child process, and
records every stage's time (the build's own timings, and the Spark session's start), the
child's CPU time (user + sys of the Python process and the JVM it starts, sampled from
/proc every 0.2 s) and the peak resident memory of that process tree (the sum over its
processes). Both engines are limited to N cores (CPU affinity) as well as N threads.
``fit`` takes the medians and extrapolates to a London hub (9 million residents) and England
(57 million) on the clusters named in docs/scale-out.md:

* records from the records per resident of the million-resident region
  (:data:`RECORDS_PER_RESIDENT`);
* candidate pairs from a power law ``pairs = c·records^k`` fitted (least squares in log
  space) through the sizes measured here and the million-record build of docs/benchmarks.md;
* the Spark stages from DuckDB's CPU seconds at a million records (:data:`ANCHOR`): scoring
  per candidate pair, training (on at most 2 million sampled pairs) per record; times Spark's CPU on
  those stages over DuckDB's at the largest size both ran here (each the child's CPU time
  in the share of its wall time those stages took), spread over the cluster's
  cores at :data:`EFFICIENCY`. At the small sizes this machine allows, that ratio includes
  Spark's fixed costs, so the per-pair cost it gives is an upper bound;
* the driver stages (read and prepare, cluster, store: linear) from their per-record cost
  at a million records on 2 cores (no speed-up from a larger driver is assumed), and the
  driver's clustering arrays from the stored share of the pairs.
* from the small sizes alone, per engine and cores: the exponents ``b`` of ``cost = a·size^b``
  (least squares in log space; the build's CPU and peak memory against the records,
  training's CPU against the records, scoring's CPU against the candidate pairs), and the
  largest measured build's training and scoring CPU scaled by them to each target. Marked as
  such: three orders of magnitude from sizes where fixed costs still weigh (``b`` below 1).

``measure`` runs any command (a test run, a demo) and prints its wall time, its process
tree's CPU time (a JVM included) and peak memory, and the load average.

Writes ``scale.json`` and ``scale.md`` to the out dir.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

OUT = Path("benchmarks/out/scale")

HOME = r"""
import sys
from dataclasses import replace
from pathlib import Path
from joinedup.config import load_settings
from joinedup.demo import DemoOptions, check_demo_database, prepare_home
from joinedup.home import init_home
from joinedup.jobs.runner import run_inline
from joinedup.stages import demo_steps

home, residents = Path(sys.argv[1]), int(sys.argv[2])
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="")
options = DemoOptions(residents=residents, months=12, seed=19)
check_demo_database(settings)
prepare_home(settings)
init_home(settings)
for stage in demo_steps():
    if stage.kind == "linkage.build":
        break
    row = run_inline(settings, stage.kind, stage.params(settings, options), None)
    assert row.status == "succeeded", (stage.name, row.error)
print(residents)
"""

BUILD = r"""
import json, sys, time
from dataclasses import replace
from pathlib import Path
import joinedup.store.duck as duck
from joinedup.config import load_settings

home, engine, cores = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
original = duck.duckdb_config
def limited(settings, memory_limit=None):
    config = original(settings, memory_limit)
    config["threads"] = str(cores)
    return config
duck.duckdb_config = limited
from joinedup.linkage.build import build_index
settings = replace(load_settings({"JOINEDUP_HOME": str(home)}), database_url="", engine=engine, spark_master=f"local[{cores}]")
stages = {}
if engine == "spark":
    from joinedup.store.spark import spark_session, stop_spark
    start = time.perf_counter()
    spark_session(settings)
    stages["engine_start"] = time.perf_counter() - start
start = time.perf_counter()
result = build_index(settings)
stages["total_build"] = time.perf_counter() - start
stages.update({k: v for k, v in result["timings_seconds"].items() if k != "total"})
if engine == "spark":
    stop_spark()
print(json.dumps({"records": result["records"], "residents": result["residents"], "candidate_pairs": result["candidate_pairs"], "stages": stages}))
"""


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _usage(pid: int) -> tuple[float, float] | None:
    """(CPU seconds user+sys, resident MB) of one process, or None when it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as f:
            pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick
    return cpu, pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def run_child(code: str, args: list[str], cores: int | None = None) -> dict[str, Any]:
    """Run ``code`` in a child (on ``cores`` CPUs); its stdout's last line, wall and CPU time
    and the peak memory of its process tree."""
    got = run_tree([sys.executable, "-c", code, *args], cores, capture=True)
    if got["returncode"]:
        raise RuntimeError(f"child failed ({got['returncode']}):\n{got['stderr'][-3000:]}")
    return {k: got[k] for k in ("wall", "cpu", "peak_mb")} | {
        "result": json.loads(got["stdout"].strip().splitlines()[-1])
    }


def run_tree(command: list[str], cores: int | None = None, capture: bool = False) -> dict[str, Any]:
    """Run ``command`` (on ``cores`` CPUs): its wall time, the CPU time (user + sys) of its
    whole process tree (a JVM it starts included), sampled from /proc every 0.2 s, and the
    peak resident memory of that tree (the sum over its processes)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    preexec = (lambda: os.sched_setaffinity(0, set(range(cores)))) if cores else None
    pipe = subprocess.PIPE if capture else None
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=pipe, stderr=pipe, text=True, env=env, preexec_fn=preexec
    )
    cpu_seen: dict[int, float] = {}
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total = 0.0
            for pid in _tree(proc.pid):
                got = _usage(pid)
                if got:
                    cpu_seen[pid] = got[0]
                    total += got[1]
            peak[0] = max(peak[0], total)
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    return {
        "wall": wall,
        "cpu": sum(cpu_seen.values()),
        "peak_mb": peak[0],
        "returncode": proc.returncode,
        "stdout": out or "",
        "stderr": err or "",
    }


def measure(command: list[str]) -> None:
    """Run any command (a test run, a demo) and print its wall time, its process tree's CPU
    time and peak memory, and the load average before and after."""
    before = os.getloadavg()
    got = run_tree(command)
    after = os.getloadavg()
    print(
        f"wall {got['wall']:.1f} s  cpu {got['cpu']:.1f} s  peak {got['peak_mb']:.0f} MB  "
        f"load {before[0]:.1f}/{before[1]:.1f} -> {after[0]:.1f}/{after[1]:.1f}  "
        f"exit {got['returncode']}  {' '.join(command)}",
        flush=True,
    )


def homes(sizes: list[int], out: Path) -> None:
    for size in sizes:
        home = out / "homes" / f"r{size}"
        if (home / "joinedup.db").exists() or (home / "snapshots").exists():
            print(f"{size}: exists")
            continue
        got = run_child(HOME, [str(home), str(size)])
        print(f"{size}: built in {got['wall']:.0f} s")


def run(sizes: list[int], engines: list[str], runs: int, out: Path, name: str) -> None:
    results_file = out / f"runs-{name}.json"
    results: list[dict[str, Any]] = (
        json.loads(results_file.read_text()) if results_file.exists() else []
    )
    load = os.getloadavg()
    for size in sizes:
        home = out / "homes" / f"r{size}"
        for spec in engines:
            engine, cores = spec.split(":")
            for index in range(runs):
                got = run_child(BUILD, [str(home), engine, cores], int(cores))
                row = {
                    "residents": size,
                    "engine": engine,
                    "cores": int(cores),
                    "run": index,
                    "load_before": load[0],
                    "load_after": os.getloadavg()[0],
                    **got,
                }
                results.append(row)
                results_file.write_text(json.dumps(results, indent=1))
                print(
                    f"{size:>8} {spec:<9} wall {got['wall']:7.1f} s  cpu {got['cpu']:7.1f} s  "
                    f"peak {got['peak_mb']:7.0f} MB  {got['result']['stages']}",
                    flush=True,
                )
                load = os.getloadavg()


# --- the fit ----------------------------------------------------------------------------------

#: Residents of the targets (issue 19).
TARGETS = {"London hub": 9_000_000, "England": 57_000_000}
#: The clusters docs/scale-out.md names (executors x cores each; memory per executor).
CLUSTERS: dict[str, dict[str, int]] = {
    "London hub": {"executors": 8, "cores": 4, "memory_gb": 16},
    "England": {"executors": 32, "cores": 4, "memory_gb": 16},
}
#: Share of ideal speed-up a cluster keeps on Splink's shuffle-heavy pair stages: a stated
#: assumption, not a measurement (this machine has two cores).
EFFICIENCY = 0.6
PAIR_STAGES = ("train", "predict")
DRIVER_STAGES = ("read_and_prepare", "cluster", "store")
#: The DuckDB build measured at a million records on a quiet machine (docs/benchmarks.md,
#: "Linkage", Scale: 2 threads, median of 3 runs): the per-pair and per-record costs at a
#: size where fixed costs no longer count.
ANCHOR: dict[str, Any] = {
    "records": 1_007_900,
    "candidate_pairs": 5_000_000,
    "cores": 2,
    "stages": {
        "read_and_prepare": 11.0,
        "train": 31.0,
        "predict": 57.0,
        "cluster": 5.0,
        "store": 10.0,
    },
    "peak_gb": 4.63,
}
#: Records per resident of the million-resident demo region (24 months: 4.57 million linked
#: records; docs/benchmarks.md, "Insight"). London's hub in issue 19: 9 million residents,
#: some 40 million records (4.4).
RECORDS_PER_RESIDENT = 4.57
#: Share of candidate pairs stored (at or above the review band) at a million records (4.2
#: million of 5 million: docs/benchmarks.md, "Incremental"), and the bytes a stored pair takes
#: in clustering (two int64 record numbers and a float64 probability).
STORED_SHARE, CLUSTER_BYTES = 0.84, 24
#: Regions below this many records are left out of the pairs law: a few months of a small
#: region (the cached 1,500-resident test region: 2,116 records, 1.2 pairs a record) has too
#: few records for blocking's growth with size to show, and would bend the law through them.
PAIRS_MIN_RECORDS = 5_000


def _linear(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares ``y = a + b x``."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - b * mx, b


def _median_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[int, str, int], list[dict[str, Any]]] = {}
    for row in results:
        groups.setdefault((row["residents"], row["engine"], row["cores"]), []).append(row)
    rows = []
    for (residents, engine, cores), group in sorted(groups.items()):
        stages = sorted({k for g in group for k in g["result"]["stages"]})
        rows.append(
            {
                "residents": residents,
                "engine": engine,
                "cores": cores,
                "runs": len(group),
                "records": group[0]["result"]["records"],
                "candidate_pairs": group[0]["result"]["candidate_pairs"],
                "wall": statistics.median(g["wall"] for g in group),
                "cpu": statistics.median(g["cpu"] for g in group),
                "peak_mb": statistics.median(g["peak_mb"] for g in group),
                "stages": {
                    s: statistics.median(g["result"]["stages"].get(s, 0.0) for g in group)
                    for s in stages
                },
                "load": statistics.median(g["load_before"] for g in group),
            }
        )
    return rows


def _stage_cpu(row: dict[str, Any], stages: tuple[str, ...]) -> float:
    """CPU-seconds of ``stages`` of a build: the child's CPU time in the share of its wall
    time those stages took (the machine is shared, so wall time alone says little)."""
    return row["cpu"] * sum(row["stages"].get(s, 0.0) for s in stages) / row["wall"]


def _pair_cpu(row: dict[str, Any]) -> float:
    return _stage_cpu(row, PAIR_STAGES)


def exponents(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per engine and cores, through the sizes measured (at least two): the exponent ``b`` of
    ``cost = a * size^b`` (least squares in log space) for the build's CPU and peak memory
    against the records, training's CPU against the records and scoring's CPU against the
    candidate pairs. ``b`` near 1 is a cost per record (or pair); below 1, fixed costs still
    weigh at these sizes."""
    out: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(f"{r['engine']}:{r['cores']}", []).append(r)
    for name, group in groups.items():
        group = sorted(group, key=lambda r: r["records"])
        if len({r["records"] for r in group}) < 2:
            continue
        records = [math.log(r["records"]) for r in group]
        pairs = [math.log(r["candidate_pairs"]) for r in group]

        def slope(xs: list[float], ys: list[float]) -> float:
            return _linear(xs, [math.log(max(y, 1e-3)) for y in ys])[1]

        out[name] = {
            "sizes": [r["residents"] for r in group],
            "records": [r["records"] for r in group],
            "build_cpu_per_record": slope(records, [r["cpu"] for r in group]),
            "peak_mb_per_record": slope(records, [r["peak_mb"] for r in group]),
            "train_cpu_per_record": slope(records, [_stage_cpu(r, ("train",)) for r in group]),
            "predict_cpu_per_pair": slope(pairs, [_stage_cpu(r, ("predict",)) for r in group]),
            "largest": group[-1],
        }
    return out


def fit(out: Path) -> dict[str, Any]:
    """The extrapolation (method in the module docstring and docs/scale-out.md)."""
    results = [
        row for path in sorted(out.glob("runs-*.json")) for row in json.loads(path.read_text())
    ]
    rows = _median_rows(results)
    records_per_resident = RECORDS_PER_RESIDENT
    # candidate pairs against records, pairs = c * n^k, through the measured sizes and the anchor
    pts = sorted(
        {(r["records"], r["candidate_pairs"]) for r in rows if r["records"] >= PAIRS_MIN_RECORDS}
        | {(ANCHOR["records"], ANCHOR["candidate_pairs"])}
    )
    log_c, k = _linear([math.log(n) for n, _ in pts], [math.log(p) for _, p in pts])
    # Spark's pair stages against DuckDB's on the same region, same cores (the largest measured)
    both = [
        (d, s)
        for d in rows
        for s in rows
        if d["engine"] == "duckdb"
        and s["engine"] == "spark"
        and d["residents"] == s["residents"]
        and d["cores"] == s["cores"]
    ]
    ratio: float | None = None
    measured_at: dict[str, int] | None = None
    if both:
        duck_row, spark_row = max(both, key=lambda pair: pair[0]["records"])
        ratio = _pair_cpu(spark_row) / _pair_cpu(duck_row)
        measured_at = {"residents": duck_row["residents"], "cores": duck_row["cores"]}
    # scoring grows with the candidate pairs; training (u and EM on at most 2 million
    # sampled pairs each, term frequencies) with the records
    anchor_pair_cpu = ANCHOR["stages"]["predict"] * ANCHOR["cores"] / ANCHOR["candidate_pairs"]
    anchor_train_cpu = ANCHOR["stages"]["train"] * ANCHOR["cores"] / ANCHOR["records"]
    curve = exponents(rows)
    out_fit: dict[str, Any] = {
        "records_per_resident": records_per_resident,
        "pairs_exponent": k,
        "pairs_coefficient": math.exp(log_c),
        "exponents": {
            n: {k_: v for k_, v in e.items() if k_ != "largest"} for n, e in curve.items()
        },
        "spark_to_duckdb_pair_cpu": ratio,
        "ratio_measured_at": measured_at,
        "duckdb_pair_cpu_s": anchor_pair_cpu,
        "duckdb_train_cpu_per_record_s": anchor_train_cpu,
        "efficiency": EFFICIENCY,
        "targets": {},
    }
    for name, residents in TARGETS.items():
        records = residents * records_per_resident
        pairs = out_fit["pairs_coefficient"] * records**k
        cluster = CLUSTERS[name]
        cores_total = cluster["executors"] * cluster["cores"]
        driver = {s: ANCHOR["stages"][s] * records / ANCHOR["records"] for s in DRIVER_STAGES}
        duck_cpu = anchor_pair_cpu * pairs + anchor_train_cpu * records
        target: dict[str, Any] = {
            "residents": residents,
            "records": records,
            "candidate_pairs": pairs,
            "cluster": cluster,
            "duckdb_pair_cpu_hours": duck_cpu / 3600,
            "driver_stages_s": driver,
            "driver_cluster_gb": STORED_SHARE * pairs * CLUSTER_BYTES / 1e9,
            # from the small sizes alone: the largest measured build's CPU scaled by the
            # fitted exponents (training by the records, scoring by the pairs)
            "from_curve_cpu_hours": {
                n: (
                    _stage_cpu(e["largest"], ("train",))
                    * (records / e["largest"]["records"]) ** e["train_cpu_per_record"]
                    + _stage_cpu(e["largest"], ("predict",))
                    * (pairs / e["largest"]["candidate_pairs"]) ** e["predict_cpu_per_pair"]
                )
                / 3600
                for n, e in curve.items()
            },
        }
        if ratio is not None:
            spark_cpu = ratio * duck_cpu
            target["pair_cpu_hours"] = spark_cpu / 3600
            target["pair_stages_s"] = spark_cpu / (cores_total * EFFICIENCY)
            target["total_s"] = target["pair_stages_s"] + sum(driver.values())
        out_fit["targets"][name] = target
    (out / "scale.json").write_text(json.dumps({"rows": rows, "fit": out_fit}, indent=1))
    text = markdown(rows, out_fit)
    (out / "scale.md").write_text(text)
    print(text)
    return out_fit


def markdown(rows: list[dict[str, Any]], out_fit: dict[str, Any]) -> str:
    lines = [
        "| residents | records | candidate pairs | engine | wall s | CPU s | peak MB | engine start | read+prepare | train | predict | cluster | store |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["stages"]
        how = (
            f"Spark local[{r['cores']}]"
            if r["engine"] == "spark"
            else f"DuckDB {r['cores']} thread" + ("s" if r["cores"] > 1 else "")
        )
        lines.append(
            f"| {r['residents']:,} | {r['records']:,} | {r['candidate_pairs']:,} | {how} ({r['runs']} run{'s' if r['runs'] > 1 else ''}) "
            f"| {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak_mb']:,.0f} | {s.get('engine_start', 0):.1f} "
            f"| {s.get('read_and_prepare', 0):.1f} | {s.get('train', 0):.1f} | {s.get('predict', 0):.1f} "
            f"| {s.get('cluster', 0):.1f} | {s.get('store', 0):.1f} |"
        )
    f = out_fit
    ratio = f["spark_to_duckdb_pair_cpu"]
    lines += [
        "",
        f"Records per resident: {f['records_per_resident']:.2f}. Candidate pairs = "
        f"{f['pairs_coefficient']:.3g} x records^{f['pairs_exponent']:.3f}. "
        f"DuckDB CPU per candidate pair at a million records: {f['duckdb_pair_cpu_s'] * 1e6:.1f} µs, "
        f"per record in training {f['duckdb_train_cpu_per_record_s'] * 1e6:.1f} µs. "
        + (
            f"Spark/DuckDB CPU on the pair stages at {f['ratio_measured_at']['residents']:,} residents, "
            f"{f['ratio_measured_at']['cores']} cores (R): {ratio:.1f}x."
            if ratio is not None
            else "Spark/DuckDB ratio R: no size measured on both engines."
        ),
        "",
        "Exponents b of cost = a x size^b through the sizes measured (small sizes, shared machine):",
        "",
        "| engine | sizes (residents) | build CPU / records | peak memory / records | training CPU / records | scoring CPU / candidate pairs |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, e in f["exponents"].items():
        lines.append(
            f"| {name} | {', '.join(f'{n:,}' for n in e['sizes'])} | {e['build_cpu_per_record']:.2f} "
            f"| {e['peak_mb_per_record']:.2f} | {e['train_cpu_per_record']:.2f} | {e['predict_cpu_per_pair']:.2f} |"
        )
    lines += [
        "",
        "| target | residents | records | candidate pairs | cluster | training + scoring CPU, anchored (DuckDB; x R for Spark) | same, from the small-size curve | on the cluster (R x CPU / cores / efficiency) | driver stages (DuckDB) | clustering arrays on the driver |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, t in f["targets"].items():
        c = t["cluster"]
        curve = "; ".join(f"{n} {h:,.1f} h" for n, h in t["from_curve_cpu_hours"].items())
        on_cluster = (
            f"{t['pair_stages_s'] / 60:,.0f} min"
            if "pair_stages_s" in t
            else "R x "
            f"{t['duckdb_pair_cpu_hours'] * 3600 / (c['executors'] * c['cores'] * f['efficiency']) / 60:,.0f} min"
        )
        lines.append(
            f"| {name} | {t['residents']:,} | {t['records']:,.0f} | {t['candidate_pairs']:,.0f} "
            f"| {c['executors']} executors x {c['cores']} cores, {c['memory_gb']} GB each "
            f"| {t['duckdb_pair_cpu_hours']:,.1f} h | {curve or 'n/a'} | {on_cluster} "
            f"| {sum(t['driver_stages_s'].values()) / 60:,.0f} min | {t['driver_cluster_gb']:,.0f} GB |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("homes", "run", "fit", "measure"))
    parser.add_argument("--sizes", default="2000,4000,8000")
    parser.add_argument("--engines", default="duckdb:1,duckdb:2,spark:1,spark:2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--name", default="main", help="results file runs-NAME.json (fit reads all)"
    )
    parser.add_argument("argv", nargs="*", help="measure: the command to run (after --)")
    args = parser.parse_args()
    if args.command == "measure":
        measure(args.argv)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.command == "homes":
        homes(sizes, args.out)
    elif args.command == "run":
        run(sizes, args.engines.split(","), args.runs, args.out, args.name)
    else:
        fit(args.out)


if __name__ == "__main__":
    main()
