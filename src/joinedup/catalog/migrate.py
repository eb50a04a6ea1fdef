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


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Migrate the database to ``revision``; safe to run any number of times."""
    cfg = alembic_config(settings)
    with get_engine(settings).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
