"""Upgrading a home made by an earlier release: ``tests/fixtures/upgrade/`` holds the database
and snapshots of a demo home built by commit 9509b7d (control plane at 0011_insight_areas;
``scripts/build-upgrade-fixture.sh`` rebuilds it), and what that release's database held, read
with sqlite3. The current code refuses to work on it until ``joinedup init``, which says which
migrations it applies; afterwards every row, snapshot and audit link is still there
(``audit verify``, ``store verify``), and the current code reads and extends the old data."""

from __future__ import annotations

import json
import sqlite3
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from joinedup.catalog import migrate
from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import (
    AuditEvent,
    Dataset,
    DatasetVersion,
    LinkageRun,
    Organisation,
    Snapshot,
)
from joinedup.cli import app
from joinedup.config import Settings
from joinedup.home import home_problem
from joinedup.standards import field_names
from joinedup.store import SnapshotStore, duckdb_session
from tests.support import make_settings

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "upgrade"
FACTS = json.loads((FIXTURE / "home.json").read_text())
runner = CliRunner()


def unpack(home: Path) -> Settings:
    home.mkdir(parents=True)
    with tarfile.open(FIXTURE / "home.tar.xz") as tar:
        tar.extractall(home, filter="data")
    return make_settings(home)


def invoke(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"JOINEDUP_HOME": str(settings.home), "JOINEDUP_SECRET_KEY": settings.secret_key}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    settings = unpack(tmp_path_factory.mktemp("upgrade") / "home")
    assert FACTS["revision"] != migrate.head_revision()
    problem = home_problem(settings)
    assert problem is not None and "joinedup init" in problem and FACTS["revision"] in problem
    refused, message = invoke(settings, "store", "verify")
    assert refused == 1 and "run `joinedup init` to migrate it" in message
    code, output = invoke(settings, "init")
    assert code == 0, output
    dispose_engines()
    return settings, output


def test_init_says_which_migrations_it_applies(upgraded: tuple[Settings, str]) -> None:
    settings, output = upgraded
    assert f"Upgraded the database from revision {FACTS['revision']}" in output
    pending = migrate.ScriptDirectory(str(migrate.MIGRATIONS_DIR)).iterate_revisions(
        "head", FACTS["revision"]
    )
    for script in pending:
        assert script.revision in output
    assert migrate.current_revision(settings) == migrate.head_revision()
    again_code, again = invoke(settings, "init")
    assert again_code == 0 and "already at this release's revision" in again


def test_every_row_and_snapshot_is_kept(upgraded: tuple[Settings, str]) -> None:
    settings, _ = upgraded
    counts = row_counts(settings.home / "joinedup.db")
    for table, count in FACTS["row_counts"].items():
        assert counts[table] == count, table
    store = SnapshotStore(settings)
    with session_scope(settings) as session:
        rows = {s.sha256: s for s in session.scalars(select(Snapshot))}
        assert {sha: rows[sha].size_bytes for sha in rows} == FACTS["snapshots"]
        assert all(store.verify(row) for row in rows.values())
    code, output = invoke(settings, "store", "verify")
    assert code == 0 and f"All {len(FACTS['snapshots'])} snapshots are intact" in output


def test_the_audit_chain_is_intact_and_grows(upgraded: tuple[Settings, str]) -> None:
    settings, _ = upgraded
    with session_scope(settings) as session:
        event = session.get(AuditEvent, FACTS["audit_last_id"])
        assert event is not None and event.hash == FACTS["audit_head_hash"]
    code, output = invoke(settings, "audit", "verify")
    assert code == 0, output
    assert str(FACTS["audit_events"]) in output.replace(",", "")


def test_the_current_code_reads_and_extends_the_old_data(
    upgraded: tuple[Settings, str], tmp_path: Path
) -> None:
    settings, _ = upgraded
    with session_scope(settings) as session:
        run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc())).first()
        assert run is not None
        index = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        resident, records = con.execute(
            f"SELECT resident_id, count(*) FROM {index} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).fetchone()
    assert records >= 2
    # an analyst reads a resident of the old index through the policy (audited)
    code, output = invoke(settings, "linkage", "resident", resident, "--as", "hub.analyst")
    assert code == 0, output
    assert resident in output
    # new work on the old data: a new version of an old dataset (the old rows and one more
    # record), ingested and linked incrementally into the old index
    census = tmp_path / "school-census.csv"
    with session_scope(settings) as session:
        latest = session.scalars(
            select(DatasetVersion)
            .join(Dataset)
            .join(Organisation)
            .where(Organisation.code == "lambeth", Dataset.name == "school-census")
            .order_by(DatasetVersion.version.desc())
        ).first()
        assert latest is not None
        old_rows = SnapshotStore(settings).sql_source(latest.snapshot_sha256)
    columns = ", ".join(f'"{c}"' for c in field_names("school_census"))
    with duckdb_session(settings) as con:
        con.execute(
            f"""COPY (WITH old AS (SELECT {columns} FROM {old_rows})
                SELECT * FROM old UNION ALL (SELECT * REPLACE ('NEW-' || source_record_id AS
                source_record_id) FROM old ORDER BY source_record_id LIMIT 1))
            TO '{census}' (HEADER)"""
        )
    code, output = invoke(
        settings, "ingest", str(census), "--org", "lambeth", "--dataset", "school-census",
        "--standard", "school_census",
    )  # fmt: skip
    assert code == 0, output
    code, output = invoke(settings, "linkage", "update")
    assert code == 0, output
    with session_scope(settings) as session:
        runs = list(session.scalars(select(LinkageRun).order_by(LinkageRun.id)))
        assert len(runs) == FACTS["row_counts"]["linkage_run"] + 1
        assert runs[-1].parent_run_id == runs[-2].id
        assert runs[-1].records == runs[-2].records + 1
        new_index = SnapshotStore(settings).sql_source(runs[-1].index_sha256)
    with duckdb_session(settings) as con:
        kept = con.execute(
            f"SELECT count(*) FROM {new_index} WHERE resident_id = ?", [resident]
        ).fetchone()
    assert kept == (records,)  # the old resident keeps its id and its records
    code, output = invoke(settings, "audit", "verify")
    assert code == 0, output
    code, output = invoke(settings, "store", "verify")
    assert code == 0, output
