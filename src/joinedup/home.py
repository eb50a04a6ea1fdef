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
    migrate.upgrade(settings)
    return InitReport(
        home=str(settings.home.resolve()),
        revision=migrate.head_revision(),
        stale_temp_removed=store.remove_stale_temp(),
        interrupted_jobs=fail_interrupted(settings),
    )
