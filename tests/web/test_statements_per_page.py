"""How many SQL statements a caseworker's page costs, on SQLite and PostgreSQL (issue 15).

On PostgreSQL every statement is a round trip, so the worklist, flag and household pages (and
their API equivalents, by session and by API token) are held to a ceiling of statements a
request: an upper bound at the level reached, so that a lazy load or a repeated look-up
cannot creep back unnoticed. Counted with SQLAlchemy's ``before_cursor_execute`` event on the
app's engine, on a copy of the demo region (PostgreSQL: the copy restored into a fresh
schema); each page is counted after a first request (the run's flags are then kept in the
process) and the least of two is taken (a session's ``last_seen_at`` is written at most once
a minute, and a slow machine may cross that minute).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from joinedup.backup import backup, restore
from joinedup.catalog.db import dispose_engines, get_engine
from joinedup.config import Settings
from joinedup.web.app import create_app
from tests.conftest import BACKENDS, pg_schema
from tests.regions import Region
from tests.support import api_token, make_settings, signed_in

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow

CASEWORKER = "lambeth.caseworker"
PURPOSE = "fsm"
FLAG = re.compile(r'href="/worklist/flags/(f-[0-9a-f]{16})"')
HOUSEHOLD = re.compile(r'href="/worklist/households/(h-[0-9a-f]{16})"')

#: The most SQL statements each request may make. Before issue 15's cut, 22 on every page
#: and API (the flag page 23: it also reads the record's disputes); by session: one statement
#: authenticates and finds the purpose's grant, then the flags read (the user, the latest
#: run, objections, actions, datasets, the policy's grant and agreements, 2 statements) and
#: its audit append (the chain's lock, head and insert). An API token costs one more (the
#: grant of the purpose it names).
CEILING = {
    "worklist": 12,
    "flag": 13,
    "household": 12,
    "api flags (session)": 12,
    "api flag (session)": 12,
    "api household (session)": 12,
    "api flags (token)": 13,
    "api flag (token)": 13,
    "api household (token)": 13,
}


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, demo_home: Region, tmp_path: Path) -> Iterator[Settings]:
    """A copy of the demo region, on SQLite or restored into a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield demo_home.copy_to(tmp_path / "home").settings
        dispose_engines()
        return
    with pg_schema() as url:
        archive = tmp_path / "demo.tar"
        backup(demo_home.settings, archive)
        settings = make_settings(tmp_path / "pg-home", url)
        restore(settings, archive)
        dispose_engines()
        yield settings


class Counter:
    """SQL statements sent on the app's engine."""

    def __init__(self, settings: Settings) -> None:
        self.engine = get_engine(settings)
        self.statements: list[str] = []
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    def least(self, client: TestClient, url: str, **kwargs: Any) -> tuple[int, list[str]]:
        """The fewest statements of two requests of ``url`` (after one uncounted)."""
        assert client.get(url, **kwargs).status_code == 200
        seen: list[list[str]] = []
        for _ in range(2):
            self.statements = []
            response = client.get(url, **kwargs)
            assert response.status_code == 200, response.text
            seen.append(self.statements)
        fewest = min(seen, key=len)
        return len(fewest), fewest

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def test_caseworker_pages_stay_under_their_statement_ceilings(
    served: Settings, demo_home: Region
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    token = api_token(served, CASEWORKER)
    with TestClient(create_app(served)) as client:
        signed_in(client, CASEWORKER, demo_home.logins[CASEWORKER], PURPOSE)
        html = client.get("/worklist").text
        flag = FLAG.findall(html)[0]
        household = HOUSEHOLD.findall(html)[0]
        pages = {
            "worklist": "/worklist",
            "flag": f"/worklist/flags/{flag}",
            "household": f"/worklist/households/{household}",
            "api flags": "/api/v1/insight/flags",
            "api flag": f"/api/v1/insight/flags/{flag}",
            "api household": f"/api/v1/insight/households/{household}/flags",
        }
        bearer = {"Authorization": f"Bearer {token}", "X-Joinedup-Purpose": PURPOSE}
        counter = Counter(served)
        counts: dict[str, tuple[int, list[str]]] = {}
        try:
            for name, url in pages.items():
                if name.startswith("api"):
                    counts[f"{name} (session)"] = counter.least(client, url)
                    counts[f"{name} (token)"] = counter.least(client, url, headers=bearer)
                else:
                    counts[name] = counter.least(client, url)
        finally:
            counter.close()
    over = {
        name: (n, CEILING[name], statements)
        for name, (n, statements) in counts.items()
        if n > CEILING[name]
    }
    assert set(counts) == set(CEILING)
    summary = ", ".join(f"{name} {n}" for name, (n, _) in counts.items())
    assert not over, (
        summary
        + "\n"
        + "\n".join(
            f"{name}: {n} statements, ceiling {ceiling}:\n  " + "\n  ".join(s[:160] for s in stmts)
            for name, (n, ceiling, stmts) in over.items()
        )
    )
