"""Governance commands: organisations, users, API tokens, purposes and the audit log."""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from joinedup.clikit import console, err, fail
from joinedup.config import Settings, load_settings
from joinedup.governance.scopes import SCOPES

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy.orm import Session


def session_scope(settings: Settings | None = None) -> AbstractContextManager[Session]:
    """A catalogue session (imported here: every ``joinedup`` command loads this module, and
    most never touch the catalogue)."""
    from joinedup.catalog.db import session_scope as scope

    return scope(settings or load_settings())


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

    with session_scope() as session:
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
    with session_scope() as session:
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
        typer.Option(help=f"{', '.join(SCOPES)}; repeat for several."),
    ],
    days: Annotated[int, typer.Option(help="Days until the token expires.")] = 90,
) -> None:
    """Issue an API token for a user; it is printed once and stored only as a hash."""
    from sqlalchemy import select

    from joinedup.catalog.models import User
    from joinedup.catalog.types import utcnow
    from joinedup.governance.tokens import create_token

    with session_scope() as session:
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
    """Walk the hash chain and check it against the signed checkpoints of its head: reports
    which guarantee failed (chain, signature, truncation or rewrite) and where."""
    from joinedup.catalog.models import AuditEvent
    from joinedup.governance.audit import verify_chain
    from joinedup.governance.audit_anchor import verify_anchor

    settings = load_settings()
    with session_scope(settings) as session:
        problems = [("chain", p.event_id, p.problem) for p in verify_chain(session)]
        anchor = verify_anchor(settings, session)
        count = session.query(AuditEvent).count()
    problems += [(p.guarantee, p.event_id, p.problem) for p in anchor.problems]
    if problems:
        for guarantee, event_id, problem in problems:
            where = f"Audit event {event_id}" if event_id else "Checkpoints"
            err.print(f"{where}: {problem} [{guarantee}]", markup=False)
        failed = ", ".join(sorted({g for g, _, _ in problems}))
        raise fail(f"the audit log has been tampered with ({len(problems)} problem(s): {failed})")
    console.print(
        f"The audit log is intact: {count} events, every link verified; "
        f"{anchor.checkpoints} signed checkpoint(s) agree, the latest at event {anchor.anchored_to}"
    )


@purpose_app.command("list")
def purpose_list() -> None:
    """List the registered purposes and their lawful bases."""
    from sqlalchemy import select

    from joinedup.catalog.models import Purpose

    table = Table()
    for column in ("Code", "Name", "Lawful basis", "Article 9 condition", "Objection allowed"):
        table.add_column(column)
    with session_scope() as session:
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

    with session_scope() as session:
        count = len(ensure_default_purposes(session, actor="cli"))
    console.print(f"{count} standard purposes are registered")


Role = Annotated[str, typer.Option(help="The role: data_owner, analyst, caseworker or dpo.")]
InOrg = Annotated[
    str | None,
    typer.Option("--org", help="An organisation's code; leave out for every organisation."),
]


@purpose_app.command("grants")
def purpose_grants() -> None:
    """List who may act under which purpose (the purpose grants register)."""
    from joinedup.governance.grants import list_grants

    with session_scope() as session:
        grants = list_grants(session)
    if not grants:
        console.print("Nobody is granted any purpose")
    for g in grants:  # one line each, so that scripts can read them at any width
        org = g.organisation or "every organisation"
        console.print(
            f"{g.purpose}: {g.role} in {org} (granted by {g.granted_by}, {g.granted_at})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@purpose_app.command("grant")
def purpose_grant(
    code: Annotated[str, typer.Argument(help="The purpose's code, e.g. fraud-prevention.")],
    role: Role,
    org: InOrg = None,
) -> None:
    """Let a role act under a purpose, in one organisation or every one (audited)."""
    from joinedup.governance.grants import grant_purpose

    with session_scope() as session:
        grant_purpose(session, code, role, org, None, actor="cli")
    console.print(f"The role {role} may act under {code} in {org or 'every organisation'}")


@purpose_app.command("revoke")
def purpose_revoke(
    code: Annotated[str, typer.Argument(help="The purpose's code.")],
    role: Role,
    org: InOrg = None,
) -> None:
    """Stop a role acting under a purpose (audited); its next request under it is refused."""
    from joinedup.governance.grants import revoke_grant

    with session_scope() as session:
        revoke_grant(session, code, role, org, None, actor="cli")
    console.print(f"The role {role} no longer acts under {code} in {org or 'every organisation'}")


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.add_typer(audit_app, name="audit")
    app.add_typer(purpose_app, name="purpose")
