"""Benchmark ``joinedup synth``: wall time and peak memory of generating a synthetic region.

    .venv/bin/python benchmarks/synth.py [RESIDENTS] [--runs N] [--seed S] [--out DIR]

Each run generates the region in a fresh child process (so its peak RSS is measured on its own,
from ``os.wait4``). Prints one markdown table row with the median wall time of the runs and the
highest peak RSS. Target (issue 3): 1,000,000 residents in under 3 minutes, under 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import sys
from pathlib import Path
from joinedup.synth.config import SynthConfig
from joinedup.synth.generate import generate_region
config = SynthConfig(residents=int(sys.argv[1]), seed=int(sys.argv[2]))
m = generate_region(config, Path(sys.argv[3]))
print(m.total_rows, len(m.files))
"""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_once(residents: int, seed: int, out: Path) -> tuple[float, float, int, int]:
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(residents), str(seed), str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    output = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"generation failed (status {status})")
    rows, files = (int(x) for x in output.split())
    peak_gb = usage.ru_maxrss * 1024 / 1e9  # ru_maxrss is in KiB on Linux
    return wall, peak_gb, rows, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("residents", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/synth"))
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    walls, peaks = [], []
    rows = files = 0
    for i in range(args.runs):
        wall, peak, rows, files = run_once(args.residents, args.seed, args.out)
        walls.append(wall)
        peaks.append(peak)
        print(f"run {i + 1}/{args.runs}: {wall:.1f} s, peak RSS {peak:.2f} GB", file=sys.stderr)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file()) / 1e9
    median = statistics.median(walls)
    print(
        "| residents | runs | median wall time | peak RSS | source rows | rows/resident "
        "| files | output size |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {args.residents:,} | {args.runs} | {median:.1f} s | {max(peaks):.2f} GB | "
        f"{rows:,} | {rows / args.residents:.1f} | {files} | {size:.2f} GB |"
    )
    print(f"\nmachine: {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}")
    if args.json:
        print(
            json.dumps(
                {
                    "residents": args.residents,
                    "runs": walls,
                    "median_s": median,
                    "peak_rss_gb": max(peaks),
                    "rows": rows,
                    "files": files,
                }
            )
        )


if __name__ == "__main__":
    main()
