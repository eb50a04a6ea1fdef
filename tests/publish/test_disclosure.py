"""Disclosure control: the 10-5 rule, secondary suppression, cell-key perturbation, and the
attacker who tries to recover suppressed cells from the published totals and must fail."""

from __future__ import annotations

import math
import random

import pytest

from joinedup.publish.aggregate import Areas, Cell, count_units, grid, month_range, relations
from joinedup.publish.build import aggregate_fields, aggregate_table
from joinedup.publish.disclosure import (
    DisclosureError,
    DisclosureRule,
    Relation,
    protect,
    round_to,
)
from joinedup.publish.formats import render_csv
from joinedup.publish.perturbation import MAX_NOISE, perturb
from tests.publish.attacker import recover

AREAS = Areas({"E05900001": "E09000022", "E05900002": "E09000022", "E05900003": "E09000028"})
MONTHS = ["2026-01", "2026-02"]


def _csv(published: dict, areas: Areas, indicators: list[str], months: list[str]) -> bytes:
    table = aggregate_table(grid(indicators, areas, months), published, areas)
    return render_csv(table, aggregate_fields(10))


def _units(counts: dict[tuple[str, str], int]) -> list[tuple[str, str, str]]:
    return [("fsm", w, m) for (w, m), n in counts.items() for _ in range(n)]


def test_round_to_is_the_10_5_rounding() -> None:
    assert [round_to(v, 5) for v in (10, 12, 13, 17, 18, 22, 23)] == [10, 10, 15, 15, 20, 20, 25]


def test_the_attacker_recovers_a_cell_protected_by_primary_suppression_alone() -> None:
    # one ward-month holds 3 children; its row totals are published: subtraction finds it
    counts = count_units(
        _units(
            {
                ("E05900001", "2026-01"): 3,
                ("E05900001", "2026-02"): 40,
                ("E05900002", "2026-01"): 30,
                ("E05900002", "2026-02"): 35,
                ("E05900003", "2026-01"): 25,
                ("E05900003", "2026-02"): 20,
            }
        ),
        ["fsm"],
        AREAS,
        MONTHS,
    )
    naive = {k: (None if v < 10 else round_to(v, 5)) for k, v in counts.items()}
    ranges = recover(_csv(naive, AREAS, ["fsm"], MONTHS))
    cell = ("fsm", "ward", "E05900001", "2026-01")
    low, high = ranges[cell]
    assert high - low < 10  # pinned to a narrow range: a disclosure
    assert low <= 3 <= high

    protected = protect(counts, relations(["fsm"], AREAS, MONTHS))
    assert Cell("fsm", "ward", "E05900001", "2026-01") in protected.primary
    assert protected.secondary  # the totals forced more suppression
    ranges = recover(_csv(protected.published, AREAS, ["fsm"], MONTHS))
    assert ranges and all(high - low >= 10 for low, high in ranges.values()), ranges


@pytest.mark.parametrize("seed", [1, 2])
def test_the_attacker_fails_on_random_protected_tables(seed: int) -> None:
    rng = random.Random(seed)
    wards = {f"E0590{i:04d}": f"E0900{i % 3:04d}" for i in range(7)}
    areas = Areas(wards)
    months = month_range("2026-01", "2026-04")
    indicators = ["a", "b"]
    weights = [rng.random() ** 3 for _ in wards]
    units = [
        (rng.choice(indicators), rng.choices(list(wards), weights)[0], rng.choice(months))
        for _ in range(rng.randint(60, 700))
    ]
    counts = count_units(units, indicators, areas, months)
    protected = protect(counts, relations(indicators, areas, months))
    published = [v for v in protected.published.values() if v is not None]
    assert all(v >= 10 and v % 5 == 0 for v in published)
    assert protected.report()["passed"]
    ranges = recover(_csv(protected.published, areas, indicators, months))
    assert len(ranges) == len(protected.suppressed)
    for cell, (low, high) in ranges.items():
        assert high - low >= 10, (cell, low, high)
        assert not (low == high and low < 10)
    # even an attacker who assumes every suppressed count is small learns no exact value
    for low, high in recover(_csv(protected.published, areas, indicators, months), 200).values():
        assert high - low >= 10


def test_cell_key_perturbation_is_consistent_and_still_protected() -> None:
    rng = random.Random(7)
    residents = [f"r-{i}" for i in range(400)]
    units = [(r, rng.choice(list(AREAS.ward_to_la)), rng.choice(MONTHS)) for r in residents]
    counts = count_units([("fsm", w, m) for _, w, m in units], ["fsm"], AREAS, MONTHS)
    memberships = []
    for resident, ward, month in units:
        la = AREAS.ward_to_la[ward]
        for m in (month, "all"):
            memberships += [
                (Cell("fsm", "ward", ward, m), resident),
                (Cell("fsm", "local_authority", la, m), resident),
                (Cell("fsm", "region", "region", m), resident),
            ]
    perturbed = perturb(memberships, counts.keys())
    assert perturbed == perturb(list(reversed(memberships)), counts.keys())  # repeatable
    assert all(abs(perturbed[k] - v) <= MAX_NOISE for k, v in counts.items() if v >= 10)
    rule = DisclosureRule(method="cell-key", max_perturbation=MAX_NOISE)
    protected = protect(counts, relations(["fsm"], AREAS, MONTHS), rule, perturbed)
    assert all(v is None or v >= 10 for v in protected.published.values())
    assert protected.report()["passed"]


def test_protect_refuses_a_broken_table() -> None:
    a, b = Cell("x", "ward", "w", "m"), Cell("x", "region", "r", "m")
    with pytest.raises(DisclosureError, match="does not exist"):
        protect({a: 3}, [Relation(b, (a,))])
    with pytest.raises(DisclosureError, match="negative"):
        protect({a: -1, b: -1}, [Relation(b, (a,))])
    with pytest.raises(DisclosureError, match="perturbed"):
        protect({a: 1}, [], DisclosureRule(method="cell-key"))


def test_a_table_with_nothing_published_is_unbounded_everywhere() -> None:
    counts = count_units([("fsm", "E05900001", "2026-01")], ["fsm"], AREAS, MONTHS)
    protected = protect(counts, relations(["fsm"], AREAS, MONTHS))
    assert all(v is None for v in protected.published.values())
    assert all(math.isinf(b.high) for b in protected.bounds)
