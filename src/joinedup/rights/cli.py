"""``joinedup rights``: find a resident, export their subject access data, record disputes.

Every command acts as a data protection officer (``--as``, or ``JOINEDUP_USER``) under the
purpose ``subject-access``, and is audited like the pages and the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from joinedup.clikit import acting_as, console, fail
from joinedup.config import load_settings

if TYPE_CHECKING:
    from joinedup.governance.access import Actor

rights_app = typer.Typer(
    help="Residents' rights: find a resident, subject access exports, disputes (as a DPO).",
    no_args_is_help=True,
)
AsUser = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="JOINEDUP_USER",
        help="The DPO you act as (username; or set JOINEDUP_USER). Audited under the purpose "
        "'subject-access'.",
    ),
]


def _dpo(username: str) -> Actor:
    from joinedup.rights.common import RIGHTS_ROLES, SAR_PURPOSE

    return acting_as(
        load_settings(),
        username,
        SAR_PURPOSE,
        RIGHTS_ROLES,
        refusal="only DPOs answer rights requests",
    )


@rights_app.command("find")
def find(
    as_user: AsUser,
    given_name: Annotated[str | None, typer.Option(help="Given name.")] = None,
    family_name: Annotated[str | None, typer.Option(help="Family name.")] = None,
    date_of_birth: Annotated[str | None, typer.Option("--dob", help="YYYY-MM-DD.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode.")] = None,
    nhs_number: Annotated[str | None, typer.Option(help="NHS number.")] = None,
    ni_number: Annotated[str | None, typer.Option(help="National Insurance number.")] = None,
    upn: Annotated[str | None, typer.Option(help="Unique Pupil Number.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find the resident(s) matching these details, their records and the near misses."""
    from joinedup.rights.find import PersonQuery, find_person

    values = {
        "given_name": given_name,
        "family_name": family_name,
        "date_of_birth": date_of_birth,
        "postcode": postcode,
        "nhs_number": nhs_number,
        "ni_number": ni_number,
        "upn": upn,
    }
    actor = _dpo(as_user)
    result = find_person(load_settings(), actor, PersonQuery.parse(values))
    rows = [
        {
            "resident_id": c.record.resident_id,
            "record_key": c.record.record_key,
            "match_probability": c.match_probability,
            "match": m is not None,
        }
        for m, cs in [(r, r.records) for r in result.residents] + [(None, result.near_misses)]
        for c in cs
    ]
    if as_json:
        typer.echo(json.dumps({"seconds": result.seconds, "records": rows}, indent=2))
        return
    table = Table(title=f"Matches and near misses (linkage run {result.run.id})")
    for column in ("Resident", "Record", "Probability", "Kind"):
        table.add_column(column)
    for row in rows:
        p = row["match_probability"]
        table.add_row(
            str(row["resident_id"]),
            str(row["record_key"]),
            "joined" if p is None else f"{p:.3f}",
            "match" if row["match"] else "near miss",
        )
    console.print(table)


@rights_app.command("export")
def export(
    resident_id: Annotated[str, typer.Argument(help="The resident's id, like r-1a2b…")],
    as_user: AsUser,
    out: Annotated[Path, typer.Option(help="Where to write the export.")],
    fmt: Annotated[str, typer.Option("--format", help="json, jsonld or pdf.")] = "json",
    release_notes: Annotated[
        bool, typer.Option(help="Release caseworkers' notes (withheld by default).")
    ] = False,
) -> None:
    """Release a subject access export for a resident and write it (recorded, audited)."""
    from joinedup.rights.exports import FORMATS, load_export, release_export, render
    from joinedup.rights.subject import CollectOptions

    if fmt not in FORMATS or fmt == "html":
        raise fail("--format is json, jsonld or pdf")
    settings = load_settings()
    actor = _dpo(as_user)
    info = release_export(settings, actor, resident_id, CollectOptions(release_notes))
    document, _ = load_export(settings, actor, info.id, fmt)
    body = render(document, fmt, info.id)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(body)
    tmp.replace(out)
    console.print(
        f"Export {info.id} for {resident_id}: {info.summary.get('records', 0)} records, "
        f"{info.redactions} redaction(s), written to {out}"
    )


@rights_app.command("dispute")
def dispute(
    record: Annotated[str, typer.Argument(help="The record: organisation/dataset/record id.")],
    as_user: AsUser,
    field: Annotated[list[str], typer.Option("--field", help="A disputed field (repeat).")],
    statement: Annotated[str, typer.Option(help="The resident's statement.")],
) -> None:
    """Record a resident's dispute of a record (its data owners are notified)."""
    from joinedup.rights.disputes import record_dispute

    organisation, _, rest = record.partition("/")
    dataset, _, source_record_id = rest.partition("/")
    if not (organisation and dataset and source_record_id):
        raise fail("name the record as organisation/dataset/record-id")
    info = record_dispute(
        load_settings(),
        _dpo(as_user),
        organisation=organisation,
        dataset=dataset,
        source_record_id=source_record_id,
        fields=field,
        statement=statement,
    )
    console.print(f"Dispute {info.id} recorded on {info.record_key}: {', '.join(info.fields)}")


def register(app: typer.Typer) -> None:
    """Add the rights commands to the ``joinedup`` app."""
    app.add_typer(rights_app, name="rights")
