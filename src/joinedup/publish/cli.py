"""Open data commands: ``joinedup publish check|define|release|releases|approve|reject|...``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from joinedup.clikit import check_files, console, fail, find_user, run_job
from joinedup.config import Settings, load_settings

publish_app = typer.Typer(
    help="Open data: publications, disclosure-controlled releases, the DPO's approval.",
    no_args_is_help=True,
)


def _user_id(settings: Settings, username: str) -> int:
    return find_user(settings, username, active=False).id


@publish_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="Publication definitions (YAML).")],
) -> None:
    """Validate publication definitions: unknown fields and indicators are named with the file."""
    from joinedup.publish.definitions import known_rule_ids, load_definition

    rule_ids = known_rule_ids()
    check_files(files, lambda path: load_definition(path, rule_ids), lambda d: f"{d.kind} {d.name}")


@publish_app.command("define")
def define(
    file: Annotated[Path, typer.Argument(help="A publication definition (YAML).")],
    as_user: Annotated[str, typer.Option("--as", help="The analyst defining it.")],
) -> None:
    """Store a publication definition (replacing the one of that name). Audited."""
    import yaml

    from joinedup.publish.definitions import PublicationError
    from joinedup.publish.releases import PublishRefused, save_definition

    settings = load_settings()
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
        pub = save_definition(settings, document, _user_id(settings, as_user))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail(f"{file.name}: cannot read: {exc}") from None
    except (PublicationError, PublishRefused) as exc:
        raise fail(str(exc).replace("definition:", f"{file.name}:", 1)) from None
    console.print(f"Defined {pub.kind} [bold]{pub.name}[/]")


@publish_app.command("release")
def release(
    name: Annotated[str, typer.Argument(help="The publication's name.")],
    as_user: Annotated[str | None, typer.Option("--as", help="The analyst releasing it.")] = None,
) -> None:
    """Build the next release (disclosure control applied); it waits for a DPO's approval."""
    settings = load_settings()
    params: dict[str, object] = {"publication": name}
    if as_user:
        params["user_id"] = _user_id(settings, as_user)
    console.print_json(
        json.dumps(run_job(settings, "publish.release", params, "the release failed"))
    )


@publish_app.command("releases")
def releases() -> None:
    """Every release with its status and disclosure summary."""
    from joinedup.publish.releases import list_releases

    table = Table(title="Releases")
    for column in ("Publication", "Version", "Status", "Rows", "Published", "Suppressed"):
        table.add_column(column)
    for r in list_releases(load_settings()):
        d = r.disclosure or {}
        suppressed = d.get("primary_suppressed", 0) + d.get("secondary_suppressed", 0)
        table.add_row(
            r.publication,
            str(r.version),
            r.status,
            str(r.row_count),
            str(d.get("published", "—")),
            str(suppressed) if d else "—",
        )
    console.print(table)


def _decide(name: str, version: int, as_user: str, approve: bool, note: str) -> None:
    from joinedup.publish.releases import decide

    settings = load_settings()
    view = decide(settings, name, version, _user_id(settings, as_user), approve, note)
    console.print(f"Release {view.version} of {view.publication} is {view.status}")


@publish_app.command("approve")
def approve(
    name: str,
    version: int,
    as_user: Annotated[str, typer.Option("--as", help="The DPO approving it.")],
    note: Annotated[str, typer.Option(help="A note for the record.")] = "",
) -> None:
    """Approve a pending release: it is public from now on. Audited."""
    _decide(name, version, as_user, True, note)


@publish_app.command("reject")
def reject(
    name: str,
    version: int,
    as_user: Annotated[str, typer.Option("--as", help="The DPO rejecting it.")],
    note: Annotated[str, typer.Option(help="Why it is rejected.")],
) -> None:
    """Reject a pending release. Audited."""
    _decide(name, version, as_user, False, note)


@publish_app.command("catalog")
def catalog(
    base_url: Annotated[str, typer.Option(help="The portal's address.")] = "http://127.0.0.1:8000",
    turtle: Annotated[bool, typer.Option("--turtle", help="Turtle instead of JSON-LD.")] = False,
) -> None:
    """Print the DCAT-AP 3 catalogue of the current releases (JSON-LD, or Turtle)."""
    from joinedup.publish import dcat
    from joinedup.publish.releases import public_releases

    settings = load_settings()
    document = dcat.dcat_catalog(settings, public_releases(settings), base_url)
    if turtle:
        print(dcat.turtle(document))
    else:
        console.print_json(json.dumps(document))


@publish_app.command("export")
def export(
    name: str,
    out: Annotated[Path, typer.Option(help="A folder for data.csv and datapackage.json.")],
    version: Annotated[int | None, typer.Option(help="An approved version (the latest).")] = None,
) -> None:
    """Write an approved release's CSV and data package to a folder."""
    from joinedup.publish.releases import public_release, release_csv

    settings = load_settings()
    view = public_release(settings, name, version)
    out.mkdir(parents=True, exist_ok=True)
    (out / "data.csv").write_bytes(release_csv(settings, view))
    (out / "datapackage.json").write_text(json.dumps(view.descriptor, indent=2))
    console.print(f"Wrote {out / 'data.csv'} and {out / 'datapackage.json'}")


def register(app: typer.Typer) -> None:
    app.add_typer(publish_app, name="publish")
