"""Benchmark the disclosure control of an aggregate release: the 10-5 rule, secondary
suppression and the attacker's LP audit, on indicator × ward × month tables.

    .venv/bin/python benchmarks/publish.py [--runs N]

Tables: 16 wards in 4 local authorities, 24 months, 2 indicators (1,050 cells with the
local-authority, regional and all-months totals), with residents spread over wards by skewed
weights, at three sizes: sparse (300 residents: nearly every cell under 10), medium (3,000)
and dense (30,000). Prints the median seconds of ``protect`` per size, and the cells
suppressed. No target is set by the issue; the figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time

from joinedup.publish.aggregate import Areas, count_units, month_range, relations
from joinedup.publish.disclosure import protect

SIZES = {"sparse": 300, "medium": 3_000, "dense": 30_000}


def table(residents: int, seed: int = 1) -> tuple[dict, list, Areas]:
    rng = random.Random(seed)
    wards = {f"E0590{i:04d}": f"E0900{i % 4:04d}" for i in range(16)}
    areas = Areas(wards)
    months = month_range("2025-01", "2026-12")
    indicators = ["a", "b"]
    weights = [rng.random() + 0.2 for _ in wards]
    units = [
        (rng.choice(indicators), rng.choices(list(wards), weights)[0], rng.choice(months))
        for _ in range(residents)
    ]
    return (
        count_units(units, indicators, areas, months),
        relations(indicators, areas, months),
        areas,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    for name, residents in SIZES.items():
        counts, rels, _ = table(residents)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = protect(counts, rels)
            times.append(time.perf_counter() - start)
        report = result.report()
        print(
            f"{name:7s} {residents:>6,} residents: {statistics.median(times):6.2f} s median of "
            f"{args.runs}; cells {report['cells']}, primary {report['primary_suppressed']}, "
            f"secondary {report['secondary_suppressed']}, audit rounds {report['audit_rounds']}"
        )


if __name__ == "__main__":
    main()
