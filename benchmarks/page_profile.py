"""Server CPU of the caseworker pages, in process: what ``benchmarks/load.py`` serves, profiled.

    JOINEDUP_HOME=HOME .venv/bin/python benchmarks/page_profile.py [--requests 40]
        [--account 0] [--purpose CODE] [--profile] [--top 30]

The app is built for the home in ``JOINEDUP_HOME`` (as ``joinedup serve`` builds it) and driven
through its ASGI interface in this process, one request at a time, by a client signed in
through the form as one of the demo's caseworker accounts under a purpose with flags. Work the
app hands to threads runs in the calling thread here, so the CPU time measured (``time.
process_time``) and the profile see all of it. Printed: the CPU milliseconds per request of
each page (worklist, flag, household; medians over ``--requests`` each, after a warm-up), and
with ``--profile`` the functions that dominate (cProfile, by own and by cumulative time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import httpx

from joinedup.config import load_settings
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


async def _measure(
    get: Callable[[str], Awaitable[httpx.Response]], paths: dict[str, list[str]], n: int
) -> dict[str, list[float]]:
    cpu: dict[str, list[float]] = {page: [] for page in paths}
    for i in range(n):
        for page, options in paths.items():
            start = time.process_time()
            response = await get(options[i % len(options)])
            cpu[page].append((time.process_time() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{page} answered {response.status_code}")
    return cpu


async def _main(args: argparse.Namespace) -> None:
    settings = load_settings()
    app = create_app(settings)
    logins = [x for x in demo_logins(settings) if x.get("role") == "caseworker"]
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
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    cpu = await _measure(client.get, paths, args.requests)
    if profiler:
        profiler.disable()
    await client.aclose()
    print(f"{login['username']} under {purpose}, {args.requests} requests a page")
    for page, values in cpu.items():
        print(f"  {page:9s} CPU per request: median {statistics.median(values):5.1f} ms")
    every = [ms for values in cpu.values() for ms in values]
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
    args = parser.parse_args()
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
