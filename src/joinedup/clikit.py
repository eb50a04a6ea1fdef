"""What every command line module shares: the consoles, failing with a message, a progress
bar fed by a job, the person a command acts as, and :class:`CleanErrors`, the one place a
command's errors become a one-line message.

Stage CLIs (``<stage>/cli.py``) import this, never ``joinedup.cli`` (which imports them), so
the command line has no import cycle.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

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
    err.print(f"[bold red]Error:[/] {escape(message)}")
    return typer.Exit(code)


#: Commands that run without an initialised home (every other one is refused up front, with
#: what to do, when the home is missing, not initialised or its database is unreachable).
#: Names are command paths: ``"backup verify"`` is ``joinedup backup verify``.
NEEDS_NO_HOME = frozenset(
    {
        *("version", "init", "doctor", "demo", "synth", "restore", "backup verify"),
        *("mapping suggest", "match", "dedupe"),  # files in, answers out: no catalogue
        "linkage evaluate",  # needs the home with --run only, not with --pairs
    }
)


def debugging(ctx: Any = None) -> bool:
    """Whether to show tracebacks: ``--debug`` or ``JOINEDUP_DEBUG`` set to a true value."""
    flag = bool(ctx is not None and ctx.find_root().params.get("debug"))
    return flag or os.environ.get("JOINEDUP_DEBUG", "").lower() in {"1", "true", "yes", "on"}


def error_message(exc: BaseException) -> str:
    """One line for people that names the problem and what to do, and no personal data:
    joinedup's own errors say it themselves; a missing or unreadable file and an unreachable
    database are named; anything else gives only its type (its text may quote data)."""
    from sqlalchemy.exc import OperationalError

    from joinedup.errors import JoinedupError

    if isinstance(exc, JoinedupError):
        return str(exc)  # as errors.py says the CLI words them
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or type(exc).__name__}"
    if isinstance(exc, OperationalError):
        from joinedup.config import load_settings
        from joinedup.home import home_problem

        return home_problem(load_settings()) or (
            "the database could not be used (unreachable, locked or not initialised): check "
            "JOINEDUP_DATABASE_URL, run `joinedup init`, or run with --debug for details"
        )
    return f"unexpected {type(exc).__name__}; run with --debug for details"


def needs_home(group: Any, ctx: Any, args: list[str]) -> bool:
    """Whether the command ``args`` name below ``group`` (``store verify``; or a command and
    its first argument, ``backup verify``) needs a home; read without running it."""
    if not args or {"--help", "-h"} & set(args):
        return False
    names: list[str] = []
    command = group
    for token in args:
        if token.startswith("-"):
            break
        names.append(token)
        if not hasattr(command, "get_command"):
            break  # the first argument of a command
        command = command.get_command(ctx, token)
        if command is None:
            return False  # no such command: the usage error says so
    return not any(" ".join(names[:n]) in NEEDS_NO_HOME for n in range(1, len(names) + 1))


#: A line that starts an item of a list (kept on its own line when help is unwrapped).
_LIST_ITEM = re.compile(r"\s*(?:[-*\u2022]|\d+[.)])\s")


def prose(text: str | None) -> str | None:
    """Help text with each paragraph on one line, so the terminal wraps it, not the source.

    Docstrings are wrapped at 100 characters for the code; Rich keeps those hard line breaks
    and then wraps again at the terminal's width, which breaks sentences mid-line. Paragraphs
    (separated by a blank line) are joined into one line each; a list keeps one line per item;
    a paragraph marked ``\\b`` (click's "do not rewrap") or indented as code is left alone,
    and so is anything after ``\\f``."""
    if not text:
        return text
    shown, cut, rest = inspect.cleandoc(text).partition("\f")
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", shown.strip()):
        lines = paragraph.splitlines()
        if paragraph.startswith("\b") or all(line.startswith("    ") for line in lines):
            paragraphs.append(paragraph)
            continue
        joined: list[str] = []
        for line in lines:
            if joined and not _LIST_ITEM.match(line):
                joined[-1] = f"{joined[-1]} {line.strip()}"
            else:
                joined.append(line.rstrip())
        paragraphs.append("\n".join(joined))
    return "\n\n".join(paragraphs) + cut + rest


def unwrap_help(command: Any) -> None:
    """:func:`prose` on the help of ``command``, its parameters and every command below it."""
    command.help = prose(command.help)
    if getattr(command, "short_help", None):
        command.short_help = prose(command.short_help)
    for param in getattr(command, "params", ()):
        if getattr(param, "help", None):
            param.help = prose(param.help)
    for sub in getattr(command, "commands", {}).values():
        unwrap_help(sub)


class CleanErrors(TyperGroup):
    """The root command group: checks the home before a command that needs one, and turns
    every error into one line on standard error and a non-zero exit code (usage errors 2,
    others 1). With ``--debug`` or ``JOINEDUP_DEBUG=1`` errors propagate with their
    traceback. Every command's help reads as prose (:func:`unwrap_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unwrap_help(self)

    def invoke(self, ctx: Any) -> Any:
        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        try:
            if needs_home(self, ctx, [*ctx._protected_args, *ctx.args]):
                self._check_home()
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, NoArgsIsHelpError):
            raise
        except UsageError as exc:
            if debugging(ctx):
                raise
            where = exc.ctx.command_path if exc.ctx is not None else "joinedup"
            raise fail(f"{exc.format_message()} (see `{where} --help`)", 2) from None
        except Exception as exc:
            if debugging(ctx):
                raise
            raise fail(error_message(exc)) from None

    @staticmethod
    def _check_home() -> None:
        from joinedup.config import load_settings
        from joinedup.home import home_problem

        problem = home_problem(load_settings())
        if problem:
            raise fail(problem)


Loaded = TypeVar("Loaded")


def check_files(
    files: Iterable[Path], load: Callable[[Path], Loaded], describe: Callable[[Loaded], str]
) -> None:
    """Validate each file with ``load``: a good one is ``✓ name: describe(it)``, a refused one
    (a :class:`~joinedup.errors.JoinedupError`) ``✗`` and why; exits 1 if any was refused."""
    from joinedup.errors import JoinedupError

    failed = False
    for path in files:
        try:
            loaded = load(path)
        except JoinedupError as exc:
            err.print(f"[bold red]✗[/] {escape(str(exc))}")
            failed = True
        else:
            console.print(f"✓ {path.name}: {describe(loaded)}", markup=False)
    if failed:
        raise typer.Exit(1)


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


def run_job(
    settings: Settings,
    kind: str,
    params: dict[str, Any],
    failure: str,
    bar: str | None = None,
) -> dict[str, Any]:
    """Run the job ``kind`` here (with a progress bar titled ``bar``) and return its result;
    fail with its error (or ``failure``) if it did not succeed."""
    from joinedup.jobs.runner import run_inline

    if bar is None:
        row = run_inline(settings, kind, params)
    else:
        with progress_bar(bar) as listener:
            row = run_inline(settings, kind, params, listener)
    if row.status != "succeeded":
        raise fail(row.error or failure)
    return dict(row.result or {})


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
    return Actor.of(user, purpose)
