"""Incremental linkage and stable ids, on a small synthetic region (slow: updates the index).

The scenario: after the demo's full build, a new version of Lambeth's electoral register
arrives with electors removed, electors who moved house, and new electors (copies of council
tax payers, so we know who they really are). ``linkage update`` must score only those,
keep every existing resident's id, and agree with a full rebuild.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import (
    AuditEvent,
    Dataset,
    DatasetVersion,
    LinkageIdEvent,
    LinkageRun,
    Organisation,
    User,
)
from joinedup.cli import app
from joinedup.config import Settings
from joinedup.governance.objections import ObjectionSubject, record_objection
from joinedup.ingest.pipeline import IngestRequest, ingest
from joinedup.linkage import update as update_module
from joinedup.linkage.build import build_index
from joinedup.linkage.chain import layers, pairs_source, records_source
from joinedup.linkage.history import id_events
from joinedup.linkage.ids import fresh_id, greedy_assignment
from joinedup.linkage.runs import latest_run
from joinedup.linkage.update import NothingToUpdate, update_index
from joinedup.store import SnapshotStore, duckdb_session
from tests.regions import INCREMENTAL, copy_region

REMOVED, MOVED, ADDED = 20, 10, 40


@dataclass
class Region:
    settings: Settings
    index_before: dict[str, str]  # record_key -> resident_id after the full build


def _snapshot(settings: Settings, organisation: str, dataset: str) -> str:
    with session_scope(settings) as session:
        sha = session.scalars(
            select(DatasetVersion.snapshot_sha256)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .join(Organisation, Organisation.id == Dataset.organisation_id)
            .where(Organisation.code == organisation, Dataset.name == dataset)
            .order_by(DatasetVersion.version.desc())
        ).first()
    assert sha is not None
    return SnapshotStore(settings).sql_source(sha)


def _index(settings: Settings, run: LinkageRun | None = None) -> dict[str, str]:
    run = run or latest_run(settings)
    assert run is not None
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        rows = con.execute(f"SELECT record_key, resident_id FROM {source}").fetchall()
    return {str(k): str(r) for k, r in rows}


def _new_register_version(settings: Settings, out: Path) -> set[str]:
    """Lambeth's register less REMOVED electors, MOVED electors at another address, and
    ADDED electors copied from Lambeth's council tax payers (source ids NEW-n). Returns the
    record keys of the electors who moved."""
    register = _snapshot(settings, "lambeth", "electoral-register")
    tax = _snapshot(settings, "lambeth", "council-tax-accounts")
    with duckdb_session(settings) as con:
        con.execute(f"CREATE TABLE reg AS SELECT * EXCLUDE (_source_row) FROM {register}")
        con.execute(
            """CREATE TABLE ranked AS SELECT *, row_number() OVER (ORDER BY source_record_id) AS n
            FROM (SELECT DISTINCT ON (source_record_id) * FROM reg)"""
        )
        con.execute(
            f"""CREATE TABLE moved AS SELECT r.* REPLACE (o.address_line_1 AS address_line_1,
                o.postcode AS postcode, o.uprn AS uprn)
            FROM ranked r JOIN ranked o ON o.n = r.n + 100 AND o.postcode <> r.postcode
            WHERE r.n > {REMOVED} AND r.n <= {REMOVED + MOVED}"""
        )
        columns = [c[0] for c in con.execute("DESCRIBE reg").fetchall()]
        tax_columns = {c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {tax}").fetchall()}
        # new electors arrive on a notice of alteration, dated after the register: one
        # publication lists each elector once (a copy of a payer already on it is not a
        # second entry in that publication)
        picks = ", ".join(
            (
                "'NEW-' || row_number() OVER (ORDER BY t.source_record_id) AS source_record_id"
                if c == "source_record_id"
                else "(r0.register_date + INTERVAL 1 MONTH)::DATE AS register_date"
                if c == "register_date"
                else f"t.{c}"
                if c in tax_columns and c not in ("household_ref",)
                else f"r0.{c}"
            )
            for c in columns
        )
        con.execute(
            f"""CREATE TABLE added AS SELECT {picks}, t.source_record_id AS copied_from
            FROM (SELECT * FROM {tax} WHERE given_name IS NOT NULL AND family_name IS NOT NULL
                  ORDER BY source_record_id LIMIT {ADDED}) t
            CROSS JOIN (SELECT * FROM reg LIMIT 1) r0"""
        )
        cols = ", ".join(columns)
        con.execute(
            f"""COPY (
                SELECT {cols} FROM reg WHERE source_record_id IN (
                    SELECT source_record_id FROM ranked WHERE n > {REMOVED + MOVED})
                UNION ALL SELECT {cols} FROM moved
                UNION ALL SELECT {cols} FROM added
            ) TO '{out}' (FORMAT parquet)"""
        )
        con.execute(
            f"COPY (SELECT source_record_id, copied_from FROM added) "
            f"TO '{out.with_suffix('.copied.parquet')}' (FORMAT parquet)"
        )
        moved = con.execute("SELECT source_record_id FROM moved").fetchall()
    return {f"lambeth/electoral-register/{m[0]}" for m in moved}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    # a private copy of the region (every demo stage, built once and cached: tests/regions.py)
    settings = copy_region(INCREMENTAL, tmp_path_factory.mktemp("incremental") / "home").settings
    yield Region(settings, _index(settings))
    dispose_engines()


@pytest.mark.slow
def test_nothing_changed_is_recognised(region: Region) -> None:
    before = latest_run(region.settings)
    result = update_index(region.settings)
    assert result["kind"] == "unchanged"
    assert latest_run(region.settings).id == before.id  # type: ignore[union-attr]


@pytest.mark.slow
def test_update_scores_only_the_delta_and_keeps_ids(region: Region, tmp_path: Path) -> None:
    settings = region.settings
    parent = latest_run(settings)
    assert parent is not None
    path = tmp_path / "register.parquet"
    moved = _new_register_version(settings, path)
    assert len(moved) == MOVED
    ingest(
        settings,
        IngestRequest(
            organisation="lambeth",
            dataset="electoral-register",
            path=path,
            standard="electoral_register",
            actor="test",
        ),
    )
    result = update_index(settings)
    assert result["kind"] == "incremental"
    delta = result["delta"]
    assert delta["datasets_read"] == ["lambeth/electoral-register"]
    assert (delta["records_new"], delta["records_changed"]) == (ADDED, MOVED)
    assert delta["records_removed"] == REMOVED
    assert result["records"] == parent.records - REMOVED + ADDED

    run = latest_run(settings)
    assert run is not None and run.kind == "incremental" and run.parent_run_id == parent.id
    assert run.model_version == parent.model_version  # no retraining
    after = _index(settings)
    # the run stored only its delta on top of the full build's snapshots
    assert [layer.run_id for layer in layers(settings, run)] == [run.id, parent.id]
    pairs = _check_chain(settings, run, after)
    stored = _delta_pairs(settings, run)
    assert stored and stored <= pairs
    touching_moved = {p for p in pairs if p[0] in moved or p[1] in moved}
    assert touching_moved <= stored  # a changed record's pairs are all new ones
    # every record kept unchanged keeps its resident id, unless its resident was merged into
    # another (and then the merge is recorded, with the id it was retired into)
    events = id_events(settings, run_id=run.id, limit=10_000)
    merged_into = {
        old: event["resident_id"]
        for event in events
        if event["kind"] == "merge"
        for old in event["related"]
    }
    for key, resident in region.index_before.items():
        if key in after and key not in moved:
            assert after[key] == merged_into.get(resident, resident), key
    # an elector who moved and no longer links to their resident's other records leaves the
    # id with them: a split, recorded with the id they now have
    split_off = {new for e in events if e["kind"] == "split" for new in e["related"]}
    for key in moved:
        before = region.index_before[key]
        if after[key] != merged_into.get(before, before):
            assert after[key] in split_off, key
    # the new electors are found: each joins the resident of the payer it was copied from
    copied = _copied_from(settings, path)
    found = sum(
        after[f"lambeth/electoral-register/{new}"] == after[f"lambeth/council-tax-accounts/{old}"]
        for new, old in copied.items()
    )
    assert found >= 0.9 * ADDED, found
    # a full rebuild agrees with the incremental index, and keeps its ids
    full = build_index(settings)
    rebuilt = _index(settings)
    same = sum(rebuilt[k] == v for k, v in after.items())
    assert same >= 0.98 * len(after), (same, len(after))
    assert full["id_moves"]["kept"] >= 0.98 * full["residents"]


def _check_chain(
    settings: Settings, run: LinkageRun, index: dict[str, str]
) -> set[tuple[str, str]]:
    """The run's records and pairs read through its snapshot chain agree with its index and
    its counts; returns its pairs."""
    with duckdb_session(settings) as con:
        keys = [
            r[0]
            for r in con.execute(
                f"SELECT record_key FROM {records_source(settings, run)}"
            ).fetchall()
        ]
        rows = con.execute(
            f"SELECT record_key_l, record_key_r, match_probability "
            f"FROM {pairs_source(settings, run)}"
        ).fetchall()
    assert len(keys) == len(set(keys)) == run.records
    assert set(keys) == set(index)
    pairs = {(str(a), str(b)) for a, b, _ in rows}
    assert len(pairs) == len(rows) == run.pairs
    assert all(a in index and b in index for a, b in pairs)
    review = sum(1 for _, _, p in rows if p < run.threshold)
    assert review == run.details["pairs_in_review_band"]
    return pairs


def _delta_pairs(settings: Settings, run: LinkageRun) -> set[tuple[str, str]]:
    source = SnapshotStore(settings).sql_source(run.pairs_sha256)
    with duckdb_session(settings) as con:
        rows = con.execute(f"SELECT record_key_l, record_key_r FROM {source}").fetchall()
    return {(str(a), str(b)) for a, b in rows}


def _copied_from(settings: Settings, path: Path) -> dict[str, str]:
    with duckdb_session(settings) as con:
        rows = con.execute(
            f"SELECT source_record_id, copied_from FROM "
            f"read_parquet('{path.with_suffix('.copied.parquet')}')"
        ).fetchall()
    return {str(a): str(b) for a, b in rows}


@pytest.mark.slow
def test_update_is_governed_and_honours_objections(
    region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = region.settings
    index = _index(settings)
    parent = latest_run(settings)
    assert parent is not None
    parent_pairs = _check_chain(settings, parent, index)
    # with no room for a delta, the update writes whole snapshots (compaction)
    monkeypatch.setattr(update_module, "MAX_DELTAS", 0)
    resident = sorted(set(index.values()))[7]
    with session_scope(settings) as session:
        dpo = session.scalars(select(User).where(User.username == "hub.dpo")).one()
        record_objection(session, ObjectionSubject(resident_id=resident), "linkage", dpo)
    first_event = _last_audit_id(settings)
    result = update_index(settings)
    assert result["kind"] == "incremental"
    assert result["delta"]["records_removed"] == sum(1 for r in index.values() if r == resident)
    assert resident not in set(_index(settings).values())
    run = latest_run(settings)
    assert run is not None and run.tombstones_sha256 is None
    assert [layer.run_id for layer in layers(settings, run)] == [run.id]
    after = _index(settings)
    pairs = _check_chain(settings, run, after)
    assert pairs == {p for p in parent_pairs if p[0] in after and p[1] in after}
    retired = [e for e in id_events(settings, resident_id=resident) if e["kind"] == "retire"]
    assert retired and retired[0]["records"] == result["delta"]["records_removed"]
    # every dataset reused was decided again and audited, with no personal values
    with session_scope(settings) as session:
        events = list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.id > first_event, AuditEvent.action == "personal_data.process"
                )
            )
        )
    assert len(events) == result["datasets_linked"]
    assert all(e.details.get("derived_from", "").startswith("linkage run") for e in events)
    assert all(e.decision == "allow" for e in events)


def _last_audit_id(settings: Settings) -> int:
    with session_scope(settings) as session:
        return int(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc())).first())


@pytest.mark.slow
def test_cli_update_and_id_history(region: Region) -> None:
    env = {"JOINEDUP_HOME": str(region.settings.home), "JOINEDUP_DATABASE_URL": ""}
    out = CliRunner().invoke(app, ["linkage", "update"], env=env)
    assert out.exit_code == 0, out.output
    assert "up to date" in out.output
    out = CliRunner().invoke(app, ["linkage", "ids", "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert '"retire"' in out.output
    with session_scope(region.settings) as session:
        assert session.scalars(select(LinkageIdEvent)).first() is not None


def test_update_without_an_index_is_refused(home_settings: Settings) -> None:
    with pytest.raises(NothingToUpdate, match="linkage build"):
        update_index(home_settings)


def test_greedy_assignment_gives_each_earlier_id_to_one_cluster() -> None:
    # c1 and c2 both hold records of r-a; c1 holds more, so keeps it; c2 takes r-b
    rows = [("c1", "r-a", 5, 5), ("c2", "r-a", 2, 2), ("c2", "r-b", 1, 1)]
    assert greedy_assignment(rows) == {"c1": "r-a", "c2": "r-b"}
    # a tie goes to the smaller earlier id, deterministically
    assert greedy_assignment([("c1", "r-b", 3, 3), ("c1", "r-a", 3, 3)]) == {"c1": "r-a"}
    # unchanged (anchored) records outweigh changed ones: the id stays with them
    rows = [("moved", "r-a", 0, 2), ("stayed", "r-a", 1, 1)]
    assert greedy_assignment(rows) == {"stayed": "r-a"}


def test_fresh_ids_never_reuse_an_issued_id() -> None:
    reserved: set[str] = set()
    first = fresh_id("lambeth/x/1", reserved)
    second = fresh_id("lambeth/x/1", reserved)
    assert first != second and {first, second} <= reserved
    assert first.startswith("r-") and len(first) == 18
