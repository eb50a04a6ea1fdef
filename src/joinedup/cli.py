"""The ``joinedup`` command line: the service's own commands, and each stage's, added from
the stage registry (:mod:`joinedup.stages`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from joinedup import __version__
from joinedup.clikit import CleanErrors, console, err, fail, progress_bar, run_job
from joinedup.config import Settings, load_settings
from joinedup.stages import cli_registrars

app = typer.Typer(
    name="joinedup",
    help="joinedup: a regional data hub for councils and their partners.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=CleanErrors,
)
jobs_app = typer.Typer(help="List, inspect and run jobs.", no_args_is_help=True)
store_app = typer.Typer(help="Check and tidy the data plane's snapshots.", no_args_is_help=True)
mapping_app = typer.Typer(
    help="Draft and check mappings from source files to standards.", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")
app.add_typer(store_app, name="store")
app.add_typer(mapping_app, name="mapping")
for register in cli_registrars():  # each stage adds its commands (joinedup.stages)
    register(app)


def settings() -> Settings:
    return load_settings()


@app.callback()
def main_options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="JOINEDUP_DEBUG",
            help="Show the full traceback when a command fails (for developers).",
        ),
    ] = False,
) -> None:
    """joinedup: a regional data hub for councils and their partners."""


@app.command()
def version() -> None:
    """Print the joinedup version."""
    console.print(__version__)


@app.command()
def init() -> None:
    """Create the home folder and migrate the database (safe to run again)."""
    from joinedup.home import init_home

    s = settings()
    report = init_home(s)
    console.print(f"Home: {report.home}")
    if report.applied and report.previous_revision is not None:
        console.print(
            f"Upgraded the database from revision {report.previous_revision}: "
            f"applied {len(report.applied)} migration(s)"
        )
        for revision, description in report.applied:
            console.print(f"  {revision}  {description}", highlight=False)
    elif report.applied:
        console.print(f"Created the database ({len(report.applied)} migrations)")
    else:
        console.print("The database was already at this release's revision")
    console.print(f"Database at revision {report.revision}")
    if report.stale_temp_removed:
        console.print(f"Removed {report.stale_temp_removed} unfinished temporary file(s)")
    if report.interrupted_jobs:
        console.print(f"Marked {report.interrupted_jobs} interrupted job(s) as failed")


@app.command()
def doctor() -> None:
    """Check the home, its database and migrations, snapshots, free disk, the secret key's
    permissions and the browser and asset builds; print what to fix."""
    from joinedup.doctor import diagnose

    checks = diagnose(settings())
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]FIX[/]" if check.required else "[yellow]--[/]"
        fix = f" → {check.fix}" if check.fix else ""
        console.print(f"{mark}  {check.name}: {check.found}{fix}", highlight=False)
    failed = [c.name for c in checks if c.required and not c.ok]
    if failed:
        raise fail(f"{len(failed)} check(s) need fixing: {', '.join(failed)}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes sharing the port (about one per CPU core; the settings "
            "come from the environment and joinedup.toml).",
        ),
    ] = 1,
    keep_alive: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=3600,
            help="Seconds an idle connection is kept open (default 75): longer than the "
            "reverse proxy keeps its idle connections to the server.",
        ),
    ] = None,
) -> None:
    """Serve the web app and API (http://127.0.0.1:8000 by default)."""
    from joinedup.web.server import KEEP_ALIVE_SECONDS, serve_app

    s = settings()
    serve_app(s, host or s.host, port or s.port, workers, keep_alive or KEEP_ALIVE_SECONDS)


@app.command()
def backup(
    file: Annotated[
        Path, typer.Argument(help="Archive to write (.tar), or `verify` to check one.")
    ],
    archive: Annotated[
        Path | None, typer.Argument(help="With `verify`: the archive to check.")
    ] = None,
) -> None:
    """Save a consistent copy of the catalogue and every snapshot it points to.

    `joinedup backup verify FILE` checks an archive without restoring it: the manifest, every
    snapshot's hash, each table's rows and the audit chain inside it."""
    from joinedup.backup import backup as do_backup
    from joinedup.backup import verify_archive

    if archive is not None and str(file) != "verify":
        raise fail("give one archive to write, or `verify FILE` to check one")
    if str(file) == "verify":
        if archive is None:
            raise fail("name the archive to check: joinedup backup verify FILE")
        report = verify_archive(archive)
        console.print(
            f"{report.path} is sound: revision {report.revision}, "
            f"{sum(report.tables.values())} catalogue rows in {len(report.tables)} tables, "
            f"{report.snapshots} snapshots and {report.files} other files "
            f"({report.bytes:,} bytes) hash-checked, "
            f"audit chain of {report.audit_events} events verified"
        )
        return
    summary = do_backup(settings(), file)
    rows = sum(summary.tables.values())
    console.print(
        f"Backed up {rows} catalogue rows, {summary.snapshots} snapshots and {summary.files} "
        f"other files ({summary.bytes:,} bytes) to {summary.path}"
    )


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="Archive written by `backup`.")]) -> None:
    """Bring back a backup into an empty home."""
    from joinedup.backup import restore as do_restore

    summary = do_restore(settings(), file)
    rows = sum(summary.tables.values())
    console.print(
        f"Restored {rows} catalogue rows, {summary.snapshots} snapshots and "
        f"{summary.files} other files"
    )
    if summary.unverified_checkpoints:
        console.print(
            f"Warning: {summary.unverified_checkpoints} audit checkpoint(s) do not verify with "
            "this home's secret key; `joinedup audit verify` reports them until the home uses "
            "the key of the home the backup was taken from (JOINEDUP_SECRET_KEY or secret.key)"
        )


