"""Server CPU of the caseworker pages, in process: what ``benchmarks/load.py`` serves, profiled.

    JOINEDUP_HOME=HOME .venv/bin/python benchmarks/page_profile.py [--requests 40]
        [--account 0] [--purpose CODE] [--profile] [--top 30] [--postgres URL]

The app is built for the home in ``JOINEDUP_HOME`` (as ``joinedup serve`` builds it) and driven
through its ASGI interface in this process, one request at a time, by a client signed in
through the form as one of the demo's caseworker accounts under a purpose with flags. Work the
app hands to threads runs in the calling thread here, so the CPU time measured (``time.
process_time``) and the profile see all of it. Printed: the CPU milliseconds per request of
each page (worklist, flag, household; medians over ``--requests`` each, after a warm-up), the
SQL statements and transactions (commits) a request makes on the control-plane database (means;
SQLAlchemy's ``before_cursor_execute`` and ``commit`` events), and with ``--profile`` the
functions that dominate (cProfile, by own and by cumulative time). With ``--postgres URL`` the
home is backed up and restored into a fresh PostgreSQL schema (dropped afterwards) and the pages
are served from that.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from sqlalchemy import event

# benchmarks/homes.py (this folder is on sys.path)
from homes import fresh_schema, home_settings
from joinedup.backup import backup, restore
from joinedup.catalog.db import dispose_engines, get_engine, normalise_url
from joinedup.config import Settings, load_settings
from joinedup.demo import demo_logins
from joinedup.web.app import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PURPOSE = re.compile(r'name="purpose"[^>]*value="([^"]+)"')
FLAG = re.compile(r'href="/worklist/flags/(f-[0-9a-f]{16})"')
HOUSEHOLD = re.compile(r'href="/worklist/households/(h-[0-9a-f]{16})"')


async def _inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
    """``anyio.to_thread.run_sync`` run in the calling thread, so the profile sees it."""
    return func(*args)


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise SystemExit("no CSRF token on the page")
    return found.group(1)


async def _signed_in(
    app: Any, login: dict[str, str], purpose: str
) -> tuple[httpx.AsyncClient, str]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")
    token = _csrf((await client.get("/sign-in")).text)
    signed = await client.post(
        "/sign-in",
        data={"csrf_token": token, **{k: login[k] for k in ("username", "password")}, "next": ""},
    )
    if signed.status_code != 303:
        raise SystemExit(f"signing in answered {signed.status_code}")
    offered = list(dict.fromkeys(PURPOSE.findall((await client.get("/purpose")).text)))
    for code in [purpose] if purpose else offered:
        token = _csrf((await client.get("/purpose")).text)
        await client.post("/purpose", data={"csrf_token": token, "purpose": code})
        if FLAG.search((await client.get("/worklist")).text):
            return client, code
    raise SystemExit(f"{login['username']} has no flags under {purpose or offered}")


class _Sql:
    """Statements and commits on the app's engine."""

    def __init__(self, settings: Settings) -> None:
        self.statements = self.commits = 0
        engine = get_engine(settings)
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1


async def _measure(
    get: Callable[[str], Awaitable[httpx.Response]],
    paths: dict[str, list[str]],
    n: int,
    sql: _Sql | None = None,
) -> dict[str, list[tuple[float, int, int]]]:
    """Per page, each request's CPU milliseconds, statements and commits."""
    cpu: dict[str, list[tuple[float, int, int]]] = {page: [] for page in paths}
    for i in range(n):
        for page, options in paths.items():
            before = (sql.statements, sql.commits) if sql else (0, 0)
            start = time.process_time()
            response = await get(options[i % len(options)])
            ms = (time.process_time() - start) * 1000
            after = (sql.statements, sql.commits) if sql else (0, 0)
            cpu[page].append((ms, after[0] - before[0], after[1] - before[1]))
            if response.status_code != 200:
                raise SystemExit(f"{page} answered {response.status_code}")
    return cpu


async def _main(args: argparse.Namespace, settings: Settings, home: Settings) -> None:
    """Serve ``settings``; the demo's logins are read from ``home`` (a restored home has
    its database and data, not the demo's file of logins)."""
    app = create_app(settings)
    logins = [x for x in demo_logins(home) if x.get("role") == "caseworker"]
    login = logins[args.account % len(logins)]
    client, purpose = await _signed_in(app, login, args.purpose)
    html = (await client.get("/worklist")).text
    paths = {
        "worklist": ["/worklist", "/worklist?page=2"],
        "flag": [f"/worklist/flags/{f}" for f in dict.fromkeys(FLAG.findall(html))],
        "household": [f"/worklist/households/{h}" for h in dict.fromkeys(HOUSEHOLD.findall(html))],
    }
    paths = {k: v for k, v in paths.items() if v}
    await _measure(client.get, paths, 5)  # warm-up: compiled templates, caches
    sql = _Sql(settings)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    cpu = await _measure(client.get, paths, args.requests, sql)
    if profiler:
        profiler.disable()
    await client.aclose()
    database = settings.resolved_database_url.split(":", 1)[0]
    print(f"{login['username']} under {purpose}, {args.requests} requests a page, {database}")
    for page, values in cpu.items():
        print(
            f"  {page:9s} CPU per request: median {statistics.median(v[0] for v in values):5.1f} ms"
            f"; SQL statements {statistics.mean(v[1] for v in values):4.1f}"
            f", commits {statistics.mean(v[2] for v in values):3.1f}"
        )
    every = [v[0] for values in cpu.values() for v in values]
    print(f"  all       CPU per request: mean {statistics.mean(every):5.1f} ms")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--account", type=int, default=0, help="Which caseworker login.")
    parser.add_argument("--purpose", default="", help="Default: the first with flags.")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--postgres", default="", help="Serve from this PostgreSQL instead.")
    args = parser.parse_args()
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    settings = load_settings()
    if not args.postgres:
        asyncio.run(_main(args, settings, settings))
        return
    with tempfile.TemporaryDirectory(prefix="joinedup-page-profile-") as tmp:
        archive = Path(tmp) / "home.tar"
        backup(settings, archive)
        with fresh_schema(normalise_url(args.postgres)) as url:
            served = home_settings(Path(tmp) / "pg-home", url)
            restore(served, archive)
            dispose_engines()
            asyncio.run(_main(args, served, settings))


if __name__ == "__main__":
    main()
