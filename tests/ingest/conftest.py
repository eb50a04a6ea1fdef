"""Fixtures of the ingest tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Organisation
from joinedup.config import load_settings
from joinedup.home import init_home


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A CLI home (SQLite) with the organisation southwark."""
    env = {"JOINEDUP_HOME": str(tmp_path / "home")}
    settings = load_settings(env)
    init_home(settings)
    with session_scope(settings) as session:
        session.add(Organisation(code="southwark", name="Southwark", gss_code="E09000028"))
    yield env
    dispose_engines()