@app.command()
def demo(
    residents: Annotated[int, typer.Option(help="Synthetic residents to generate.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Random seed for the synthetic region.")] = 2026,
    months: Annotated[int, typer.Option(help="Months of history to simulate.")] = 24,
    profile: Annotated[
        str,
        typer.Option(help="Synthetic scenario profile (see `joinedup synth --help`)."),
    ] = "default",
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the app when the pipeline is done.")
    ] = True,
) -> None:
    """Build a fresh synthetic region, run every pipeline stage, then serve the app."""
    from joinedup.demo import DemoOptions, demo_logins, demo_settings, run_demo

    s = demo_settings(settings())
    from joinedup.synth.profiles import PROFILES

    if profile not in PROFILES:
        raise fail(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    options = DemoOptions(residents=residents, seed=seed, months=months, profile=profile)

    from joinedup.home import database_label

    err.print(f"Building the demo in {s.home} on the database {database_label(s)}")
    result = run_demo(s, options, progress_bar)
    table = Table(title=f"joinedup demo in {s.home}")
    table.add_column("Stage")
    table.add_column("Status")
    table.add_column("Summary")
    for stage in result.stages:
        table.add_row(stage["stage"], stage["status"], _summary(stage))
    console.print(table)
    datasets = next(
        (s["result"]["datasets"] for s in result.stages if (s["result"] or {}).get("datasets")),
        None,
    )
    if datasets:
        ingested = Table(title="Ingested datasets")
        for column in ("Dataset", "Files", "Rows", "Accepted", "Quarantined"):
            ingested.add_column(column, justify="left" if column == "Dataset" else "right")
        for name, counts in datasets.items():
            ingested.add_row(
                name,
                *(f"{counts[k]:,}" for k in ("files", "rows", "accepted", "rejected")),
            )
        console.print(ingested)
    insight = next(
        (st["result"] for st in result.stages if st["stage"] == "Run the indicator rules"), None
    )
    if insight:
        from joinedup.insight.cli import print_run

        print_run(insight)
    areas = next((st["result"] for st in result.stages if st["kind"] == "insight.areas"), None)
    if areas:
        from joinedup.insight.cli_areas import print_areas

        print_areas(areas)
    if not result.ok:
        raise fail("a demo stage failed; see the table above")
    logins = demo_logins(s)
    if logins:
        console.print("Demo logins (synthetic accounts):")
        for login in logins:
            console.print(f"  {login['username']} / {login['password']}  ({login['role']})")
    if serve_after:
        from joinedup.web.server import serve_app

        console.print(f"Serving on http://{s.host}:{s.port}  (Ctrl+C to stop)")
        serve_app(s, s.host, s.port)


@app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(help="The file to ingest (CSV, XLSX, JSON, NDJSON, Parquet).")
    ],
    org: Annotated[str, typer.Option("--org", help="Code of the organisation the file is from.")],
    dataset: Annotated[str, typer.Option(help="Dataset name, e.g. council-tax-accounts.")],
    mapping: Annotated[
        str | None, typer.Option(help="Mapping YAML (a path or a shipped mapping's name).")
    ] = None,
    standard: Annotated[
        str | None, typer.Option(help="Standard the columns already follow (no mapping).")
    ] = None,
    period: Annotated[str | None, typer.Option(help="Reporting period, e.g. 2026-10.")] = None,
    reject_threshold: Annotated[
        float, typer.Option(help="Reject the whole file above this share of invalid rows.")
    ] = 0.2,
    confirm_layout: Annotated[
        bool,
        typer.Option(
            "--confirm-layout",
            "--accept-drift",
            help="Accept the mapping carried over to a drifted layout (see `mapping layout`).",
        ),
    ] = False,
) -> None:
    """Map, validate and store a file as a new version of a dataset.

    With no --mapping, a layout the data owner accepted before (`mapping accept`) is used: the
    same layout needs nothing, a drifted one is refused with its column diff until confirmed
    once with --confirm-layout."""
    if not file.is_file():
        raise fail(f"{file}: no such file")
    if mapping is None and not confirm_layout:
        from joinedup.ingest.layouts import layout_of_file

        drift = layout_of_file(settings(), org, dataset, file, file.name)
        if drift is not None and drift.status == "drifted":
            console.print(f"The columns of {file.name} changed since the last accepted layout:")
            for line in drift.diff.lines() if drift.diff else []:
                console.print(f"  {line}")
            console.print("The mapping carried over: `joinedup mapping layout` shows it.")
            raise fail(
                f"{file.name}: layout_drift — check the changes, then confirm them once with "
                "--confirm-layout (or --accept-drift); the layout is then remembered"
            )
    params = {
        "organisation": org,
        "dataset": dataset,
        "path": str(file.resolve()),
        "filename": file.name,
        "mapping": mapping,
        "standard": standard,
        "period": period,
        "reject_threshold": reject_threshold,
        "actor": "cli",
        "confirm_layout": confirm_layout,
    }
    result = run_job(
        settings(), "ingest", params, "the ingest failed", bar=f"Ingesting {file.name}"
    )
    if result["status"] == "unchanged":
        console.print(f"{file.name} is identical to version {result['version']}; nothing stored")
        return
    console.print(
        f"Stored {org}/{dataset} version {result['version']}: {result['accepted']:,} rows "
        f"accepted, {result['rejected']:,} quarantined"
    )
    for warning in result.get("warnings", []):
        console.print(f"[yellow]Warning:[/] {warning}")


