"""What the analysts' dashboard shows: trend rows, series, the choropleth and the CSV files.

The figures come from the latest area run's snapshots (counts, no personal data); the web
pages, the JSON API and the CLI call these functions. CSV cells that a spreadsheet would run
as a formula are written as text (OWASP CSV injection).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.insight.areas import LEVEL_NAMES, LEVEL_PLURALS, check_level
from joinedup.insight.boundaries import area_names, feature_collection
from joinedup.insight.trends import latest_area_run
from joinedup.store import SnapshotStore, duckdb_session

TREND_COLUMNS = (
    "rule_id",
    "month",
    "level",
    "area_code",
    "area_name",
    "parent_lad",
    "flags",
    "residents",
    "rate_per_1000",
    "data_month",
)
#: A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class NoAreaRun(JoinedupError, LookupError):
    """No area run yet."""

    status = 404


@dataclass(frozen=True)
class TrendQuery:
    rule: str | None = None
    level: str | None = None
    month: str | None = None
    area: str | None = None


def area_run_summary(settings: Settings) -> dict[str, Any]:
    run = latest_area_run(settings)
    if run is None:
        raise NoAreaRun("no area run yet: run `joinedup insight areas`")
    return {
        "area_run": run.id,
        "linkage_run": run.linkage_run_id,
        "first_month": run.first_month,
        "last_month": run.last_month,
        "months": list(run.details.get("months") or []),
        "rules": run.rules,
        "gazetteer": run.details.get("gazetteer"),
        "created_at": run.created_at.isoformat() if run.created_at else None,
    }


def trend_rows(settings: Settings, query: TrendQuery) -> list[dict[str, Any]]:
    """Rows of the latest trends snapshot matching the query, with area names."""
    run = latest_area_run(settings)
    if run is None:
        raise NoAreaRun("no area run yet: run `joinedup insight areas`")
    where, params = ["TRUE"], []
    if query.level:
        check_level(query.level)
    for column, value in (
        ("rule_id", query.rule),
        ("level", query.level),
        ("month", query.month),
        ("area_code", query.area),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    with duckdb_session(settings) as con:
        cursor = con.execute(
            f"SELECT rule_id, month, level, area_code, parent_lad, flags, residents, "
            f"rate_per_1000, data_month FROM "
            f"{SnapshotStore(settings).sql_source(run.trends_sha256)} "
            f"WHERE {' AND '.join(where)} ORDER BY rule_id, level, area_code, month",
            params,
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    labels = area_names(settings)
    for row in rows:
        row["area_name"] = labels.get(row["area_code"], row["area_code"])
    return rows


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return out.getvalue()


def line_spec(rows: list[dict[str, Any]], rule_name: str, measure: str) -> dict[str, Any]:
    """Vega-Lite: the measure per month, one line per area."""
    title = "Flagged residents" if measure == "flags" else "Flagged per 1,000 residents known"
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": f"{rule_name}: {title.lower()} by month",
        "width": "container",
        "height": 260,
        "data": {
            "values": [
                {"month": r["month"] + "-01", "area": r["area_name"], "value": r[measure]}
                for r in rows
            ]
        },
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {
                "field": "month",
                "type": "temporal",
                "timeUnit": "yearmonth",
                "title": "Month",
                "axis": {"format": "%b %Y", "labelAngle": 0, "labelOverlap": True},
            },
            "y": {"field": "value", "type": "quantitative", "title": title},
            # under the chart, so the lines keep the width on a phone
            "color": {
                "field": "area",
                "type": "nominal",
                "title": "Area",
                "legend": {"orient": "bottom", "direction": "vertical"},
            },
            "tooltip": [
                {"field": "area", "title": "Area"},
                {"field": "month", "title": "Month", "timeUnit": "yearmonth", "format": "%B %Y"},
                {"field": "value", "title": title},
            ],
        },
    }


#: Areas on a map are named on it up to this many; beyond, the names would overlap (the
#: table beside the map and each area's tooltip still name them).
MAX_MAP_LABELS = 40


def label_point(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """Where to write an area's name: the centroid of its largest polygon's outer ring
    (the vertex mean if that ring has no area)."""
    polygons = (
        [geometry["coordinates"]]
        if geometry.get("type") == "Polygon"
        else geometry.get("coordinates") or []
    )
    best: tuple[float, float, list[list[float]]] | None = None
    for rings in polygons:
        ring = rings[0] if rings else []
        twice = sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))
        if ring and (best is None or abs(twice) > abs(best[0])):
            best = (twice, abs(twice), ring)
    if best is None:
        return None
    twice, _, ring = best
    if not twice:
        return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    cross = [(a, b, a[0] * b[1] - b[0] * a[1]) for a, b in itertools.pairwise(ring)]
    cx = sum((a[0] + b[0]) * c for a, b, c in cross)
    cy = sum((a[1] + b[1]) * c for a, b, c in cross)
    return cx / (3 * twice), cy / (3 * twice)


def has_figures(values: Iterable[Any]) -> bool:
    """Whether a chart would have anything to draw: some value is a number (a chart of only
    suppressed or missing figures has no scale, and Vega draws an axis of 0.000000)."""
    return any(v is not None for v in values)


def choropleth_spec(
    settings: Settings, rows: list[dict[str, Any]], level: str, measure: str
) -> dict[str, Any] | None:
    """Vega-Lite geoshape of the level's loaded boundaries coloured by the measure, the
    legend from 0, each area named on the map (up to :data:`MAX_MAP_LABELS`) and in its
    tooltip; ``None`` when no boundaries of that level are loaded."""
    values = {r["area_code"]: r for r in rows}
    collection = feature_collection(settings, level, set(values))
    if not collection["features"]:
        return None
    labels = []
    for feature in collection["features"]:
        properties = feature["properties"]
        row = values.get(properties["code"], {})
        properties["value"] = row.get(measure)
        properties["flags"] = row.get("flags")
        point = label_point(feature["geometry"])
        if point is not None:
            labels.append({"name": properties["name"], "lon": point[0], "lat": point[1]})
    title = "Flagged residents" if measure == "flags" else "Flagged per 1,000"
    shapes: dict[str, Any] = {
        "data": {"values": collection["features"], "format": {"type": "json"}},
        "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.5},
        "encoding": {
            "color": {
                "field": "properties.value",
                "type": "quantitative",
                "title": title,
                "scale": {"scheme": "blues", "domainMin": 0},
            },
            "tooltip": [
                {"field": "properties.name", "title": LEVEL_NAMES[level]},
                {"field": "properties.code", "title": "Code"},
                {"field": "properties.value", "title": title},
            ],
        },
    }
    where = {
        "longitude": {"field": "lon", "type": "quantitative"},
        "latitude": {"field": "lat", "type": "quantitative"},
        "text": {"field": "name", "type": "nominal"},
    }
    text = {"type": "text", "fontSize": 12, "fontWeight": "bold"}
    # a white halo under black text: readable on the lightest and the darkest blue
    halo = {"mark": {**text, "color": "#ffffff", "stroke": "#ffffff", "strokeWidth": 4}}
    names = [
        {"data": {"values": labels}, **halo, "encoding": where},
        {"data": {"values": labels}, "mark": {**text, "color": "#0b0c0c"}, "encoding": where},
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": f"{LEVEL_PLURALS[level]} coloured by {title.lower()}",
        "width": "container",
        "height": 360,
        "projection": {"type": "mercator"},
        "layer": [shapes, *names] if 0 < len(labels) <= MAX_MAP_LABELS else [shapes],
    }


def impact_spec(series: list[dict[str, Any]], start_month: str, title: str) -> dict[str, Any]:
    """Vega-Lite: the intervention area's mean against the comparison areas', by data month,
    with a rule at the start month."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": f"{title}: intervention area against comparison areas",
        "width": "container",
        "height": 260,
        "layer": [
            {
                "data": {"values": [{**p, "month": p["month"] + "-01"} for p in series]},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {
                        "field": "month",
                        "type": "temporal",
                        "timeUnit": "yearmonth",
                        "title": "Month of the data",
                    },
                    "y": {"field": "mean", "type": "quantitative", "title": f"Average {title}"},
                    "color": {
                        "field": "group",
                        "type": "nominal",
                        "title": "Areas",
                        "legend": {"orient": "bottom", "direction": "vertical"},
                    },
                },
            },
            {
                "data": {"values": [{"month": start_month + "-01"}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#505a5f"},
                "encoding": {"x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth"}},
            },
        ],
    }
