"""Shared fixtures: a fresh joinedup home per test, on SQLite and (when configured) PostgreSQL.

Set ``JOINEDUP_TEST_POSTGRES_URL`` (``.ci/run`` does) to also run every ``db_settings`` test
against PostgreSQL; each test gets its own schema, dropped afterwards, so runs never collide.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from joinedup.catalog.db import dispose_engines, normalise_url
from joinedup.config import Settings
from joinedup.governance.accounts import use_fast_hashing_for_tests
from joinedup.home import init_home
from tests.support import SQLITE_TEMPLATE, make_settings

if TYPE_CHECKING:
    from tests.regions import Region

PG_URL = os.environ.get("JOINEDUP_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgres"]


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards (skips the
    test when no server is configured)."""
    if not PG_URL:
        pytest.skip("JOINEDUP_TEST_POSTGRES_URL is not set")
    base = normalise_url(PG_URL)
    schema = f"jt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(base, schema)
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _database_url(base: str, database: str) -> str:
    return make_url(base).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_home_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A home on its own PostgreSQL database as ``init_home`` leaves it, made once per worker:
    each test's PostgreSQL home is a copy (``CREATE DATABASE … TEMPLATE``: about 0.03 s of CPU
    here and 0.15 s in the server, where migrating a new schema costs 0.3 s and 0.35 s)."""
    if not PG_URL:
        pytest.skip("JOINEDUP_TEST_POSTGRES_URL is not set")
    base = normalise_url(PG_URL)
    database = f"jt_template_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        template = make_settings(
            tmp_path_factory.mktemp("pg-template") / "home", _database_url(base, database)
        )
        init_home(template)
        dispose_engines()  # a template database must have no other sessions while copied
        yield template
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def pg_copy(template: Settings, home: Path) -> Iterator[Settings]:
    """Settings for ``home``, a copy of ``template``'s home on a copy of its database (dropped
    afterwards)."""
    base = normalise_url(PG_URL)
    source = make_url(template.resolved_database_url).database
    database = f"jt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{source}"'))
    try:
        shutil.copytree(template.home, home)
        yield make_settings(home, _database_url(base, database))
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    with pg_schema() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home on SQLite as ``init_home`` leaves it, made once per worker: each test's SQLite
    home is a copy of it (migrating a new database costs about 0.2 s of CPU, a copy a few ms)."""
    template = make_settings(tmp_path_factory.mktemp("home-template") / "home")
    init_home(template)
    dispose_engines()
    SQLITE_TEMPLATE.append(template.home)
    return template.home


@pytest.fixture(params=BACKENDS)
def db_settings(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_home_template: Path
) -> Iterator[Settings]:
    """An initialised home on each database backend (copies of a template made once)."""
    if request.param == "postgres":
        with pg_copy(request.getfixturevalue("postgres_home_template"), tmp_path / "home") as pg:
            yield pg
        return
    settings = make_settings(tmp_path / "home")
    shutil.copytree(sqlite_home_template, settings.home)
    yield settings
    dispose_engines()


@pytest.fixture
def home_settings(tmp_path: Path, sqlite_home_template: Path) -> Iterator[Settings]:
    """An initialised home on SQLite (for tests that are not about the database)."""
    settings = make_settings(tmp_path / "home")
    shutil.copytree(sqlite_home_template, settings.home)
    yield settings
    dispose_engines()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright: one per worker, shared by every test that drives
    it (the browser tests' ``page`` fixture, and the observability test's journey)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A command under test (``joinedup worker``, ``serve``) configures the root logger for its
    process; put it back after each test, so no later test inherits its handler or level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """argon2 with production parameters costs ~0.2 s a hash; tests use cheap parameters."""
    use_fast_hashing_for_tests()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests parametrised onto PostgreSQL carry the ``postgres`` marker."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgres" in callspec.id.split("-"):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def linked_region_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    """A small synthetic region, ingested, governed and linked (built once and cached: see
    :mod:`tests.regions`), with the hub's reviewer. Do not change it: tests copy it with
    :func:`tests.linkage.region.copy_home`."""
    from tests.linkage.region import add_reviewer
    from tests.regions import LINKED, copy_region

    region = copy_region(LINKED, tmp_path_factory.mktemp("linked-region") / "home")
    add_reviewer(region.settings)
    dispose_engines()
    yield region
    dispose_engines()


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Region:
    """A 4,000-resident demo region run through every demo stage (built once and cached:
    see :mod:`tests.regions`), shared by the insight, publish and browser tests."""
    from tests.regions import DEMO, copy_region

    return copy_region(DEMO, tmp_path_factory.mktemp("demo") / "home")


@pytest.fixture(scope="module")
def private_demo(tmp_path_factory: pytest.TempPathFactory) -> Region:
    """A copy of the cached demo region that one module may change without the others seeing
    it; copied from the cache, not from the session's ``demo_home``, so what another module
    did to that (a release, an intervention) never reaches it, whatever order they run in."""
    from tests.regions import DEMO, copy_region

    return copy_region(DEMO, tmp_path_factory.mktemp("demo-copy") / "home")
