"""Benchmark residents' rights: find a resident from their details and release their
subject access export, on a built demo home.

    .venv/bin/python benchmarks/rights.py [--home DIR] [--residents N] [--runs N]

Without ``--home`` a demo region of ``--residents`` (default 4,000) is built first in a
temporary folder (not timed). Each run, in this process after one warm-up: ``find_person``
with the details of a resident held by the most organisations, then ``release_export`` and
rendering the PDF and JSON-LD. Prints the median of each. Target (issue 9): "in seconds".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageRun, User
from joinedup.config import Settings, load_settings
from joinedup.governance.access import Actor
from joinedup.linkage.chain import records_source
from joinedup.rights.exports import load_export, release_export, render
from joinedup.rights.find import PersonQuery, find_person
from joinedup.store import SnapshotStore, duckdb_session


def subject(settings: Settings) -> tuple[str, dict[str, str]]:
    with session_scope(settings) as session:
        run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc())).first()
        assert run is not None
        store = SnapshotStore(settings)
        index, records = store.sql_source(run.index_sha256), records_source(settings, run)
    with duckdb_session(settings) as con:
        resident = con.execute(
            f"SELECT resident_id FROM {index} GROUP BY 1 "
            "ORDER BY count(DISTINCT organisation) DESC, count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
        given, family, dob, postcode = con.execute(
            f"""SELECT r.given_name, r.family_name, CAST(r.dob AS VARCHAR), r.postcode
            FROM {records} r JOIN {index} i USING (record_key)
            WHERE i.resident_id = ? AND r.dob IS NOT NULL ORDER BY r.record_key LIMIT 1""",
            [resident],
        ).fetchall()[0]
    details = {"given_name": given, "family_name": family, "date_of_birth": dob}
    if postcode:
        details["postcode"] = postcode
    return str(resident), details


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path)
    parser.add_argument("--residents", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.home is None:
        from tests.insight.helpers import build_demo_home

        home = Path(tempfile.mkdtemp(prefix="joinedup-bench-")) / "home"
        print(f"building a {args.residents:,}-resident demo region in {home} …", flush=True)
        import tests.insight.helpers as helpers

        helpers.OPTIONS = replace(helpers.OPTIONS, residents=args.residents)
        settings = build_demo_home(home).settings
    else:
        settings = replace(load_settings({"JOINEDUP_HOME": str(args.home)}), database_url="")
    with session_scope(settings) as session:
        user = session.scalars(select(User).where(User.role == "dpo")).first()
        assert user is not None
        actor = Actor(user.id, user.username, user.organisation_id, user.role, "subject-access")
    resident, details = subject(settings)
    query = PersonQuery.parse(details)
    finds, releases = [], []
    for run in range(args.runs + 1):
        started = time.perf_counter()
        result = find_person(settings, actor, query)
        found = time.perf_counter() - started
        assert result.residents and result.residents[0].resident_id == resident
        started = time.perf_counter()
        info = release_export(settings, actor, resident)
        for fmt in ("pdf", "jsonld"):
            document, _ = load_export(settings, actor, info.id, fmt)
            render(document, fmt, info.id)
        released = time.perf_counter() - started
        if run:  # the first run warms imports and caches
            finds.append(found)
            releases.append(released)
    records = len(result.residents[0].records)
    organisations = len(result.residents[0].organisations)
    print("| step | runs | median | runs (s) |")
    print("|---|---:|---:|---|")
    print(
        f"| find ({records} records, {organisations} organisations) | {args.runs} | "
        f"{statistics.median(finds):.2f} s | {', '.join(f'{t:.2f}' for t in finds)} |"
    )
    print(
        f"| release + PDF + JSON-LD | {args.runs} | {statistics.median(releases):.2f} s | "
        f"{', '.join(f'{t:.2f}' for t in releases)} |"
    )


if __name__ == "__main__":
    main()
