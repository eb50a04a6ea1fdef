"""Indicator × area × month counts with their margins: small, pure functions.

The input is one row per counted unit (a resident flagged by an indicator: each resident is
counted once per indicator), with the unit's ward and month. The output is the full grid,
zeros included, at three area levels (ward, local authority, region) and for each month plus
``all`` months, with the relations between the cells (a total is the sum of its parts) that
disclosure control must respect. Nothing here reads data or knows about flags.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from joinedup.publish.disclosure import Relation

ALL_MONTHS = "all"
REGION = "region"
WARD, LOCAL_AUTHORITY = "ward", "local_authority"


@dataclass(frozen=True)
class Cell:
    """One cell of an indicator × area × month table."""

    indicator: str
    area_type: str  # ward | local_authority | region
    area_code: str
    month: str  # YYYY-MM, or "all"


@dataclass(frozen=True)
class Areas:
    """The wards of the region and the local authority each lies in."""

    ward_to_la: Mapping[str, str]
    region_code: str = REGION

    @property
    def local_authorities(self) -> list[str]:
        return sorted(set(self.ward_to_la.values()))

    def wards_of(self, la: str) -> list[str]:
        return sorted(w for w, parent in self.ward_to_la.items() if parent == la)


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive (``YYYY-MM``)."""
    y, m = (int(x) for x in first.split("-"))
    end = tuple(int(x) for x in last.split("-"))
    out = []
    while (y, m) <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _area_cells(indicator: str, areas: Areas, month: str) -> list[Cell]:
    cells = [Cell(indicator, WARD, w, month) for w in sorted(areas.ward_to_la)]
    cells += [Cell(indicator, LOCAL_AUTHORITY, la, month) for la in areas.local_authorities]
    return [*cells, Cell(indicator, REGION, areas.region_code, month)]


def grid(indicators: Sequence[str], areas: Areas, months: Sequence[str]) -> list[Cell]:
    """Every cell of the release, in publication order."""
    return [
        cell
        for indicator in indicators
        for month in [*months, ALL_MONTHS]
        for cell in _area_cells(indicator, areas, month)
    ]


def count_units(
    units: Iterable[tuple[str, str, str]],
    indicators: Sequence[str],
    areas: Areas,
    months: Sequence[str],
) -> dict[Cell, int]:
    """Counts for the whole grid from ``(indicator, ward, month)`` units.

    Units in a ward or month outside the grid, or of another indicator, raise ``ValueError``
    (the caller decides what is in scope)."""
    base: Counter[tuple[str, str, str]] = Counter()
    for indicator, ward, month in units:
        if indicator not in indicators or ward not in areas.ward_to_la or month not in months:
            raise ValueError(f"unit outside the grid: {indicator} {ward} {month}")
        base[(indicator, ward, month)] += 1
    counts = dict.fromkeys(grid(indicators, areas, months), 0)
    for (indicator, ward, month), n in base.items():
        la = areas.ward_to_la[ward]
        for m in (month, ALL_MONTHS):
            counts[Cell(indicator, WARD, ward, m)] += n
            counts[Cell(indicator, LOCAL_AUTHORITY, la, m)] += n
            counts[Cell(indicator, REGION, areas.region_code, m)] += n
    return counts


def relations(indicators: Sequence[str], areas: Areas, months: Sequence[str]) -> list[Relation]:
    """Totals anyone can check: wards add up to their authority, authorities to the region
    (each month and all months), and months add up to ``all`` for every area."""
    out: list[Relation] = []
    for indicator in indicators:
        for month in [*months, ALL_MONTHS]:
            for la in areas.local_authorities:
                out.append(
                    Relation(
                        Cell(indicator, LOCAL_AUTHORITY, la, month),
                        tuple(Cell(indicator, WARD, w, month) for w in areas.wards_of(la)),
                    )
                )
            out.append(
                Relation(
                    Cell(indicator, REGION, areas.region_code, month),
                    tuple(
                        Cell(indicator, LOCAL_AUTHORITY, la, month)
                        for la in areas.local_authorities
                    ),
                )
            )
        for cell in _area_cells(indicator, areas, ALL_MONTHS):
            out.append(
                Relation(
                    cell,
                    tuple(Cell(indicator, cell.area_type, cell.area_code, m) for m in months),
                )
            )
    return out
