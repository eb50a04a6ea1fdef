"""Helpers the benchmarks share: a home's settings and a fresh PostgreSQL schema to restore into.

The benchmarks run as scripts (``.venv/bin/python benchmarks/x.py``), so this folder is on
``sys.path`` and they import this module as ``homes``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from joinedup.catalog.db import dispose_engines
from joinedup.config import Settings


def home_settings(home: Path, url: str = "") -> Settings:
    """Settings for the home at ``home`` (SQLite unless ``url`` names another database)."""
    return Settings(home=home, database_url=url, secret_key="benchmark")


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """A fresh PostgreSQL schema on ``base``, as a URL whose search_path is that schema;
    dropped with everything in it when the block ends."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
