"""Area commands: ``joinedup areas load-boundaries|boundaries`` and ``joinedup insight
areas|trends|impact|fairness``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from joinedup.clikit import console, fail, run_job
from joinedup.config import load_settings

areas_app = typer.Typer(help="Area boundaries (LSOA, ward, local authority).", no_args_is_help=True)
impact_app = typer.Typer(
    help="Interventions and their impact (difference in differences).", no_args_is_help=True
)


@areas_app.command("load-boundaries")
def load_boundaries_cmd(
    file: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection (WGS84).")],
    level: Annotated[str, typer.Option(help="lsoa, ward or lad.")],
    code_property: Annotated[
        str | None, typer.Option(help="The code property, if not an ONS name (LSOA21CD…).")
    ] = None,
) -> None:
    """Load ONS boundary files (LSOA21CD/NM, WD24CD/NM, LAD24CD/NM…) for the dashboard map."""
    from joinedup.insight.boundaries import load_boundaries

    result = load_boundaries(load_settings(), file, level, "cli", code_property)
    console.print(f"Loaded {result['features']:,} {level} boundaries from {file.name}")


@areas_app.command("boundaries")
def boundaries_cmd() -> None:
    """The boundaries in use per level."""
    from joinedup.insight.boundaries import current_boundaries

    table = Table(title="Area boundaries")
    for column in ("Level", "Features", "File", "Code property", "Loaded"):
        table.add_column(column)
    for level, row in sorted(current_boundaries(load_settings()).items()):
        table.add_row(
            level,
            f"{row.features:,}",
            row.source_filename,
            row.code_property,
            row.created_at.isoformat(timespec="seconds"),
        )
    console.print(table)


def areas_run(
    months: Annotated[int, typer.Option(help="How many of the latest months to count.")] = 24,
    rule: Annotated[list[str] | None, typer.Option(help="Only this rule id.")] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Rule files or folders (default: shipped).")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="A synthetic region's truth: estimate its intervention.")
    ] = None,
) -> None:
    """Count the flags by LSOA, ward and local authority per month (a job): the rules are
    judged again at each month's end over the data held for it, through the governed path."""
    params: dict[str, object] = {"months": months}
    if rule:
        params["rule_ids"] = list(rule)
    if rules:
        params["rules"] = [str(p) for p in rules]
    if truth:
        params["truth"] = str(truth)
    result = run_job(
        load_settings(),
        "insight.areas",
        params,
        "the area run failed",
        bar="Counting flags by area and month",
    )
    print_areas(result)


def print_areas(result: dict[str, Any]) -> None:
    """The area run's flags in its last month per rule, and the impact check if any."""
    first, last = (result.get("months") or ["?", "?"])[:2]
    table = Table(title=f"Area run {result.get('area_run')}: {first} to {last}")
    for column in ("Rule", "Flags in the last month", "Not placed in an LSOA"):
        table.add_column(column, justify="left" if column == "Rule" else "right")
    for r in result.get("rules") or []:
        table.add_row(r["id"], f"{r['flags_last_month']:,}", f"{r['unplaced_last_month']:,}")
    console.print(table)
    impact = result.get("impact")
    if isinstance(impact, dict):
        if "error" in impact:
            console.print(f"Impact of {impact['intervention']}: no estimate ({impact['error']})")
        else:
            console.print(
                f"Impact of {impact['intervention']}: {impact['estimate']:+.2f} flagged children "
                f"per ward (95% CI {impact['ci'][0]:+.2f} to {impact['ci'][1]:+.2f}; "
                f"{impact['treated_areas']} wards against {impact['comparison_areas']}); the "
                f"effect the generator put in, measured the same way: "
                f"{impact['true_effect']:+.2f} "
                f"({'inside' if impact['true_effect_in_ci'] else 'OUTSIDE'} the interval)."
            )


