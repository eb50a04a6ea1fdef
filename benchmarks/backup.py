"""Benchmark backup, verify and restore of a home, and the archive's size against the home's.

    .venv/bin/python benchmarks/backup.py HOME [--runs N] [--postgres URL] [--serve]

HOME is an initialised home on SQLite (for example the demo's). Each run backs it up to a fresh
archive, checks the archive (``backup verify``) and restores it into a fresh empty home, and
prints the median seconds of each step. With ``--postgres URL`` the SQLite archive is first
restored into a fresh PostgreSQL schema, and the same runs are made on that home, restoring
into another fresh schema each time (schemas are dropped afterwards).

The home's size is the snapshot files and linkage models plus the catalogue (the SQLite file,
or the PostgreSQL schema's relations with their indexes and TOAST).

With ``--serve`` the app also serves the home (uvicorn on 127.0.0.1) while one client requests
the open-data page and ``/healthz`` back to back: the requests' latency during one backup is
compared with the same client's latency just before it (a baseline of the same length).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from homes import fresh_schema, home_settings
from joinedup.backup import backup, restore, verify_archive
from joinedup.catalog.db import dispose_engines, normalise_url
from joinedup.config import Settings


def _catalogue_bytes(settings: Settings) -> int:
    if not settings.database_url:
        return sum(p.stat().st_size for p in settings.home.glob("*.db*"))
    engine = create_engine(normalise_url(settings.database_url))
    query = text(
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = currentfresh_schema() AND c.relkind = 'r'"
    )
    with engine.connect() as conn:
        size = int(conn.execute(query).scalar_one())
    engine.dispose()
    return size


def _home_bytes(settings: Settings) -> int:
    snapshots = sum(p.stat().st_size for p in settings.snapshots_dir.rglob("*.parquet"))
    models = sum(p.stat().st_size for p in (settings.home / "linkage").rglob("*.json"))
    return snapshots + models + _catalogue_bytes(settings)


def _timed(step: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    step(*args)
    dispose_engines()
    return time.perf_counter() - start


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _while_serving(source: Settings, scratch: Path) -> None:
    """Request latency during a backup against a baseline of the same length before it."""
    import socket
    import threading

    import httpx
    import uvicorn

    from joinedup.web.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(source), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    seen: list[tuple[float, float, int]] = []  # (start, seconds, status)
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for n in range(100_000):
                if stop.is_set():
                    return
                start = time.perf_counter()
                status = client.get(("/open-data", "/healthz")[n % 2]).status_code
                seen.append((start, time.perf_counter() - start, status))

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    deadline = time.monotonic() + 120
    while len(seen) < 20 and time.monotonic() < deadline:  # warm up: the first pages compile
        time.sleep(0.1)
    time.sleep(2)
    archive = scratch / "serving.tar"
    began = time.perf_counter()
    backup(source, archive)
    ended = time.perf_counter()
    time.sleep(0.5)
    stop.set()
    worker.join()
    server.should_exit = True
    during = [s for t, s, _ in seen if began <= t <= ended]
    before = [s for t, s, _ in seen if began - (ended - began) <= t < began]
    statuses = {c for _, _, c in seen}
    ms = {
        name: (_percentile(v, 0.5) * 1000, _percentile(v, 0.95) * 1000)
        for name, v in (("during", during), ("before", before))
    }
    print(
        f"while serving: backup {ended - began:.2f} s, {len(during)} requests answered during it "
        f"(statuses {sorted(statuses)}); latency p50/p95 during {ms['during'][0]:.0f}/"
        f"{ms['during'][1]:.0f} ms, before {ms['before'][0]:.0f}/{ms['before'][1]:.0f} ms"
    )
    dispose_engines()


def _runs(label: str, source: Settings, runs: int, scratch: Path, pg: str) -> Path:
    times: dict[str, list[float]] = {"backup": [], "verify": [], "restore": []}
    archive = scratch / f"{label}.tar"
    for n in range(runs):
        archive.unlink(missing_ok=True)
        times["backup"].append(_timed(backup, source, archive))
        if n == 0:
            report = verify_archive(archive)
            print(
                f"{label:10s} {sum(report.tables.values()):,} rows in {len(report.tables)} "
                f"tables ({report.audit_events:,} audit events), {report.snapshots} snapshots, "
                f"{report.files} other files"
            )
        times["verify"].append(_timed(verify_archive, archive))
        target = scratch / f"{label}-restored-{n}"
        if pg:
            with fresh_schema(pg) as url:
                times["restore"].append(_timed(restore, home_settings(target, url), archive))
        else:
            times["restore"].append(_timed(restore, home_settings(target), archive))
        shutil.rmtree(target, ignore_errors=True)
    home, size = _home_bytes(source), archive.stat().st_size
    medians = ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in times.items())
    print(
        f"{label:10s} median of {runs}: {medians}; home {home / 1e6:.1f} MB, "
        f"archive {size / 1e6:.1f} MB ({size / home:.0%} of the home)"
    )
    return archive


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default="", help="Also measure on this PostgreSQL.")
    parser.add_argument("--serve", action="store_true", help="Also back up while serving.")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    source = home_settings(args.home)
    with tempfile.TemporaryDirectory(prefix="joinedup-backup-bench-") as tmp:
        scratch = Path(tmp)
        archive = _runs("sqlite", source, args.runs, scratch, "")
        if args.serve:
            _while_serving(source, scratch)
        if args.postgres:
            base = normalise_url(args.postgres)
            with fresh_schema(base) as url:
                pg_home = home_settings(scratch / "pg-home", url)
                restore(pg_home, archive)
                dispose_engines()
                _runs("postgresql", pg_home, args.runs, scratch, base)
                if args.serve:
                    _while_serving(pg_home, scratch)


if __name__ == "__main__":
    main()
