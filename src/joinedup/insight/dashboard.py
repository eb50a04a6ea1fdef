"""What the analysts' dashboard shows: trend rows, series, the choropleth and the CSV files.

The figures come from the latest area run's snapshots (counts, no personal data); the web
pages, the JSON API and the CLI call these functions. CSV cells that a spreadsheet would run
as a formula are written as text (OWASP CSV injection).
"""

from __future__ import annotations

import csv
import io
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
                {"month": r["month"], "area": r["area_name"], "value": r[measure]} for r in rows
            ]
        },
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": "Month"},
            "y": {"field": "value", "type": "quantitative", "title": title},
            "color": {"field": "area", "type": "nominal", "title": "Area"},
            "tooltip": [
                {"field": "area", "title": "Area"},
                {"field": "month", "title": "Month"},
                {"field": "value", "title": title},
            ],
        },
    }


def choropleth_spec(
    settings: Settings, rows: list[dict[str, Any]], level: str, measure: str
) -> dict[str, Any] | None:
    """Vega-Lite geoshape of the level's loaded boundaries coloured by the measure; ``None``
    when no boundaries of that level are loaded."""
    values = {r["area_code"]: r for r in rows}
    collection = feature_collection(settings, level, set(values))
    if not collection["features"]:
        return None
    for feature in collection["features"]:
        row = values.get(feature["properties"]["code"], {})
        feature["properties"]["value"] = row.get(measure)
        feature["properties"]["flags"] = row.get("flags")
    title = "Flagged residents" if measure == "flags" else "Flagged per 1,000"
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "description": f"{LEVEL_PLURALS[level]} coloured by {title.lower()}",
        "width": "container",
        "height": 360,
        "data": {"values": collection["features"], "format": {"type": "json"}},
        "projection": {"type": "mercator"},
        "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.5},
        "encoding": {
            "color": {
                "field": "properties.value",
                "type": "quantitative",
                "title": title,
                "scale": {"scheme": "blues"},
            },
            "tooltip": [
                {"field": "properties.name", "title": LEVEL_NAMES[level]},
                {"field": "properties.code", "title": "Code"},
                {"field": "properties.value", "title": title},
            ],
        },
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
                        "title": "Data month",
                    },
                    "y": {"field": "mean", "type": "quantitative", "title": f"Mean {title}"},
                    "color": {"field": "group", "type": "nominal", "title": "Areas"},
                },
            },
            {
                "data": {"values": [{"month": start_month + "-01"}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#505a5f"},
                "encoding": {"x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth"}},
            },
        ],
    }