@mapping_app.command("suggest")
def mapping_suggest(
    file: Annotated[Path, typer.Argument(help="A sample export (any format ingest reads).")],
    standard: Annotated[str, typer.Option(help="The standard to map to, e.g. council_tax.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the draft here instead of stdout.")
    ] = None,
    sample_rows: Annotated[int, typer.Option(help="Rows to sample for value evidence.")] = 500,
) -> None:
    """Propose a mapping from the file's headers and a sample of its values."""
    from joinedup.ingest.suggest import suggest_for_file

    result = suggest_for_file(settings(), file, standard, sample_rows)
    text, draft = result.yaml, result.draft
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Wrote a draft mapping with {len(draft['fields'])} fields to {out}")


@mapping_app.command("accept")
def mapping_accept(
    file: Annotated[Path, typer.Argument(help="A file in the layout the mapping is for.")],
    org: Annotated[str, typer.Option("--org", help="Code of the organisation the file is from.")],
    dataset: Annotated[str, typer.Option(help="Dataset name, e.g. spend.")],
    mapping: Annotated[Path, typer.Option(help="The mapping YAML (e.g. a checked draft).")],
) -> None:
    """Remember a mapping for this file's layout: later files in the same layout need none."""
    import yaml

    from joinedup.errors import InvalidInput
    from joinedup.ingest.layouts import remember_layout
    from joinedup.ingest.mapping import MappingError, load_mapping
    from joinedup.ingest.suggest import read_sample

    try:
        load_mapping(mapping)  # errors name the mapping file
    except MappingError as exc:
        raise InvalidInput(str(exc)) from None
    s = settings()
    columns, _ = read_sample(s, file, 1)
    data = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    print_ = remember_layout(s, org, dataset, columns, data, actor="cli")
    console.print(
        f"Remembered the mapping for {org}/{dataset} files with these {len(columns)} columns "
        f"(layout {print_[:12]})"
    )


@mapping_app.command("layout")
def mapping_layout(
    file: Annotated[Path, typer.Argument(help="The file to check.")],
    org: Annotated[str, typer.Option("--org", help="Code of the organisation the file is from.")],
    dataset: Annotated[str, typer.Option(help="Dataset name, e.g. spend.")],
    out: Annotated[Path | None, typer.Option(help="Write the mapping carried over here.")] = None,
) -> None:
    """Say whether the hub knows this file's layout, and show a drifted layout's column diff."""
    import yaml

    from joinedup.ingest.layouts import match_layout
    from joinedup.ingest.suggest import read_sample

    s = settings()
    columns, sample = read_sample(s, file)
    match = match_layout(s, org, dataset, columns, sample)
    if match.status == "new":
        console.print(f"No layout remembered for {org}/{dataset}: map it first (`mapping accept`)")
        return
    if match.status == "known":
        console.print(f"Known layout {match.fingerprint[:12]}: ingest it with no mapping")
    else:
        console.print("The layout drifted since the last accepted one:")
        for line in match.diff.lines() if match.diff else []:
            console.print(f"  {line}")
        console.print("Check the mapping carried over, then ingest with --confirm-layout")
    if out is not None and match.mapping is not None:
        out.write_text(yaml.safe_dump(match.mapping, sort_keys=False), encoding="utf-8")
        console.print(f"Wrote the mapping to {out}")


