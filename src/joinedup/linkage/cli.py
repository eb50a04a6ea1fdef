"""Linkage commands: ``joinedup linkage build|evaluate`` over the hub's data, and the standalone
``joinedup match`` and ``joinedup dedupe`` over an analyst's own files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from joinedup.clikit import acting_as, console, err, fail, progress_bar, run_job
from joinedup.config import load_settings

if TYPE_CHECKING:
    from joinedup.governance.access import Actor
    from joinedup.linkage.explain import Queue, ResidentView


linkage_app = typer.Typer(
    help="Build and evaluate the resident index (probabilistic linkage with Splink).",
    no_args_is_help=True,
)

STANDALONE_NOTE = (
    "It reads files you already hold, on this machine: nothing is read from the hub, so the "
    "hub's sharing agreements and audit log do not apply. You are responsible for the files."
)


def _print_metrics(summary: dict[str, object], title: str = "Linkage against the truth") -> None:
    table = Table(title=title)
    table.add_column("Measure")
    table.add_column("Value", justify="right")
    for key, value in summary.items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)


@linkage_app.command("build")
def build(
    threshold: Annotated[
        float, typer.Option(help="Match probability at or above which records are linked.")
    ] = 0.9,
    truth: Annotated[
        Path | None, typer.Option(help="Also evaluate against this truth/records.parquet.")
    ] = None,
) -> None:
    """Link every person record the linkage purpose allows into residents and households.

    Runs as a job (reads are decided and audited as the hub, purpose 'linkage'; residents who
    objected are left out)."""
    params: dict[str, object] = {"threshold": threshold}
    if truth is not None:
        params["truth"] = str(truth)
    result = run_job(
        load_settings(), "linkage.build", params, "the linkage job failed", bar="Linking residents"
    )
    console.print(
        f"Run {result.get('run')}: {result.get('records'):,} records → "
        f"{result.get('residents'):,} residents in {result.get('households'):,} households "
        f"(model {result.get('model_version')}, {result.get('pairs_for_review'):,} pairs "
        "in the review band)"
    )
    _print_moves(result)
    if "pairwise_f1" in result:
        _print_metrics(
            {
                k: v
                for k, v in result.items()
                if k.startswith(("pairwise", "bcubed", "exact", "twin"))
            }
        )


def _print_moves(result: dict[str, object]) -> None:
    moves = result.get("id_moves")
    if isinstance(moves, dict) and any(moves.values()):
        console.print(
            "Resident ids: "
            + ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in moves.items())
        )


@linkage_app.command("update")
def update(
    truth: Annotated[
        Path | None, typer.Option(help="Also evaluate against this truth/records.parquet.")
    ] = None,
) -> None:
    """Link new and changed records into the latest index, keeping every resident's id.

    Datasets with a new version are read again (decided and audited); the others' records are
    reused from the index after their agreements are checked again. Only new and changed
    records are scored, with the latest model. Run `joinedup linkage build` to retrain and
    re-score everything (which also finds splits)."""
    params: dict[str, object] = {"truth": str(truth)} if truth is not None else {}
    result = run_job(
        load_settings(),
        "linkage.update",
        params,
        "the linkage update failed",
        bar="Updating the resident index",
    )
    delta = result.get("delta") or {}
    assert isinstance(delta, dict)
    if result.get("kind") == "unchanged":
        console.print(f"Run {result.get('run')} is up to date: nothing has changed.")
        return
    console.print(
        f"Run {result.get('run')}: {delta.get('records_new', 0):,} new, "
        f"{delta.get('records_changed', 0):,} changed and {delta.get('records_removed', 0):,} "
        f"removed records → {result.get('residents'):,} residents in "
        f"{result.get('households'):,} households"
    )
    _print_moves(result)
    if "pairwise_f1" in result:
        _print_metrics({k: v for k, v in result.items() if k.startswith(("pairwise", "twin"))})


@linkage_app.command("ids")
def ids(
    resident: Annotated[
        str | None, typer.Option(help="Only the moves of this resident id.")
    ] = None,
    run: Annotated[int | None, typer.Option(help="Only the moves of this run.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How runs moved resident ids: merges, splits and retirements, with their evidence."""
    from joinedup.linkage.history import id_events

    events = id_events(load_settings(), resident_id=resident, run_id=run, limit=limit)
    if as_json:
        console.print_json(json.dumps(events))
        return
    if not events:
        console.print("No resident ids have moved.")
        return
    table = Table(title="Resident id moves")
    for column in ("Run", "Move", "Resident", "Related", "Records", "Evidence"):
        table.add_column(column)
    for event in events:
        evidence = event["evidence"]
        table.add_row(
            str(event["run"]),
            str(event["kind"]),
            str(event["resident_id"]),
            ", ".join(event["related"]),
            str(event["records"]),
            f"{evidence.get('verdict', '')} ({evidence.get('match_weight', '')})"
            if evidence
            else "",
        )
    console.print(table)


