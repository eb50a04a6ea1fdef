"""The toolkit's commands: ``joinedup ethics list|show|draft|sign-off``, ``joinedup
transparency register|map`` and ``joinedup business-case show|set|pdf``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from joinedup.clikit import acting_as, console, fail
from joinedup.config import load_settings

ethics_app = typer.Typer(
    help="Ethics records (the ODI Data Ethics Canvas) per purpose and per agreement.",
    no_args_is_help=True,
)
SubjectType = Annotated[str, typer.Argument(help="purpose or agreement")]
Subject = Annotated[str, typer.Argument(help="The purpose's code or the agreement's reference")]


@ethics_app.command("list")
def ethics_list() -> None:
    """Every purpose and agreement with the state of its ethics record."""
    from joinedup.toolkit.ethics import list_subjects

    table = Table(title="Ethics records")
    for column in ("Type", "Subject", "Version in force", "Latest", "Review date", "Review due"):
        table.add_column(column)
    for s in list_subjects(load_settings()):
        table.add_row(
            s.subject_type,
            s.subject,
            str(s.in_force_version or "—"),
            f"{s.latest_version} ({s.latest_status})" if s.latest_version else "—",
            s.review_date.isoformat() if s.review_date else "—",
            "yes" if s.review_due else "",
        )
    console.print(table)


@ethics_app.command("show")
def ethics_show(
    subject_type: SubjectType,
    subject: Subject,
    as_user: Annotated[str, typer.Option("--as", help="Who is reading.")],
) -> None:
    """One record as JSON: its versions, objections in force and the fairness figures."""
    from joinedup.toolkit.ethics import get_record

    settings = load_settings()
    detail = get_record(settings, acting_as(settings, as_user, ""), subject_type, subject)
    console.print_json(detail.model_dump_json())


@ethics_app.command("draft")
def ethics_draft(
    subject_type: SubjectType,
    subject: Subject,
    answers: Annotated[
        Path, typer.Option(help="A JSON object: an answer for each question, by its key.")
    ],
    review_date: Annotated[str, typer.Option(help="When to review it again (YYYY-MM-DD).")],
    as_user: Annotated[str, typer.Option("--as", help="The data owner, analyst or DPO.")],
) -> None:
    """Draft a new version of an ethics record (audited). Keys: data_sources, benefits, harms,
    excluded_groups, transparency, review."""
    from joinedup.toolkit.ethics import EthicsIn, draft

    try:
        given = json.loads(answers.read_text(encoding="utf-8"))
        review = date.fromisoformat(review_date)
    except (OSError, ValueError) as exc:
        raise fail(f"{answers}: {exc}") from None
    if not isinstance(given, dict):
        raise fail(f"{answers}: expected a JSON object of answers")
    settings = load_settings()
    body = EthicsIn(answers={str(k): str(v) for k, v in given.items()}, review_date=review)
    detail = draft(settings, acting_as(settings, as_user, ""), subject_type, subject, body)
    console.print(f"Drafted version {detail.latest_version} for {subject_type} {subject}")


@ethics_app.command("sign-off")
def ethics_sign_off(
    subject_type: SubjectType,
    subject: Subject,
    version: Annotated[int, typer.Option(help="The draft version to sign off.")],
    as_user: Annotated[str, typer.Option("--as", help="The DPO signing it off.")],
    note: Annotated[str, typer.Option(help="A note for the record.")] = "",
) -> None:
    """Sign off a draft version (a DPO who did not draft it; audited)."""
    from joinedup.toolkit.ethics import SignOffIn, sign_off

    settings = load_settings()
    principal = acting_as(settings, as_user, "")
    sign_off(settings, principal, subject_type, subject, SignOffIn(version=version, note=note))
    console.print(f"Signed off version {version} of the ethics record for {subject}")


transparency_app = typer.Typer(
    help="The public register of data sharing and the data ecosystem map.", no_args_is_help=True
)


@transparency_app.command("register")
def transparency_register(
    format_: Annotated[str, typer.Option("--format", help="csv, json or dcat")] = "csv",
    base_url: Annotated[str, typer.Option(help="The hub's address (for DCAT).")] = (
        "http://127.0.0.1:8000"
    ),
) -> None:
    """Print the register of data sharing: every agreement in force."""
    from datetime import UTC, datetime

    from joinedup.toolkit.register import register, register_csv, register_dcat, register_json

    entries = register(load_settings())
    if format_ == "csv":
        typer.echo(register_csv(entries), nl=False)
    elif format_ == "json":
        typer.echo(json.dumps(register_json(entries), indent=2))
    elif format_ == "dcat":
        typer.echo(json.dumps(register_dcat(base_url, entries, datetime.now(UTC)), indent=2))
    else:
        raise fail(f"--format must be csv, json or dcat, not {format_!r}")


@transparency_app.command("map")
def transparency_map(
    month: Annotated[str | None, typer.Option(help="YYYY-MM (this month).")] = None,
    purpose: Annotated[str | None, typer.Option(help="Only flows for this purpose.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only flows of this dataset.")] = None,
    organisation: Annotated[
        str | None, typer.Option(help="Only this organisation's flows.")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="json or svg")] = "json",
    public: Annotated[bool, typer.Option(help="Withhold small counts, as published.")] = True,
    out: Annotated[Path | None, typer.Option(help="Write to this file (default: print).")] = None,
) -> None:
    """The data ecosystem map for a month, from the agreements and the audit log."""
    from joinedup.toolkit.ecosystem import ecosystem_map
    from joinedup.toolkit.ecosystem_svg import render_svg

    if format_ not in ("json", "svg"):
        raise fail(f"--format must be json or svg, not {format_!r}")
    data = ecosystem_map(
        load_settings(),
        month=month,
        purpose=purpose,
        dataset=dataset,
        organisation=organisation,
        public=public,
    )
    text = render_svg(data) if format_ == "svg" else data.model_dump_json(indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text)
        console.print(f"Wrote {out}: {len(data.flows)} flows, {len(data.nodes)} organisations")


case_app = typer.Typer(
    help="Business cases per intervention, tied to the measured impact.", no_args_is_help=True
)
Intervention = Annotated[str, typer.Argument(help="The intervention's id or name")]


@case_app.command("show")
def case_show(
    intervention: Intervention,
    as_user: Annotated[str, typer.Option("--as", help="An analyst, data owner or DPO.")],
) -> None:
    """The business case and the impact estimate, as JSON."""
    from joinedup.toolkit.business_case import get_case

    settings = load_settings()
    view = get_case(settings, acting_as(settings, as_user, ""), intervention)
    console.print_json(view.model_dump_json())


@case_app.command("set")
def case_set(
    intervention: Intervention,
    file: Annotated[
        Path,
        typer.Option(
            help="A JSON object: service, cost_pounds, period, "
            "residents_reached, problem, proposal, "
            "beneficiaries, risks."
        ),
    ],
    as_user: Annotated[str, typer.Option("--as", help="The analyst or data owner.")],
) -> None:
    """Write or rewrite an intervention's business case (audited)."""
    from pydantic import ValidationError

    from joinedup.toolkit.business_case import BusinessCaseIn, save_case

    try:
        body = BusinessCaseIn.model_validate_json(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise fail(f"{file}: not UTF-8 text (expected a JSON object)") from None
    except (OSError, ValidationError) as exc:
        raise fail(f"{file}: {str(exc).splitlines()[0]}") from None
    settings = load_settings()
    view = save_case(settings, acting_as(settings, as_user, ""), intervention, body)
    console.print(f"Saved the business case for {view.intervention['name']}")


@case_app.command("pdf")
def case_pdf_command(
    intervention: Intervention,
    out: Annotated[Path, typer.Option(help="The PDF file to write.")],
    as_user: Annotated[str, typer.Option("--as", help="An analyst, data owner or DPO.")],
) -> None:
    """Export the business case as a PDF for a funding panel (audited)."""
    from joinedup.toolkit.business_case import case_pdf

    settings = load_settings()
    name, data = case_pdf(settings, acting_as(settings, as_user, ""), intervention)
    out.write_bytes(data)
    console.print(f"Wrote the business case for {name} to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(ethics_app, name="ethics")
    app.add_typer(transparency_app, name="transparency")
    app.add_typer(case_app, name="business-case")
