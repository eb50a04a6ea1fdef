"""Statistical disclosure control for count tables derived from personal data.

A release is a set of cells (counts) and the linear relations between them that anyone can
see: a total equals the sum of its parts (row totals, column totals, the totals of other
tables of the same release). Protection runs in three steps:

1. **Primary suppression and rounding (the ONS 10-5 rule).** A count under the threshold (10)
   is suppressed; every other count is rounded to the nearest 5. With cell-key perturbation
   (:mod:`joinedup.publish.perturbation`) the perturbed count is published instead of the
   rounded one, and a perturbed count under the threshold is suppressed.
2. **Secondary suppression.** In every relation (a total and its parts) where exactly one
   cell is suppressed, it could be recovered by subtraction, so the smallest published part
   (the total when no part is left) is suppressed too; repeated to a fixed point.
3. **An audit that plays the attacker.** For each suppressed cell, linear programming
   (``scipy.optimize.linprog``, HiGHS) finds the smallest and largest value consistent with
   everything published: each published value ``p`` stands for a true count in
   ``[max(threshold, p - u), p + u]`` (``u`` is half the rounding base, or the largest
   perturbation), every suppressed cell for a count of at least 0, and every relation holds.
   A cell whose range is narrower than the threshold (or pinned to one value) is not safe: the
   smallest published cell of one of its relations is suppressed as well, and the audit runs
   again. The loop ends because every round suppresses at least one more cell.

The functions are pure: cells in, published values and a report out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

CellKey = Any  # any hashable key (a Cell of joinedup.publish.aggregate)
#: Give up (and refuse the release) rather than loop for ever on a pathological table.
MAX_AUDIT_ROUNDS = 200


class DisclosureError(RuntimeError):
    """The table cannot be protected as asked."""


@dataclass(frozen=True)
class Relation:
    """``total`` equals the sum of ``parts`` in the true counts, and anyone can see it."""

    total: CellKey
    parts: tuple[CellKey, ...]

    @property
    def members(self) -> tuple[CellKey, ...]:
        return (self.total, *self.parts)


@dataclass(frozen=True)
class DisclosureRule:
    """The 10-5 rule by default: suppress under ``threshold``, round to ``base``."""

    threshold: int = 10
    base: int = 5
    #: "round" (10-5) or "cell-key" (perturbed counts, published unrounded)
    method: str = "round"
    #: the largest change perturbation makes to a published count (cell-key only)
    max_perturbation: int = 0

    @property
    def uncertainty(self) -> int:
        """How far a published count may lie from the true one."""
        if self.method == "cell-key":
            return self.max_perturbation
        return self.base // 2

    def describe(self) -> str:
        if self.method == "cell-key":
            return (
                f"cell-key perturbation (at most ±{self.max_perturbation}), counts under "
                f"{self.threshold} suppressed"
            )
        return (
            f"counts under {self.threshold} suppressed, others rounded to the nearest {self.base}"
        )


@dataclass(frozen=True)
class CellBounds:
    """What the attacker can learn about one suppressed cell."""

    key: CellKey
    low: float
    high: float  # math.inf when unbounded

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass
class ProtectedTable:
    """The published value of every cell (``None`` when suppressed) and how it was decided."""

    published: dict[CellKey, int | None]
    primary: set[CellKey] = field(default_factory=set)
    secondary: set[CellKey] = field(default_factory=set)
    bounds: list[CellBounds] = field(default_factory=list)
    audit_rounds: int = 0
    rule: DisclosureRule = field(default_factory=DisclosureRule)

    @property
    def suppressed(self) -> set[CellKey]:
        return self.primary | self.secondary

    def report(self) -> dict[str, Any]:
        """A summary for the DPO's approval page (no cell values under the threshold)."""
        finite = [b.width for b in self.bounds if math.isfinite(b.width)]
        published = [v for v in self.published.values() if v is not None]
        return {
            "rule": self.rule.describe(),
            "threshold": self.rule.threshold,
            "base": self.rule.base,
            "method": self.rule.method,
            "cells": len(self.published),
            "published": len(published),
            "primary_suppressed": len(self.primary),
            "secondary_suppressed": len(self.secondary),
            "smallest_published": min(published) if published else None,
            "audit_rounds": self.audit_rounds,
            "audited_cells": len(self.bounds),
            "narrowest_recoverable_range": float(min(finite)) if finite else None,
            "unbounded_cells": sum(1 for b in self.bounds if not math.isfinite(b.width)),
            "passed": all(b.width >= self.rule.threshold for b in self.bounds)
            and all(v >= self.rule.threshold for v in published),
        }


