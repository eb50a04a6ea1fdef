"""Governance commands: organisations, users, API tokens, purposes and the audit log."""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Purpose, User
from joinedup.catalog.types import utcnow
from joinedup.clikit import console, err, fail
from joinedup.config import load_settings

org_app = typer.Typer(
    help="Register organisations (councils, partners, the hub).", no_args_is_help=True
)
user_app = typer.Typer(help="Create local user accounts.", no_args_is_help=True)
token_app = typer.Typer(help="Issue API tokens (shown once, stored hashed).", no_args_is_help=True)
audit_app = typer.Typer(help="Check the tamper-evident audit log.", no_args_is_help=True)
purpose_app = typer.Typer(help="The register of processing purposes.", no_args_is_help=True)


@org_app.command("add")
def org_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. lambeth.")],
    name: Annotated[str, typer.Option(help="Full name, e.g. London Borough of Lambeth.")],
    type: Annotated[str, typer.Option(help="council, voluntary, health, hub or other.")] = (
        "council"
    ),
    gss_code: Annotated[str | None, typer.Option(help="ONS GSS code for councils.")] = None,
) -> None:
    """Register an organisation (audited)."""
    from joinedup.governance.organisations import ensure_organisation

    with session_scope(load_settings()) as session:
        org = ensure_organisation(
            session, code=code, name=name, type=type, gss_code=gss_code, actor="cli"
        )
        console.print(f"Organisation {org.code} ({org.name}) is registered")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name, lower case.")],
    organisation: Annotated[str, typer.Option("--org", help="Code of the user's organisation.")],
    role: Annotated[str, typer.Option(help="hub_admin, data_owner, analyst, caseworker or dpo.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user. Without --password-stdin a random password is generated and shown once."""
    from joinedup.governance.accounts import create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password = secrets.token_urlsafe(15)
        generated = True
    with session_scope(load_settings()) as session:
        create_user(
            session,
            username=username,
            display_name=name or username,
            organisation=organisation,
            role=role,
            password=password,
            email=email,
            actor="cli",
        )
    console.print(f"User {username} created ({role}, {organisation})")
    if generated:
        console.print(f"Password (shown once): {password}")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[
        list[str],
        typer.Option(help="read, ingest, governance, review or admin; repeat for several."),
    ],
    days: Annotated[int, typer.Option(help="Days until the token expires.")] = 90,
) -> None:
    """Issue an API token for a user; it is printed once and stored only as a hash."""
    from joinedup.governance.tokens import create_token

    with session_scope(load_settings()) as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise fail(f"no user {username!r}")
        issued = create_token(
            session, user, name, scope, utcnow() + timedelta(days=days), actor="cli"
        )
    console.print(f"Token for {username} (scopes: {', '.join(sorted(set(scope)))}), shown once:")
    console.print(issued.plaintext, markup=False, highlight=False, soft_wrap=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain and report any edited, deleted or reordered entry."""
    from joinedup.catalog.models import AuditEvent
    from joinedup.governance.audit import verify_chain

    with session_scope(load_settings()) as session:
        problems = verify_chain(session)
        count = session.query(AuditEvent).count()
    if problems:
        for problem in problems:
            err.print(f"Audit event {problem.event_id}: {problem.problem}")
        raise fail(f"the audit log has been tampered with ({len(problems)} problem(s))")
    console.print(f"The audit log is intact: {count} events, every link verified")


@purpose_app.command("list")
def purpose_list() -> None:
    """List the registered purposes and their lawful bases."""
    table = Table()
    for column in ("Code", "Name", "Lawful basis", "Article 9 condition", "Objection allowed"):
        table.add_column(column)
    with session_scope(load_settings()) as session:
        for p in session.scalars(select(Purpose).order_by(Purpose.code)):
            table.add_row(
                p.code,
                p.name,
                p.lawful_basis,
                p.special_category_condition or "",
                "yes" if p.objection_allowed else "no",
            )
    console.print(table)


@purpose_app.command("seed")
def purpose_seed() -> None:
    """Register the standard purposes (FSM, early help, fraud, statistics, linkage, rights)."""
    from joinedup.governance.purposes import ensure_default_purposes

    with session_scope(load_settings()) as session:
        count = len(ensure_default_purposes(session, actor="cli"))
    console.print(f"{count} standard purposes are registered")


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.add_typer(audit_app, name="audit")
    app.add_typer(purpose_app, name="purpose")
