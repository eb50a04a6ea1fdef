"""Build the table of a release from its definition: an indicator aggregate (governed reads,
counts, disclosure control) or a regional non-personal dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from joinedup.governance.processing import ServiceActor
from joinedup.publish.aggregate import (
    ALL_MONTHS,
    LOCAL_AUTHORITY,
    REGION,
    WARD,
    Areas,
    Cell,
    count_units,
    grid,
    month_range,
    relations,
)
from joinedup.publish.definitions import DatasetPublication, IndicatorAggregate
from joinedup.publish.disclosure import DisclosureRule, protect
from joinedup.publish.formats import open_fields
from joinedup.publish.inputs import flag_units, read_open_dataset
from joinedup.publish.perturbation import MAX_NOISE, perturb
from joinedup.standards import field_names, load_schema

Progress = Callable[[float, str], None]

AGGREGATE_PRIMARY_KEY = ["indicator", "area_type", "area_code", "month"]


@dataclass
class BuiltTable:
    table: pa.Table
    fields: list[dict[str, Any]]
    primary_key: list[str]
    disclosure: dict[str, Any] | None
    sources: dict[str, Any]


def aggregate_fields(threshold: int) -> list[dict[str, Any]]:
    return [
        {"name": "indicator", "type": "string", "title": "Indicator rule id"},
        {"name": "indicator_name", "type": "string", "title": "Indicator"},
        {
            "name": "area_type",
            "type": "string",
            "title": "Area type",
            "constraints": {"enum": ["ward", "local_authority", "region"]},
        },
        {
            "name": "area_code",
            "type": "string",
            "title": "Area code",
            "description": "ONS GSS code of the ward (E05…) or local authority (E09…); "
            "'region' for the whole region. Synthetic codes start E059/E019.",
        },
        {
            "name": "local_authority_code",
            "type": "string",
            "title": "Local authority code",
            "description": "The local authority a ward lies in (its own code for an authority; "
            "empty for the region).",
        },
        {
            "name": "month",
            "type": "string",
            "title": "Month",
            "description": "YYYY-MM: the month of the latest record the flag rests on; 'all' "
            "for the total over every month.",
            "constraints": {"pattern": r"^(\d{4}-\d{2}|all)$"},
        },
        {
            "name": "count",
            "type": "integer",
            "title": "Residents",
            "description": "Residents counted (each once per indicator); empty when suppressed.",
            "constraints": {"minimum": threshold},
        },
        {
            "name": "suppressed",
            "type": "boolean",
            "title": "Suppressed",
            "description": "True when the count is withheld (under the threshold, or so that "
            "no withheld count can be worked out from the totals).",
        },
    ]


def aggregate_table(
    cells: list[Cell],
    published: dict[Any, int | None],
    areas: Areas,
    names: dict[str, str] | None = None,
) -> pa.Table:
    """The published rows, one per cell, in the columns of :func:`aggregate_fields`."""
    names = names or {}
    text: dict[str, list[str | None]] = {
        "indicator": [],
        "indicator_name": [],
        "area_type": [],
        "area_code": [],
        "local_authority_code": [],
        "month": [],
    }
    for cell in cells:
        text["indicator"].append(cell.indicator)
        text["indicator_name"].append(names.get(cell.indicator, cell.indicator))
        text["area_type"].append(cell.area_type)
        text["area_code"].append(cell.area_code)
        parent = {WARD: areas.ward_to_la.get(cell.area_code), LOCAL_AUTHORITY: cell.area_code}
        text["local_authority_code"].append(parent.get(cell.area_type))
        text["month"].append(cell.month)
    counts = [published[c] for c in cells]
    return pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in text.items()},
            "count": pa.array(counts, pa.int64()),
            "suppressed": pa.array([c is None for c in counts], pa.bool_()),
        }
    )


def build_aggregate(
    settings: Any,
    definition: IndicatorAggregate,
    actor: ServiceActor,
    progress: Progress,
    today: date | None = None,
) -> BuiltTable:
    from joinedup.insight.rules import load_rules

    names = {r.id: r.name for r in load_rules()}
    progress(0.1, "Reading the flags (governed)")
    units = flag_units(settings, actor, list(definition.indicators), today=today)
    months = sorted({u[2] for u in units.units})
    months = month_range(months[0], months[-1]) if months else []
    areas = Areas(units.ward_to_la)
    indicators = list(definition.indicators)
    counts = count_units(((i, w, m) for i, w, m, _ in units.units), indicators, areas, months)
    rels = relations(indicators, areas, months)
    sdc = definition.disclosure
    perturbed = None
    rule = DisclosureRule(threshold=sdc.threshold, base=sdc.rounding_base)
    if sdc.perturbation == "cell-key":
        rule = DisclosureRule(
            threshold=sdc.threshold,
            base=sdc.rounding_base,
            method="cell-key",
            max_perturbation=MAX_NOISE,
        )
        memberships = []
        for indicator, ward, month, resident in units.units:
            la = areas.ward_to_la[ward]
            for m in (month, ALL_MONTHS):
                memberships += [
                    (Cell(indicator, WARD, ward, m), resident),
                    (Cell(indicator, LOCAL_AUTHORITY, la, m), resident),
                    (Cell(indicator, REGION, areas.region_code, m), resident),
                ]
        perturbed = perturb(memberships, counts.keys(), sdc.threshold)
    progress(0.5, "Disclosure control")
    protected = protect(counts, rels, rule, perturbed)
    table = aggregate_table(grid(indicators, areas, months), protected.published, areas, names)
    report = protected.report()
    report["counted"] = len(units.units)
    report["left_out"] = units.dropped
    return BuiltTable(
        table=table,
        fields=aggregate_fields(sdc.threshold),
        primary_key=AGGREGATE_PRIMARY_KEY,
        disclosure=report,
        sources={
            "insight_run": units.insight_run,
            "flags_read": units.flags_read,
            "datasets": units.datasets,
            "months": [months[0], months[-1]] if months else [],
            "wards": len(units.ward_to_la),
        },
    )


def dataset_fields(standard: str) -> list[dict[str, Any]]:
    return [
        {"name": "organisation", "type": "string", "title": "Organisation code"},
        {"name": "organisation_name", "type": "string", "title": "Organisation"},
        *open_fields(load_schema(standard)["fields"]),
    ]


def build_dataset(
    settings: Any, definition: DatasetPublication, actor: ServiceActor, progress: Progress
) -> BuiltTable:
    progress(0.2, f"Reading every {definition.standard} dataset")
    table, versions = read_open_dataset(
        settings, definition.standard, actor, field_names(definition.standard)
    )
    return BuiltTable(
        table=table,
        fields=dataset_fields(definition.standard),
        primary_key=[],
        disclosure=None,
        sources={"datasets": versions},
    )