def round_to(value: int, base: int) -> int:
    """Round half up to a multiple of ``base`` (12 → 10, 13 → 15)."""
    return math.floor(value / base + 0.5) * base


def published_interval(value: int, rule: DisclosureRule) -> tuple[int, int]:
    """The true counts a published value can stand for (the attacker's view)."""
    u = rule.uncertainty
    return max(rule.threshold, value - u), value + u


def protect(
    counts: Mapping[CellKey, int],
    relations: Sequence[Relation],
    rule: DisclosureRule | None = None,
    perturbed: Mapping[CellKey, int] | None = None,
) -> ProtectedTable:
    """Apply primary suppression, rounding (or perturbation) and secondary suppression until
    the attacker's audit finds no suppressed cell with a range narrower than the threshold."""
    rule = rule or DisclosureRule()
    if rule.method == "cell-key" and perturbed is None:
        raise DisclosureError("cell-key perturbation needs the perturbed counts")
    for relation in relations:
        for key in relation.members:
            if key not in counts:
                raise DisclosureError(f"a relation names a cell that does not exist: {key!r}")
    values: dict[CellKey, int] = {}
    primary: set[CellKey] = set()
    for key, count in counts.items():
        if count < 0:
            raise DisclosureError(f"negative count in cell {key!r}")
        shown = perturbed[key] if perturbed is not None else round_to(count, rule.base)
        values[key] = shown
        if count < rule.threshold or shown < rule.threshold:
            primary.add(key)
    suppressed = set(primary)
    by_cell: dict[CellKey, list[Relation]] = {}
    for relation in relations:
        for key in relation.members:
            by_cell.setdefault(key, []).append(relation)
    rounds = 0
    while True:
        _secondary_to_fixed_point(counts, relations, suppressed)
        rounds += 1
        bounds = audit(values, suppressed, relations, rule, truth=counts)
        unsafe = [b for b in bounds if b.width < rule.threshold]
        if not unsafe:
            break
        if rounds >= MAX_AUDIT_ROUNDS:
            raise DisclosureError(f"the table is still unsafe after {rounds} audit rounds")
        added = False
        for cell in unsafe:
            extra = _smallest_published(counts, by_cell.get(cell.key, []), suppressed)
            if extra is not None:
                suppressed.add(extra)
                added = True
        if not added:
            raise DisclosureError("unsafe cells remain and nothing is left to suppress")
    published = {k: (None if k in suppressed else values[k]) for k in counts}
    return ProtectedTable(
        published=published,
        primary=primary,
        secondary=suppressed - primary,
        bounds=bounds,
        audit_rounds=rounds,
        rule=rule,
    )


def _smallest_published(
    counts: Mapping[CellKey, int], relations: Iterable[Relation], suppressed: set[CellKey]
) -> CellKey | None:
    """The cell to suppress next in these relations: the smallest published part, else the
    smallest published total (ties broken by the key's text, so the result is repeatable)."""
    best: tuple[int, int, str, CellKey] | None = None
    for relation in relations:
        for key in relation.members:
            if key in suppressed:
                continue
            rank = (1 if key == relation.total else 0, counts[key], repr(key), key)
            if best is None or rank[:3] < best[:3]:
                best = rank
    return best[3] if best else None


def _secondary_to_fixed_point(
    counts: Mapping[CellKey, int], relations: Sequence[Relation], suppressed: set[CellKey]
) -> None:
    """Suppress until no relation has exactly one suppressed cell."""
    changed = True
    while changed:
        changed = False
        for relation in relations:
            hidden = [k for k in relation.members if k in suppressed]
            if len(hidden) == 1:
                extra = _smallest_published(counts, [relation], suppressed)
                if extra is not None:
                    suppressed.add(extra)
                    changed = True


def _components(
    keys: Iterable[CellKey], relations: Sequence[Relation]
) -> list[tuple[list[CellKey], list[Relation]]]:
    """Cells split into groups that no relation connects (each group is solved alone)."""
    parent: dict[CellKey, CellKey] = {k: k for k in keys}

    def find(k: CellKey) -> CellKey:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for relation in relations:
        root = find(relation.total)
        for part in relation.parts:
            other = find(part)
            if other != root:
                parent[other] = root
    groups: dict[CellKey, tuple[list[CellKey], list[Relation]]] = {}
    for k in parent:
        groups.setdefault(find(k), ([], []))[0].append(k)
    for relation in relations:
        groups[find(relation.total)][1].append(relation)
    return list(groups.values())