def trends(
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    level: Annotated[str | None, typer.Option(help="lsoa, ward or lad.")] = None,
    month: Annotated[str | None, typer.Option(help="Only this month (YYYY-MM).")] = None,
    area: Annotated[str | None, typer.Option(help="Only this area (GSS code).")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write CSV here instead.")] = None,
) -> None:
    """The latest area run's counts by area and month (table, or CSV with --csv)."""
    from joinedup.insight.dashboard import TREND_COLUMNS, TrendQuery, to_csv, trend_rows

    rows = trend_rows(load_settings(), TrendQuery(rule, level, month, area))
    if csv:
        csv.write_text(to_csv(rows, TREND_COLUMNS), encoding="utf-8")
        console.print(f"Wrote {len(rows):,} rows to {csv}")
        return
    table = Table(title=f"{len(rows):,} rows")
    for column in (
        "rule_id",
        "month",
        "level",
        "area_name",
        "flags",
        "residents",
        "rate_per_1000",
        "data_month",
    ):
        table.add_column(column)
    for r in rows[:500]:
        table.add_row(
            *(
                str(r[c]) if r[c] is not None else ""
                for c in (
                    "rule_id",
                    "month",
                    "level",
                    "area_name",
                    "flags",
                    "residents",
                    "rate_per_1000",
                    "data_month",
                )
            )
        )
    console.print(table)


def fairness(
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    marked: Annotated[bool, typer.Option(help="Only the marked groups.")] = False,
    csv: Annotated[Path | None, typer.Option(help="Write CSV here instead.")] = None,
) -> None:
    """Flag rates by sex, age band and area per rule, with rate ratios (for the DPO)."""
    from joinedup.insight.dashboard import to_csv
    from joinedup.insight.fairness import FAIRNESS_COLUMNS, read_fairness
    from joinedup.insight.trends import latest_area_run

    settings = load_settings()
    run = latest_area_run(settings)
    if run is None:
        raise fail("no area run yet: run `joinedup insight areas`")
    rows = [r for r in read_fairness(settings, run.fairness_sha256, rule) if r.marked or not marked]
    if csv:
        csv.write_text(to_csv([r.to_dict() for r in rows], FAIRNESS_COLUMNS), encoding="utf-8")
        console.print(f"Wrote {len(rows):,} rows to {csv}")
        return
    table = Table(title=f"Fairness check, {run.last_month}")
    for column in (
        "Rule",
        "Dimension",
        "Group",
        "Flagged",
        "Residents",
        "Rate",
        "Rate ratio (95% CI)",
        "",
    ):
        table.add_column(column)
    for r in rows:
        ratio = f"{r.rate_ratio:.2f} ({r.ci_low:.2f}–{r.ci_high:.2f})" if r.rate_ratio else ""
        table.add_row(
            r.rule_id,
            r.dimension,
            r.group,
            str(r.flags),
            str(r.residents),
            f"{100 * r.rate:.2f}%",
            ratio,
            "marked" if r.marked else "",
        )
    console.print(table)


@impact_app.command("define")
def impact_define(
    name: Annotated[str, typer.Option(help="A unique name.")],
    area: Annotated[str, typer.Option(help="GSS code of the intervention area.")],
    start: Annotated[str, typer.Option(help="The month it started (YYYY-MM).")],
    rule: Annotated[str, typer.Option(help="The indicator (rule id) whose flags are the outcome.")],
    outcome: Annotated[str, typer.Option(help="flags or rate.")] = "flags",
    level: Annotated[str, typer.Option(help="Areas compared: lsoa, ward or lad.")] = "ward",
    comparison: Annotated[
        list[str] | None, typer.Option(help="Comparison areas (default: every other area).")
    ] = None,
    description: Annotated[str, typer.Option(help="What was done.")] = "",
) -> None:
    """Define an intervention (validated against the latest area run; audited)."""
    from joinedup.insight.impact import InterventionSpec, define_intervention

    spec = InterventionSpec(
        name, area, start, rule, outcome, level, tuple(comparison or ()), description
    )
    created = define_intervention(load_settings(), spec, "cli")
    console.print(f"Intervention {created['id']}: {created['name']}")


@impact_app.command("list")
def impact_list() -> None:
    """The interventions defined."""
    from joinedup.insight.impact import list_interventions

    console.print_json(json.dumps(list_interventions(load_settings())))


@impact_app.command("estimate")
def impact_estimate(
    intervention: Annotated[str, typer.Argument(help="Intervention id or name.")],
    truth: Annotated[
        Path | None, typer.Option(help="A synthetic region's truth: also the true effect.")
    ] = None,
) -> None:
    """Before/after means and the difference-in-differences estimate with its 95% interval."""
    from joinedup.insight.impact import estimate_impact, true_effect

    settings = load_settings()
    result = estimate_impact(settings, intervention, "cli").to_dict()
    if truth:
        result.update(true_effect(settings, truth, intervention))
    result.pop("series", None)
    console.print_json(json.dumps(result))


def register(app: typer.Typer, insight_app: typer.Typer) -> None:
    app.add_typer(areas_app, name="areas")
    insight_app.command("areas")(areas_run)
    insight_app.command("trends")(trends)
    insight_app.command("fairness")(fairness)
    insight_app.add_typer(impact_app, name="impact")
