"""Run Alembic migrations programmatically; the migration scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from joinedup.catalog.db import get_engine, normalise_url
from joinedup.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = normalise_url(settings.resolved_database_url)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    cfg.attributes["settings"] = settings
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(settings: Settings) -> str | None:
    with get_engine(settings).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def pending(settings: Settings) -> list[tuple[str, str]]:
    """The migrations ``upgrade`` would apply to this database, oldest first, as
    (revision, description) pairs (every one for a new database)."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    current = current_revision(settings)
    steps = script.iterate_revisions("head", current)
    return [(s.revision, (s.doc or "").strip().splitlines()[0]) for s in reversed(list(steps))]


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Migrate the database to ``revision``; safe to run any number of times.

    On SQLite a migration that alters a table rebuilds it (copy, drop, rename), which
    foreign keys pointing at the table would refuse: as SQLite's documentation prescribes,
    foreign keys are switched off for the migration and every reference is checked after
    it, before they are switched on again."""
    cfg = alembic_config(settings)
    with get_engine(settings).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"the migration left {len(broken)} broken references "
                            f"(first in table {broken[0][0]}): rolled back"
                        )
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
