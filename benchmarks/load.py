"""Load benchmark: concurrent signed-in caseworkers on the worklist, flag and household pages.

    .venv/bin/python benchmarks/load.py HOME [--users 50] [--seconds 60] [--think 0]
        [--workers 1] [--postgres URL] [--max-requests 200000]

HOME is a demo home on SQLite (``joinedup demo`` writes its caseworkers' logins into it). It is
served as ``joinedup serve --workers N`` serves it (uvicorn, on 127.0.0.1 and a free port);
serving writes audit events, so point it at a copy of a home you want to keep unchanged. Each
of ``--users`` clients is its own session: it signs in through the form as one of the demo's
caseworker accounts (round robin over every council's), chooses one of the purposes the purpose
page offers that account and under which its worklist has flags (round robin), and reads its
worklist to learn flag and household ids. When every client is ready, all of them request, for
``--seconds``, a worklist page, a flag page or a household page chosen at random, each
waiting ``--think`` seconds between a response and its next request (0: back to back).

Printed: per page type the requests, errors (any status but 200, or no response) and the
p50/p95/p99 latency, the throughput, and the CPU time the server's processes (and the load
client) spent per request in the timed window. With ``--postgres URL`` the home is backed up and
restored into a fresh PostgreSQL schema (dropped afterwards) and the same load is run on it.
The load is bounded: loopback only, at most ``--max-requests`` requests a run and
600 s of timed runs in all. ``--runs N`` repeats the timed window on the same sessions and
prints the median of the runs' percentiles too.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# benchmarks/homes.py (this folder is on sys.path)
from homes import fresh_schema, home_settings
from joinedup.backup import backup, restore
from joinedup.catalog.db import dispose_engines, normalise_url
from joinedup.demo import demo_logins
from joinedup.web.server import KEEP_ALIVE_SECONDS

HOST = "127.0.0.1"  # loopback only: the benchmark never loads another machine
MAX_SECONDS = 600
PAGES = ("worklist", "flag", "household")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PURPOSE = re.compile(r'name="purpose"[^>]*value="([^"]+)"')
FLAG = re.compile(r'href="/worklist/flags/(f-[0-9a-f]{16})"')
HOUSEHOLD = re.compile(r'href="/worklist/households/(h-[0-9a-f]{16})"')
PAGE_LINK = re.compile(r'href="/worklist\?[^"]*page=(\d+)"')


class LoadError(RuntimeError):
    """The benchmark could not set up its clients (not a load error: those are counted)."""


@dataclass
class Caseworker:
    """One signed-in client: its session, purpose and the ids its worklist showed it."""

    client: httpx.AsyncClient
    username: str
    purpose: str
    flags: list[str] = field(default_factory=list)
    households: list[str] = field(default_factory=list)
    pages: int = 1


@dataclass
class Sample:
    page: str
    seconds: float
    status: int  # 0: no response (timeout, connection refused or reset)
    failure: str = ""  # with status 0: the exception's type


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise LoadError("no CSRF token on the page")
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and its descendants (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid, seconds in times.items():
        walk = pid
        while walk > 1 and walk != root:
            walk = parents.get(walk, 0)
        if walk == root:
            total += seconds
    return total


@contextmanager
def _serving(home: Path, url: str, log: Path, workers: int) -> Iterator[tuple[str, int]]:
    """``joinedup serve`` on 127.0.0.1 for ``home`` (and database ``url``), until the block
    ends: its base URL and process id."""
    port = _free_port()
    env = {**os.environ, "JOINEDUP_HOME": str(home), "JOINEDUP_DATABASE_URL": url}
    command = [str(Path(sys.executable).with_name("joinedup")), "serve", "--host", HOST]
    command += ["--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    raise LoadError(f"the server stopped (exit {server.returncode}); see {log}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise LoadError(f"the server did not answer /healthz in 120 s; see {log}")
                time.sleep(0.2)
            yield base, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def _choose(client: httpx.AsyncClient, purpose: str) -> None:
    token = _csrf((await client.get("/purpose")).text)
    chosen = await client.post("/purpose", data={"csrf_token": token, "purpose": purpose})
    if chosen.status_code not in (200, 303):
        raise LoadError(f"choosing purpose {purpose!r} answered {chosen.status_code}")


async def _worklist(worker: Caseworker) -> None:
    html = (await worker.client.get("/worklist")).text
    worker.flags = list(dict.fromkeys(FLAG.findall(html)))
    worker.households = list(dict.fromkeys(HOUSEHOLD.findall(html)))
    worker.pages = min(10, max([1, *(int(p) for p in PAGE_LINK.findall(html))]))


async def _sign_in(base: str, username: str, password: str) -> httpx.AsyncClient:
    # One connection a session, kept while idle for less than the server keeps it (like a
    # browser or a reverse proxy): httpx's own 5 s equalled uvicorn's old 5 s, and a request
    # sent on a connection just as the server closed it got no response.
    limits = httpx.Limits(max_connections=1, keepalive_expiry=KEEP_ALIVE_SECONDS - 15)
    client = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
    token = _csrf((await client.get("/sign-in")).text)
    signed = await client.post(
        "/sign-in",
        data={"csrf_token": token, "username": username, "password": password, "next": ""},
    )
    if signed.status_code != 303:
        await client.aclose()
        raise LoadError(f"signing in as {username} answered {signed.status_code}")
    return client


async def _purposes_with_flags(base: str, login: dict[str, str]) -> list[str]:
    """The purposes the purpose page offers this account under which its worklist has flags."""
    client = await _sign_in(base, login["username"], login["password"])
    try:
        offered = list(dict.fromkeys(PURPOSE.findall((await client.get("/purpose")).text)))
        useful = []
        for purpose in offered:
            await _choose(client, purpose)
            probe = Caseworker(client, login["username"], purpose)
            await _worklist(probe)
            if probe.flags:
                useful.append(purpose)
        return useful
    finally:
        await client.aclose()


async def _clients(base: str, logins: list[dict[str, str]], users: int) -> list[Caseworker]:
    per_account = [[(x, p) for p in await _purposes_with_flags(base, x)] for x in logins]
    # interleaved, so that the sessions spread over every account before a second purpose
    plans = [plan for depth in itertools.zip_longest(*per_account) for plan in depth if plan]
    if not plans:
        raise LoadError("no caseworker account has flags on its worklist under any purpose")
    workers = []
    for n in range(users):  # one after another: signing in hashes a password on purpose
        login, purpose = plans[n % len(plans)]
        client = await _sign_in(base, login["username"], login["password"])
        await _choose(client, purpose)
        worker = Caseworker(client, login["username"], purpose)
        await _worklist(worker)
        workers.append(worker)
    return workers


async def _drive(
    worker: Caseworker,
    seed: int,
    until: float,
    think: float,
    budget: list[int],
    samples: list[Sample],
) -> None:
    rng = random.Random(seed)
    if think:  # the clients start spread over one think time, not all in the same instant
        await asyncio.sleep(rng.uniform(0, think))
    while time.perf_counter() < until and budget[0] > 0:
        budget[0] -= 1
        page = rng.choice(PAGES)
        if page == "flag" and worker.flags:
            path = f"/worklist/flags/{rng.choice(worker.flags)}"
        elif page == "household" and worker.households:
            path = f"/worklist/households/{rng.choice(worker.households)}"
        else:
            page, path = "worklist", f"/worklist?page={rng.randint(1, worker.pages)}"
        start = time.perf_counter()
        failure = ""
        try:
            response = await worker.client.get(path)
            await response.aread()
            status = response.status_code
        except httpx.TransportError as exc:
            status, failure = 0, type(exc).__name__
        samples.append(Sample(page, time.perf_counter() - start, status, failure))
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _report(label: str, samples: list[Sample], seconds: float) -> dict[str, list[float]]:
    """Print one timed run's figures; return each page type's p50/p95/p99 in ms."""
    print(f"{label}: {len(samples):,} requests in {seconds:.1f} s ({len(samples) / seconds:.1f}/s)")
    figures = {}
    for page in (*PAGES, "all"):
        chosen = [s for s in samples if page in ("all", s.page)]
        if not chosen:
            continue
        errors = [s for s in chosen if s.status != 200]
        statuses = sorted({f"{s.status} {s.failure}".strip() for s in errors})
        ms = [_percentile([s.seconds for s in chosen], q) * 1000 for q in (0.5, 0.95, 0.99)]
        figures[page] = ms
        print(
            f"  {page:9s} {len(chosen):7,} requests, {len(errors):5,} errors"
            f"{f' (statuses {statuses})' if statuses else ''}; "
            f"p50 {ms[0]:6.0f} ms, p95 {ms[1]:6.0f} ms, p99 {ms[2]:6.0f} ms"
        )
    return figures


async def _timed(
    workers: list[Caseworker], args: argparse.Namespace, run: int
) -> dict[str, list[float]]:
    samples: list[Sample] = []
    budget = [args.max_requests]
    load_before = os.getloadavg()
    server_cpu, client_cpu = _cpu_seconds(args.server_pid), time.process_time()
    start = time.perf_counter()
    until = start + args.seconds
    await asyncio.gather(
        *(
            _drive(w, args.seed + 1000 * run + n, until, args.think, budget, samples)
            for n, w in enumerate(workers)
        )
    )
    elapsed = time.perf_counter() - start
    load_after = os.getloadavg()
    server_cpu = _cpu_seconds(args.server_pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    figures = _report(f"{args.label} run {run + 1}", samples, elapsed)
    if any(s.status >= 500 for s in samples):  # the server's own account (logs carry no
        # personal data), before the scratch folder with its log is removed
        errors = [x for x in args.server_log.read_text().splitlines() if '"error"' in x]
        print("  server errors logged:", *(e[:1000] for e in errors[-10:]), sep="\n    ")
    print(f"  load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    if samples:
        print(
            f"  CPU per request: server {server_cpu / len(samples) * 1000:.1f} ms "
            f"({server_cpu:.1f} s in all, {args.workers} worker(s)), "
            f"load client {client_cpu / len(samples) * 1000:.1f} ms"
        )
    return figures


async def _load(base: str, logins: list[dict[str, str]], args: argparse.Namespace) -> None:
    workers = await _clients(base, logins, args.users)
    accounts = sorted({w.username for w in workers})
    plans = sorted({f"{w.username}/{w.purpose}" for w in workers})
    print(
        f"  {len(workers)} sessions as {len(accounts)} caseworker accounts, round robin over "
        f"{', '.join(plans)}; think {args.think:g} s"
    )
    try:
        runs = [await _timed(workers, args, n) for n in range(args.runs)]
    finally:
        for worker in workers:
            await worker.client.aclose()
    if args.runs > 1:
        print(f"{args.label}: median of {args.runs} runs")
        for page in runs[0]:
            ms = [statistics.median(r[page][i] for r in runs if page in r) for i in range(3)]
            print(f"  {page:9s} p50 {ms[0]:6.0f} ms, p95 {ms[1]:6.0f} ms, p99 {ms[2]:6.0f} ms")


def _run(home: Path, url: str, label: str, args: argparse.Namespace, scratch: Path) -> None:
    # the logins file stays in the demo's own home (a backup does not carry it)
    logins = [x for x in demo_logins(home_settings(args.home)) if x.get("role") == "caseworker"]
    if not logins:
        raise LoadError(f"{args.home} has no demo caseworker logins (run `joinedup demo` into it)")
    args.label = label
    args.server_log = scratch / f"serve-{label}.log"
    with _serving(home, url, args.server_log, args.workers) as (base, pid):
        args.server_pid = pid
        asyncio.run(_load(base, logins, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0, help="Mean seconds between requests.")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=1, help="Timed runs on the same sessions.")
    parser.add_argument("--postgres", default="", help="Also run on this PostgreSQL.")
    parser.add_argument("--no-sqlite", action="store_true", help="Run on PostgreSQL only.")
    args = parser.parse_args()
    if not 0 < args.seconds * args.runs <= MAX_SECONDS or not 0 < args.users <= 500:
        parser.error(f"--seconds x --runs must be in (0, {MAX_SECONDS}], --users in (0, 500]")
    if not 0 < args.workers <= 16:
        parser.error("--workers must be in (0, 16]")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {args.users} caseworkers for {args.seconds:g} s, "
        f"{args.workers} server worker(s)"
    )
    with tempfile.TemporaryDirectory(prefix="joinedup-load-bench-") as tmp:
        scratch = Path(tmp)
        if not args.no_sqlite:
            _run(args.home, "", "sqlite", args, scratch)
        if args.postgres:
            archive = scratch / "home.tar"
            backup(home_settings(args.home), archive)
            with fresh_schema(normalise_url(args.postgres)) as url:
                restore(home_settings(scratch / "pg-home", url), archive)
                dispose_engines()
                _run(scratch / "pg-home", url, "postgresql", args, scratch)


if __name__ == "__main__":
    main()
