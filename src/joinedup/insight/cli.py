"""Insight commands: ``joinedup insight rules|check|run|flags|evaluate``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from joinedup.clikit import acting_as, check_files, console, fail, run_job
from joinedup.config import load_settings

insight_app = typer.Typer(
    help="Indicator rules, flags with reasons and caseworkers' worklists.", no_args_is_help=True
)


@insight_app.command("rules")
def rules_list(
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Rule files or folders (default: shipped).")
    ] = None,
) -> None:
    """List the indicator rules (validated) with their purpose, severity and versions."""
    from joinedup.insight.rules import load_rules

    loaded = load_rules(rules or None)
    table = Table(title="Indicator rules")
    for column in ("Id", "Name", "Purpose", "Severity", "Versions", "Sources"):
        table.add_column(column)
    for r in loaded:
        table.add_row(
            r.id,
            r.name,
            r.purpose,
            r.severity,
            ", ".join(f"{v.version} from {v.effective_from}" for v in r.versions) or "—",
            ", ".join(f"{a} ({s.standard}, {s.organisations})" for a, s in r.sources.items()),
        )
    console.print(table)


@insight_app.command("check")
def check(files: Annotated[list[Path], typer.Argument(help="Rule files to validate.")]) -> None:
    """Validate rule files: unknown fields, sources and expressions are named with the file."""
    from joinedup.insight.rules import load_rule

    check_files(files, load_rule, lambda rule: f"rule {rule.id} ({len(rule.sources)} sources)")


@insight_app.command("run")
def run(
    run_date: Annotated[
        str | None, typer.Option(help="Judge the rules as at this date (YYYY-MM-DD; today).")
    ] = None,
    rule: Annotated[list[str] | None, typer.Option(help="Run only this rule id.")] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Rule files or folders (default: shipped).")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="A synthetic region's truth folder: check the FSM flags.")
    ] = None,
) -> None:
    """Evaluate the rules over the latest resident index and write the flags (a job).

    Each council reads, as a service under each rule's purpose, what the rule needs: its own
    records, and other organisations' only as agreements share them. Reads are audited and
    residents who objected to the purpose are left out."""
    params: dict[str, object] = {}
    if run_date:
        try:
            date.fromisoformat(run_date)
        except ValueError:
            raise fail("--run-date must be a date written YYYY-MM-DD") from None
        params["run_date"] = run_date
    if rule:
        params["rule_ids"] = list(rule)
    if rules:
        params["rules"] = [str(p) for p in rules]
    if truth:
        params["truth"] = str(truth)
    result = run_job(
        load_settings(),
        "insight.run",
        params,
        "the insight run failed",
        bar="Running the indicator rules",
    )
    print_run(result)


def print_run(result: dict[str, object]) -> None:
    """The flags per rule and organisation (counts only), and the FSM check if there is one."""
    rules = result.get("rules") or []
    assert isinstance(rules, list)
    orgs = sorted({o for r in rules for o in r.get("flags_by_organisation", {})})
    table = Table(title=f"Insight run {result.get('run')} as at {result.get('run_date')}")
    table.add_column("Rule")
    table.add_column("Purpose")
    table.add_column("Version")
    for org in orgs:
        table.add_column(org, justify="right")
    table.add_column("Flags", justify="right")
    for r in rules:
        table.add_row(
            r["id"],
            r["purpose"],
            r.get("version_in_force") or "—",
            *(f"{r['flags_by_organisation'].get(o, 0):,}" for o in orgs),
            f"{r['flags']:,}",
        )
    console.print(table)
    if "fsm_precision" in result:
        ev = result.get("fsm_evaluation") or {}
        assert isinstance(ev, dict)
        console.print(
            f"FSM eligible but not registered ({ev.get('month')}): "
            f"{ev.get('flagged_children')} children flagged, {ev.get('true_positives')} truly "
            f"eligible and unregistered of {ev.get('eligible_unregistered')} in the truth. "
            f"Precision {result['fsm_precision']:.3f}, recall {result['fsm_recall']:.3f}; "
            f"recall {result['fsm_recall_discoverable']:.3f} among the "
            f"{ev.get('discoverable')} whose family claims council tax reduction "
            f"({ev.get('missed_not_claiming_ctr')} claim nothing the hub can see). "
            f"{ev.get('cross_borough_school')} found at a school in another borough."
        )


@insight_app.command("flags")
def flags(
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="List the flags this caseworker sees (audited as them)."),
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="The purpose to act under (with --as).")
    ] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    status: Annotated[str, typer.Option(help="open, quiet or all.")] = "open",
    limit: Annotated[int, typer.Option(help="How many flags to list.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts of the latest run's flags per rule and organisation; with --as USER --purpose P,
    that person's worklist (through the same policy decision and audit as the web pages)."""

    from joinedup.governance.access import AccessDenied
    from joinedup.insight.flags import STATUSES, FlagFilter, list_flags
    from joinedup.insight.run import latest_insight_run

    settings = load_settings()
    if as_user is None:
        run_row = latest_insight_run(settings)
        if run_row is None:
            raise fail("no insight run yet: run `joinedup insight run`")
        summary = {
            "run": run_row.id,
            "run_date": run_row.run_date.isoformat(),
            "rules": run_row.rules,
        }
        if as_json:
            console.print_json(json.dumps(summary))
        else:
            print_run(summary)
        return
    if not purpose:
        raise fail("--as needs --purpose (the purpose the person acts under)")
    if status not in STATUSES:
        raise fail(f"--status is one of {', '.join(STATUSES)}")
    actor = acting_as(settings, as_user, purpose, active=False)
    try:
        page = list_flags(
            settings, actor, FlagFilter(rule=rule, status=status, page_size=max(1, limit))
        )
    except AccessDenied as exc:
        raise fail(f"refused: {exc.decision.reason}") from None
    if as_json:
        console.print_json(json.dumps([f.to_dict() for f in page.flags]))
        return
    table = Table(title=f"{page.total:,} {status} flags for {as_user} under {purpose}")
    for column in ("Flag", "Severity", "Rule", "Name", "As at", "Status"):
        table.add_column(column)
    for f in page.flags:
        table.add_row(f.flag_id, f.severity, f.rule_name, f.name, str(f.as_at or ""), f.status)
    console.print(table)


@insight_app.command("evaluate")
def evaluate(
    truth: Annotated[Path, typer.Option(help="A synthetic region's truth folder.")],
    run: Annotated[int | None, typer.Option(help="Insight run (latest).")] = None,
) -> None:
    """Precision and recall of the FSM flags against a synthetic region's truth."""
    from joinedup.insight.evaluate import evaluate_fsm

    result = evaluate_fsm(load_settings(), truth, run)
    console.print_json(json.dumps(result.to_dict()))


def register(app: typer.Typer) -> None:
    from joinedup.insight import cli_areas

    cli_areas.register(app, insight_app)
    app.add_typer(insight_app, name="insight")
