"""Creating and checking a joinedup home: directories, secret key, database schema."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from joinedup.catalog import migrate
from joinedup.config import Settings
from joinedup.jobs.runner import fail_interrupted
from joinedup.store import SnapshotStore


@dataclass(frozen=True)
class InitReport:
    home: str
    revision: str
    stale_temp_removed: int
    interrupted_jobs: int
    #: the revision the database was at before (None: a new database)
    previous_revision: str | None = None
    #: the migrations applied now, oldest first: (revision, description)
    applied: tuple[tuple[str, str], ...] = ()


def ensure_secret_key(settings: Settings) -> str:
    """The signing key for sessions: from settings, else a random key kept in the home (0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def init_home(settings: Settings) -> InitReport:
    """Create the home and migrate the database. Safe to run any number of times."""
    settings.home.mkdir(parents=True, exist_ok=True)
    store = SnapshotStore(settings)
    store.ensure_dirs()
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    ensure_secret_key(settings)
    previous = migrate.current_revision(settings)
    applied = tuple(migrate.pending(settings))
    migrate.upgrade(settings)
    return InitReport(
        home=str(settings.home.resolve()),
        revision=migrate.head_revision(),
        stale_temp_removed=store.remove_stale_temp(),
        interrupted_jobs=fail_interrupted(settings),
        previous_revision=previous,
        applied=applied,
    )


def database_label(settings: Settings) -> str:
    """The control-plane database, named without its password (for messages)."""
    from sqlalchemy.engine import make_url

    from joinedup.catalog.db import normalise_url

    return make_url(normalise_url(settings.resolved_database_url)).render_as_string(
        hide_password=True
    )


def database_tables(settings: Settings) -> list[str]:
    """The tables the control-plane database holds (raises if it cannot be reached)."""
    from sqlalchemy import inspect

    from joinedup.catalog.db import get_engine

    with get_engine(settings).connect() as conn:
        return list(inspect(conn).get_table_names())


def home_problem(settings: Settings) -> str | None:
    """Why ``settings`` names no usable home (missing, not initialised, database unreachable
    or behind this release's migrations), as a sentence saying what to do; ``None`` if it is
    ready. Checked before a command that needs a home runs, so it touches nothing."""
    from sqlalchemy.exc import SQLAlchemyError

    home = settings.home.resolve()
    if not home.is_dir():
        return f"there is no joinedup home at {home}: run `joinedup init` (or set JOINEDUP_HOME)"
    uninitialised = f"the joinedup home at {home} is not initialised: run `joinedup init`"
    if not settings.database_url and not (home / "joinedup.db").is_file():
        return uninitialised
    try:
        revision = migrate.current_revision(settings)
    except SQLAlchemyError:
        return (
            f"cannot reach the database {database_label(settings)}: check "
            "JOINEDUP_DATABASE_URL and that the database server is running"
        )
    if revision is None:
        return uninitialised
    if revision != migrate.head_revision():
        return (
            f"the database is at migration {revision}, not this release's "
            f"{migrate.head_revision()}: run `joinedup init` to migrate it"
        )
    return None
