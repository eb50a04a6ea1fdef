"""What every command line module shares: the consoles, failing with a message, a progress
bar fed by a job, and the person a command acts as.

Stage CLIs (``<stage>/cli.py``) import this, never ``joinedup.cli`` (which imports them), so
the command line has no import cycle.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from joinedup.jobs.registry import ProgressListener

if TYPE_CHECKING:
    from joinedup.catalog.models import User
    from joinedup.config import Settings
    from joinedup.governance.access import Actor

#: Results go to standard output; messages, errors and progress to standard error.
console = Console()
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error; raise what this returns to exit with ``code``."""
    err.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressListener]:
    """A Rich progress bar (on standard error) fed by a job's progress reports."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=1.0, message="")

        def listener(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, message=message)

        yield listener


def find_user(settings: Settings, username: str, *, active: bool = True) -> User:
    """The user called ``username`` (detached), or fail naming them."""
    from sqlalchemy import select

    from joinedup.catalog.db import session_scope
    from joinedup.catalog.models import User

    with session_scope(settings) as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None or (active and not user.is_active):
            raise fail(f"no {'active ' if active else ''}user {username!r}")
        session.expunge(user)
        return user


def acting_as(
    settings: Settings,
    username: str,
    purpose: str,
    roles: Collection[str] = (),
    *,
    refusal: str = "",
    active: bool = True,
) -> Actor:
    """The access gateway's actor for ``username`` under ``purpose``; with ``roles``, fail
    (saying ``refusal``) unless the user holds one of them."""
    from joinedup.governance.access import Actor

    user = find_user(settings, username, active=active)
    if roles and user.role not in roles:
        raise fail(f"{username} is a {user.role}: {refusal}")
    return Actor(user.id, user.username, user.organisation_id, user.role, purpose)
