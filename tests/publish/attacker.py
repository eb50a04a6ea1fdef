"""The attacker: given only a published aggregate CSV, recover its suppressed counts.

It knows the 10-5 rule (a published count ``p`` is a true count of at least 10 within 2 of
``p``; a suppressed count is at least 0) and every total the CSV shows: wards add up to their
local authority, authorities to the region, months to ``all``. For each suppressed cell it
solves two linear programmes (scipy's HiGHS) for the smallest and largest true count
consistent with all of that. This is written independently of joinedup.publish.disclosure:
it reads the published rows, nothing else."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict

import numpy as np
from scipy.optimize import linprog

THRESHOLD = 10
HALF_BASE = 2


def read_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def equations(rows: list[dict[str, str]]) -> list[tuple[tuple, list[tuple]]]:
    """(total, parts) relations visible in the published rows."""
    key = lambda r: (r["indicator"], r["area_type"], r["area_code"], r["month"])  # noqa: E731
    keys = {key(r) for r in rows}
    wards_of = defaultdict(set)
    las, months = set(), set()
    region = {}
    for r in rows:
        if r["area_type"] == "ward":
            wards_of[r["local_authority_code"]].add(r["area_code"])
        elif r["area_type"] == "local_authority":
            las.add(r["area_code"])
        else:
            region[r["indicator"]] = r["area_code"]
        if r["month"] != "all":
            months.add(r["month"])
    out = []
    for indicator, region_code in region.items():
        for m in [*months, "all"]:
            for la in las:
                out.append(
                    (
                        (indicator, "local_authority", la, m),
                        [(indicator, "ward", w, m) for w in wards_of[la]],
                    )
                )
            out.append(
                (
                    (indicator, "region", region_code, m),
                    [(indicator, "local_authority", la, m) for la in las],
                )
            )
        areas = [("ward", w) for ws in wards_of.values() for w in ws]
        areas += [("local_authority", la) for la in las] + [("region", region_code)]
        for area_type, code in areas:
            out.append(
                (
                    (indicator, area_type, code, "all"),
                    [(indicator, area_type, code, m) for m in months],
                )
            )
    return [(t, p) for t, p in out if t in keys and all(k in keys for k in p)]


def recover(data: bytes, assumed_upper: float | None = None) -> dict[tuple, tuple[float, float]]:
    """The range of each suppressed cell: (lowest, highest) true count it can hold.

    ``assumed_upper`` lets the attacker assume more (say, that every suppressed count is
    under 10), which only narrows the ranges. Indicators share no totals, so each is solved
    on its own (smaller programmes, the same answers)."""
    rows = read_rows(data)
    out: dict[tuple, tuple[float, float]] = {}
    for indicator in sorted({r["indicator"] for r in rows}):
        out.update(_recover([r for r in rows if r["indicator"] == indicator], assumed_upper))
    return out


def _recover(rows: list[dict[str, str]], assumed_upper: float | None) -> dict[tuple, tuple]:
    keys = [(r["indicator"], r["area_type"], r["area_code"], r["month"]) for r in rows]
    index = {k: i for i, k in enumerate(keys)}
    bounds = []
    for r in rows:
        if r["count"] == "":
            bounds.append((0, assumed_upper))
        else:
            p = int(r["count"])
            bounds.append((max(THRESHOLD, p - HALF_BASE), p + HALF_BASE))
    eqs = equations(rows)
    a = np.zeros((len(eqs), len(keys)))
    for row, (total, parts) in enumerate(eqs):
        a[row, index[total]] = 1
        for part in parts:
            a[row, index[part]] -= 1
    out = {}
    for k in keys:
        i = index[k]
        if rows[i]["count"] != "":
            continue
        c = np.zeros(len(keys))
        c[i] = 1
        high = linprog(-c, A_eq=a, b_eq=np.zeros(len(eqs)), bounds=bounds, method="highs")
        assert high.status in (0, 3), "published data is inconsistent"
        if high.status == 3:  # unbounded above: nothing to learn from the lower bound
            out[k] = (0.0, math.inf)
            continue
        low = linprog(c, A_eq=a, b_eq=np.zeros(len(eqs)), bounds=bounds, method="highs")
        assert low.status == 0, "published data is inconsistent"
        out[k] = (float(low.fun), -float(high.fun))
    return out