def _summary(stage: dict[str, object]) -> str:
    """A stage's result as short ``key: value`` pairs (nested details are left out)."""
    if stage["error"]:
        return str(stage["error"])[:500]
    result = stage["result"] or {}
    assert isinstance(result, dict)
    parts = []
    for key, value in result.items():
        if isinstance(value, dict):
            continue
        if isinstance(value, list):
            if any(isinstance(v, dict) for v in value):
                continue
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, int):
            value = f"{value:,}"
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


@jobs_app.command("list")
def jobs_list(
    limit: Annotated[int, typer.Option(help="How many recent jobs to show.")] = 20,
    status: Annotated[str | None, typer.Option(help="Only jobs with this status.")] = None,
) -> None:
    """List recent jobs with their status and progress."""
    from joinedup.jobs import list_jobs

    table = Table()
    for column in ("Id", "Kind", "Status", "Progress", "Created", "Message"):
        table.add_column(column)
    for row in list_jobs(settings(), limit=limit, status=status):
        table.add_row(
            row.id,
            row.kind,
            row.status,
            f"{row.progress:.0%}",
            row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            row.error or row.message,
        )
    console.print(table)


@jobs_app.command("show")
def jobs_show(job_id: Annotated[str, typer.Argument(help="The job id.")]) -> None:
    """Show one job as JSON."""
    from joinedup.jobs import get_job

    try:
        row = get_job(settings(), job_id)
    except KeyError:
        raise fail(f"no job with id {job_id}") from None
    data = {c: getattr(row, c) for c in ("id", "kind", "status", "progress", "message", "error")}
    data |= {"params": row.params, "result": row.result}
    console.print_json(json.dumps(data, default=str))


@jobs_app.command("run")
def jobs_run(
    kind: Annotated[str, typer.Argument(help="The job kind, e.g. store.verify.")],
    params: Annotated[str, typer.Option(help="Parameters as a JSON object.")] = "{}",
) -> None:
    """Run a job of the given kind now, in this process, with a progress bar."""
    from joinedup.jobs import run_inline
    from joinedup.jobs.registry import known_kinds

    if kind not in known_kinds():
        raise fail(f"unknown job kind {kind!r}; known: {', '.join(known_kinds())}")
    try:
        parsed = json.loads(params)
    except json.JSONDecodeError as exc:
        raise fail(f"--params is not valid JSON: {exc.msg}") from None
    with progress_bar(kind) as listener:
        row = run_inline(settings(), kind, parsed, listener)
    if row.status != "succeeded":
        raise fail(f"job {row.id} failed: {row.error}")
    console.print_json(json.dumps(row.result, default=str))


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Run queued jobs, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 1.0,
) -> None:
    """Run queued jobs in this process (for multi-process deployments).

    Logs one JSON line per job; with JOINEDUP_METRICS_BIND it serves its metrics there."""
    from joinedup.jobs.runner import work
    from joinedup.logs import configure_logging
    from joinedup.metrics import start_listener

    s = settings()
    configure_logging(s.log_format)
    if s.metrics_bind:
        host, port = start_listener(s.metrics_bind)
        err.print(f"Metrics on http://{host}:{port}/metrics")
    ran = work(s, poll_seconds=poll, once=once)
    console.print(f"Ran {ran} job(s)")


@store_app.command("verify")
def store_verify() -> None:
    """Re-hash every snapshot and report any missing or changed file."""
    from joinedup.jobs import run_inline

    with progress_bar("Verifying snapshots") as listener:
        row = run_inline(settings(), "store.verify", {}, listener)
    if row.status != "succeeded":
        raise fail(f"verification failed: {row.error}")
    result = row.result or {}
    if result.get("bad"):
        raise fail(f"{len(result['bad'])} snapshot(s) are missing or changed: {result['bad']}")
    console.print(f"All {result.get('checked', 0)} snapshots are intact")


@store_app.command("gc")
def store_gc() -> None:
    """Remove unfinished temporary files and snapshot files no catalogue row points at."""
    from joinedup.catalog.db import session_scope
    from joinedup.store import SnapshotStore

    s = settings()
    store = SnapshotStore(s)
    temps = store.remove_stale_temp()
    with session_scope(s) as session:
        orphans = store.gc(session)
    console.print(f"Removed {temps} temporary file(s) and {len(orphans)} orphaned snapshot(s)")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
