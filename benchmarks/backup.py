"""Benchmark backup, verify and restore of a home, and the archive's size against the home's.

    .venv/bin/python benchmarks/backup.py HOME [--runs N] [--postgres URL]

HOME is an initialised home on SQLite (for example the demo's). Each run backs it up to a fresh
archive, checks the archive (``backup verify``) and restores it into a fresh empty home, and
prints the median seconds of each step. With ``--postgres URL`` the SQLite archive is first
restored into a fresh PostgreSQL schema, and the same runs are made on that home, restoring
into another fresh schema each time (schemas are dropped afterwards).

The home's size is the snapshot files plus the catalogue (the SQLite file, or the PostgreSQL
schema's relations with their indexes and TOAST).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from joinedup.backup import backup, restore, verify_archive
from joinedup.catalog.db import dispose_engines, normalise_url
from joinedup.config import Settings


def _settings(home: Path, url: str = "") -> Settings:
    return Settings(home=home, database_url=url, secret_key="benchmark")


@contextmanager
def _schema(base: str) -> Iterator[str]:
    """A fresh PostgreSQL schema, as a URL whose search_path is that schema."""
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


def _catalogue_bytes(settings: Settings) -> int:
    if not settings.database_url:
        return sum(p.stat().st_size for p in settings.home.glob("*.db*"))
    engine = create_engine(normalise_url(settings.database_url))
    query = text(
        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
    )
    with engine.connect() as conn:
        size = int(conn.execute(query).scalar_one())
    engine.dispose()
    return size


def _home_bytes(settings: Settings) -> int:
    snapshots = sum(p.stat().st_size for p in settings.snapshots_dir.rglob("*.parquet"))
    return snapshots + _catalogue_bytes(settings)


def _timed(step: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    step(*args)
    dispose_engines()
    return time.perf_counter() - start


def _runs(label: str, source: Settings, runs: int, scratch: Path, pg: str) -> Path:
    times: dict[str, list[float]] = {"backup": [], "verify": [], "restore": []}
    archive = scratch / f"{label}.tar"
    for n in range(runs):
        archive.unlink(missing_ok=True)
        times["backup"].append(_timed(backup, source, archive))
        times["verify"].append(_timed(verify_archive, archive))
        target = scratch / f"{label}-restored-{n}"
        if pg:
            with _schema(pg) as url:
                times["restore"].append(_timed(restore, _settings(target, url), archive))
        else:
            times["restore"].append(_timed(restore, _settings(target), archive))
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
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    source = _settings(args.home)
    with tempfile.TemporaryDirectory(prefix="joinedup-backup-bench-") as tmp:
        scratch = Path(tmp)
        archive = _runs("sqlite", source, args.runs, scratch, "")
        if args.postgres:
            base = normalise_url(args.postgres)
            with _schema(base) as url:
                pg_home = _settings(scratch / "pg-home", url)
                restore(pg_home, archive)
                dispose_engines()
                _runs("postgresql", pg_home, args.runs, scratch, base)


if __name__ == "__main__":
    main()