@linkage_app.command("evaluate")
def evaluate(
    truth: Annotated[
        Path | None,
        typer.Option(help="Ground truth: a synthetic region's truth/records.parquet."),
    ] = None,
    labels: Annotated[
        list[Path] | None,
        typer.Option(
            help="Labelled file (CSV or Parquet): one row per record, its id and its true "
            "entity. Give it twice with --pairs for a link of two files (left, then right)."
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Id column of the labels; several comma-separated make one key (for the "
            "hub's index: record_key, or organisation,dataset,source_record_id)."
        ),
    ] = None,
    entity_column: Annotated[
        str | None, typer.Option(help="Column of the labels holding the true entity.")
    ] = None,
    clusters: Annotated[
        Path | None,
        typer.Option(
            help="A clustering to judge: `joinedup dedupe` output (record_id,cluster_id)."
        ),
    ] = None,
    pairs: Annotated[
        Path | None,
        typer.Option(
            help="Scored pairs to judge: `joinedup match` output "
            "(left_id,right_id,match_probability)."
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="With --pairs: keep pairs at or above this probability (all)."),
    ] = None,
    run: Annotated[int | None, typer.Option(help="Linkage run to evaluate (latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Precision, recall and F1 (pairwise, and B-cubed where there are clusters).

    Against a synthetic region's truth (--truth: the hub's index, with exact clusters and
    false merges of twins and junior/senior pairs), or against any labelled file (--labels
    with --id-column and --entity-column): the hub's index (--run, or the latest), a
    `joinedup dedupe` clustering (--clusters) or `joinedup match` pairs (--pairs)."""
    from joinedup.linkage.evaluate import (
        LinkMetrics,
        evaluate_clusters,
        evaluate_pairs,
        evaluate_run,
        evaluate_run_labels,
    )

    if (truth is None) == (not labels):
        raise fail("give either --truth or --labels")
    if truth is not None and (clusters or pairs):
        raise fail("--clusters and --pairs are judged against --labels, not --truth")
    if clusters and pairs:
        raise fail("give --clusters or --pairs, not both")
    result: Any
    if truth is not None:
        result = evaluate_run(load_settings(), truth, run)
    else:
        assert labels
        if not id_column or not entity_column:
            raise fail("--labels needs --id-column and --entity-column")
        ids = [c.strip() for c in id_column.split(",") if c.strip()]
        if len(labels) > 1 and not pairs:
            raise fail("two --labels files are for a link: judge it with --pairs")
        if clusters:
            result = evaluate_clusters(
                labels[0], clusters, id_columns=ids, entity_column=entity_column
            )
        elif pairs:
            result = evaluate_pairs(
                labels,
                pairs,
                id_columns=ids,
                entity_column=entity_column,
                threshold=threshold,
            )
        else:
            result = evaluate_run_labels(
                load_settings(),
                labels[0],
                id_columns=ids,
                entity_column=entity_column,
                run_id=run,
            )
    if as_json:
        console.print_json(json.dumps(result.to_dict()))
        return
    if isinstance(result, LinkMetrics):
        _print_metrics(
            {
                "left records": result.left_records,
                "right records": result.right_records,
                "true pairs": result.true_pairs,
                "predicted pairs": result.predicted_pairs,
                "correct pairs": result.correct_pairs,
                **result.summary(),
            },
            "Link against the labels",
        )
        return
    figures = {
        "records": result.records,
        "persons (truth)": result.persons,
        "clusters": result.clusters,
        **result.summary(),
        "bcubed_precision": round(result.bcubed_precision, 4),
        "bcubed_recall": round(result.bcubed_recall, 4),
    }
    if truth is None:
        for key in list(figures):
            if key.startswith("twin_junior_senior"):
                del figures[key]
    _print_metrics(figures, "Linkage against the truth" if truth else "Linkage against the labels")


review_app = typer.Typer(
    help="Clerical review of uncertain pairs (as an analyst, under the purpose 'linkage').",
    no_args_is_help=True,
)
linkage_app.add_typer(review_app, name="review")

AsUser = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="JOINEDUP_USER",
        help="The analyst you act as (username; or set JOINEDUP_USER). Audited under the "
        "purpose 'linkage'.",
    ),
]


def _reviewer(username: str) -> Actor:
    """The acting analyst as the access gateway's actor, under the linkage purpose."""
    from joinedup.linkage.review import REVIEW_PURPOSE, REVIEWER_ROLES

    return acting_as(
        load_settings(),
        username,
        REVIEW_PURPOSE,
        REVIEWER_ROLES,
        refusal="only analysts review matches",
    )


@review_app.command("list")
def review_list(
    as_user: AsUser,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Pairs to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The review queue: pairs of the latest run's review band without a decision, most
    uncertain first (record keys, weight, probability; no personal values)."""
    from joinedup.linkage.explain import review_queue

    _reviewer(as_user)
    queue = review_queue(load_settings(), 1, limit)
    rows = _queue_keys(queue)
    if as_json:
        console.print_json(
            json.dumps({"run": queue.run.id, "waiting": queue.waiting, "pairs": rows})
        )
        return
    table = Table(title=f"Review queue of run {queue.run.id}: {queue.waiting:,} waiting")
    for column in ("pair", "record_key_l", "record_key_r", "match_weight", "probability"):
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(
            row["pair"],
            row["record_key_l"],
            row["record_key_r"],
            f"{row['match_weight']:+.2f}",
            f"{row['match_probability']:.3f}",
        )
    console.print(table)


def _queue_keys(queue: Queue) -> list[dict[str, Any]]:
    """The queue's pairs with their record keys (the CLI's decide takes keys)."""
    from joinedup.linkage.explain import pair_evidence

    settings = load_settings()
    out: list[dict[str, Any]] = []
    for item in queue.items:
        evidence = pair_evidence(settings, item.pair)
        out.append(
            {
                "pair": item.pair,
                "record_key_l": evidence.record_key_l,
                "record_key_r": evidence.record_key_r,
                "match_weight": round(item.match_weight, 4),
                "match_probability": round(item.match_probability, 4),
            }
        )
    return out


@review_app.command("decide")
def review_decide(
    key_l: Annotated[str, typer.Argument(help="A record key: organisation/dataset/record id.")],
    key_r: Annotated[str, typer.Argument(help="The other record key.")],
    decision: Annotated[str, typer.Argument(help="match or non-match.")],
    as_user: AsUser,
    note: Annotated[str, typer.Option(help="What you checked (500 characters at most).")] = "",
) -> None:
    """Record that two records are the same person (match) or not (non-match). The latest
    decision on a pair wins; every later build applies it."""
    from joinedup.linkage.explain import get_run, record_exists
    from joinedup.linkage.review import record_decision

    actor = _reviewer(as_user)
    settings = load_settings()
    run = get_run(settings)
    for key in (key_l, key_r):
        if not record_exists(settings, key):
            raise fail("a record key is not in the latest linkage run")
    recorded = record_decision(
        settings,
        actor,
        key_l,
        key_r,
        decision,
        note,
        run_id=run.id,
    )
    console.print(
        f"Recorded {recorded.decision} on {recorded.pair} (decision {recorded.id}); "
        "the next build applies it."
    )


@linkage_app.command("resident")
def resident(
    resident_id: Annotated[str, typer.Argument(help="A resident id, for example r-1a2b….")],
    as_user: AsUser,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Why a resident's records were joined: the records (read through the policy, audited),
    the household, the scored pairs among them with each comparison's level and weight, and
    reviewers' decisions."""
    from joinedup.linkage.explain import explain_resident

    actor = _reviewer(as_user)
    view = explain_resident(load_settings(), actor, resident_id)
    data = _resident_dict(view)
    if as_json:
        console.print_json(json.dumps(data, default=str))
        return
    console.print(f"[bold]Resident {view.resident_id}[/] in household {view.household_id}")
    if view.household:
        console.print("Household: " + ", ".join(view.household))
    records = Table(title="Source records")
    for column in ("record", "version", "name", "date of birth", "postcode"):
        records.add_column(column, overflow="fold")
    for r in view.records:
        v = r.values or {}
        name = " ".join(x for x in (v.get("given_name"), v.get("family_name")) if x)
        records.add_row(
            r.record_key,
            str(r.version),
            name or (r.withheld or ""),
            v.get("date_of_birth", ""),
            v.get("postcode", ""),
        )
    console.print(records)
    links = Table(title="Why: scored pairs among the records")
    for column in ("records", "weight", "probability", "status", "levels"):
        links.add_column(column, overflow="fold")
    for e in view.links:
        status = e.decision or ("linked" if e.links else "below threshold")
        levels = "; ".join(f"{s.title}: {s.level}" for s in e.steps if s.gamma != -1)
        links.add_row(
            f"{e.record_key_l} + {e.record_key_r}",
            f"{e.match_weight:+.2f}",
            f"{e.match_probability:.3f}",
            status,
            levels,
        )
    console.print(links)


def _resident_dict(view: ResidentView) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(view)
    data["run"] = {"id": data["run"]["id"], "model_version": data["run"]["model_version"]}
    for record in data["records"]:
        record.pop("resident_id", None)
    return dict(data)


def match(
    left: Annotated[Path, typer.Argument(help="First file (CSV, XLSX, JSON, Parquet).")],
    right: Annotated[Path, typer.Argument(help="Second file.")],
    out: Annotated[
        Path, typer.Option("--out", help="CSV to write: left_id,right_id,match_probability.")
    ],
    id_left: Annotated[
        str | None, typer.Option(help="Id column of LEFT (else detected or row number).")
    ] = None,
    id_right: Annotated[str | None, typer.Option(help="Id column of RIGHT.")] = None,
    map_left: Annotated[
        list[str] | None, typer.Option(help="COL=FIELD: map a LEFT column to a person field.")
    ] = None,
    map_right: Annotated[
        list[str] | None, typer.Option(help="COL=FIELD: map a RIGHT column to a person field.")
    ] = None,
    threshold: Annotated[float, typer.Option(help="Lowest match probability written.")] = 0.9,
) -> None:
    """Find the records of RIGHT that are the same person as records of LEFT.

    Headers are recognised (Forename, first_name, DOB, Post Code, NHS No ...); --map COL=FIELD
    overrides, FIELD being given_name, middle_names, family_name, date_of_birth, sex,
    address_line_1, town, postcode, uprn, nhs_number, upn, ni_number or other_id. Dates may be
    ISO, dd/mm/yyyy or yyyymmdd. The model is trained on the two files (no labels needed)."""
    from joinedup.linkage.standalone import match as do_match

    with progress_bar("Matching") as listener:
        result = do_match(
            left,
            right,
            out,
            id_left=id_left,
            id_right=id_right,
            map_left=map_left,
            map_right=map_right,
            threshold=threshold,
            progress=listener,
        )
    for mapping in result.mappings:
        err.print(mapping.describe())
    console.print(f"Wrote {result.written:,} pairs to {out}")


def dedupe(
    file: Annotated[Path, typer.Argument(help="File to deduplicate (CSV, XLSX, JSON, Parquet).")],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: record_id,cluster_id.")],
    id: Annotated[
        str | None, typer.Option("--id", help="Id column (else detected or row number).")
    ] = None,
    map: Annotated[
        list[str] | None, typer.Option("--map", help="COL=FIELD: map a column to a person field.")
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            help="Match probability to join records: at twice its odds where the file shows "
            "households of different people, at half where it does not (docs/linkage.md)."
        ),
    ] = 0.9,
) -> None:
    """Group the records of FILE that are the same person (cluster_id: the smallest record id
    of the group).

    Headers are recognised as for `joinedup match`; --map COL=FIELD overrides. The model is
    trained on the file (no labels needed)."""
    from joinedup.linkage.standalone import dedupe as do_dedupe

    with progress_bar("Deduplicating") as listener:
        result = do_dedupe(
            file, out, id_column=id, maps=map, threshold=threshold, progress=listener
        )
    for mapping in result.mappings:
        err.print(mapping.describe())
    console.print(f"Wrote {result.written:,} records to {out}")


match.__doc__ = f"{match.__doc__}\n\n    {STANDALONE_NOTE}"
dedupe.__doc__ = f"{dedupe.__doc__}\n\n    {STANDALONE_NOTE}"


def register(app: typer.Typer) -> None:
    """Add the linkage commands to the ``joinedup`` app."""
    app.add_typer(linkage_app, name="linkage")
    app.command("match")(match)
    app.command("dedupe")(dedupe)