def audit(
    values: Mapping[CellKey, int],
    suppressed: set[CellKey],
    relations: Sequence[Relation],
    rule: DisclosureRule,
    truth: Mapping[CellKey, int] | None = None,
) -> list[CellBounds]:
    """The range of true counts each suppressed cell could hold, given the published values
    (``values`` of cells not in ``suppressed``) and the relations.

    Without ``truth`` each range is exact (two linear programmes per cell). With ``truth``
    (the protector knows the true counts, a feasible point) the audit only proves what it
    must: feasible points found along the way are kept, and a cell whose values across them
    already differ by the threshold is safe without solving for it; its range is reported as
    the (narrower) range those points show."""
    out: list[CellBounds] = []
    for keys, rels in _components(values.keys(), relations):
        targets = [k for k in keys if k in suppressed]
        if not targets:
            continue
        if not rels or len(targets) == len(keys):
            # nothing published constrains these cells: scaling them all up keeps every
            # relation, so each is unbounded
            out.extend(CellBounds(k, 0.0, math.inf) for k in targets)
            continue
        out.extend(_audit_component(keys, rels, targets, values, suppressed, rule, truth))
    return out


def _audit_component(
    keys: list[CellKey],
    rels: list[Relation],
    targets: list[CellKey],
    values: Mapping[CellKey, int],
    suppressed: set[CellKey],
    rule: DisclosureRule,
    truth: Mapping[CellKey, int] | None,
) -> list[CellBounds]:
    index = {k: i for i, k in enumerate(keys)}
    matrix = lil_matrix((len(rels), len(keys)))
    for row, relation in enumerate(rels):
        matrix[row, index[relation.total]] += 1
        for part in relation.parts:
            matrix[row, index[part]] -= 1
    a_eq = matrix.tocsr()
    b_eq = np.zeros(len(rels))
    box: list[tuple[float, float | None]] = []
    for k in keys:
        if k in suppressed:
            box.append((0.0, None))
        else:
            lo, hi = published_interval(values[k], rule)
            box.append((float(lo), float(hi)))

    def solve(objective: np.ndarray, bounds: list[tuple[float, float | None]]) -> Any:
        result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if result.status == 2:
            raise DisclosureError("the published values contradict the relations")
        return result

    points: list[np.ndarray] = []
    if truth is not None:
        points = _spread_points(keys, targets, box, truth, rule.threshold, solve)
    out: list[CellBounds] = []
    for key in targets:
        i = index[key]
        seen = [p[i] for p in points]
        if truth is not None and max(seen) - min(seen) >= rule.threshold:
            out.append(CellBounds(key, round(float(min(seen)), 6), round(float(max(seen)), 6)))
            continue
        objective = np.zeros(len(keys))
        objective[i] = 1.0
        high = solve(-objective, box)
        hi_v = -float(high.fun) if high.status == 0 else math.inf
        if high.status == 0:
            points.append(np.asarray(high.x))
        if truth is not None and hi_v - min(seen) >= rule.threshold:
            # proven wide enough between a known point and the maximum: no need for the minimum
            out.append(CellBounds(key, round(float(min(seen)), 6), round(hi_v, 6)))
            continue
        low = solve(objective, box)
        lo_v = float(low.fun) if low.status == 0 else 0.0
        if low.status == 0:
            points.append(np.asarray(low.x))
        out.append(CellBounds(key, round(lo_v, 6), round(hi_v, 6)))
    return out


def _spread_points(
    keys: list[CellKey],
    targets: list[CellKey],
    box: list[tuple[float, float | None]],
    truth: Mapping[CellKey, int],
    threshold: int,
    solve: Any,
) -> list[np.ndarray]:
    """Feasible points that move many suppressed cells at once: from the true counts, push
    every cell not yet shown to move by ``threshold`` up (capped there), then down, until a
    round proves no more cells. Cells these points move far enough need no LP of their own."""
    true = np.array([float(truth[k]) for k in keys])
    where = [keys.index(k) for k in targets]
    points = [true]
    capped = [(lo, hi if hi is not None else true[i] + threshold) for i, (lo, hi) in enumerate(box)]
    open_cells = set(where)
    while open_cells:
        before = len(open_cells)
        for sign in (-1.0, 1.0):
            weights = np.zeros(len(keys))
            weights[sorted(open_cells)] = sign
            result = solve(weights, capped)
            if result.status != 0:
                continue
            points.append(np.asarray(result.x))
            stack = np.vstack(points)
            spread = stack.max(axis=0) - stack.min(axis=0)
            open_cells = {i for i in open_cells if spread[i] < threshold}
            if not open_cells:
                break
        if len(open_cells) == before:
            break
    return points
