"""Reviewers' decisions: recorded with history and audit, refused when malformed, and applied
by every later build (a non-match splits a pair the model links, a match joins a pair it
does not)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from sqlalchemy import select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import AuditEvent, LinkageReviewDecision
from joinedup.config import Settings
from joinedup.governance.access import Actor
from joinedup.linkage.build import BuildOptions, build_index, latest_run
from joinedup.linkage.chain import pairs_source
from joinedup.linkage.cluster import cluster_predictions
from joinedup.linkage.model import TrainingOptions
from joinedup.linkage.review import (
    MAX_NOTE,
    ReviewError,
    forced_pairs,
    pair_history,
    pair_id,
    record_decision,
)
from joinedup.store import SnapshotStore, duckdb_session
from tests.linkage.region import add_reviewer, copy_home, reviewer_actor
from tests.regions import Region

# --- clustering with forced pairs (no build) ---------------------------------------------------


def _tiny(con: duckdb.DuckDBPyConnection) -> None:
    keys = ["o/d/a", "o/d/b", "o/d/c", "o/d/d"]
    con.register("__r", pa.table({"rid": list(range(4)), "record_key": keys}))
    con.execute("CREATE TABLE recs AS SELECT * FROM __r")
    # a-b linked (0.99), c-d in the review band (0.7); nothing conflicts
    con.register(
        "__p",
        pa.table(
            {
                "rid_l": [0, 2],
                "rid_r": [1, 3],
                "match_probability": [0.99, 0.7],
                "match_weight": [12.0, 1.2],
                "gamma_given_name": [6, 6],
                "gamma_sex": [1, 1],
                "gamma_middle_names": [-1, -1],
                "gamma_date_of_birth": [3, 3],
            }
        ),
    )
    con.execute("CREATE TABLE preds AS SELECT * FROM __p")


def _residents(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT record_key, resident_id FROM linkage_clusters").fetchall())


def test_forced_pairs_override_the_model_in_clustering() -> None:
    con = duckdb.connect()
    _tiny(con)
    cluster_predictions(con, "recs", "preds", 0.9)
    plain = _residents(con)
    assert plain["o/d/a"] == plain["o/d/b"] and plain["o/d/c"] != plain["o/d/d"]
    result = cluster_predictions(
        con,
        "recs",
        "preds",
        0.9,
        forced_links=[("o/d/c", "o/d/d")],
        forced_cannot=[("o/d/a", "o/d/b"), ("o/d/x", "o/d/a")],  # unknown keys drop out
    )
    forced = _residents(con)
    assert forced["o/d/a"] != forced["o/d/b"]
    assert forced["o/d/c"] == forced["o/d/d"]
    assert result.links_used == 1


def test_a_forced_link_wins_over_a_model_cannot_link() -> None:
    con = duckdb.connect()
    _tiny(con)
    con.execute("UPDATE preds SET match_weight = -12, match_probability = 0.0001 WHERE rid_l = 2")
    cluster_predictions(con, "recs", "preds", 0.9, forced_links=[("o/d/d", "o/d/c")])
    forced = _residents(con)
    assert forced["o/d/c"] == forced["o/d/d"]


# --- decisions on a real build ---------------------------------------------------------------


@pytest.fixture(scope="module")
def region(
    linked_region_template: Region, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    settings = copy_home(linked_region_template, tmp_path_factory.mktemp("review") / "home")
    yield settings
    dispose_engines()


def _index(settings: Settings) -> dict[str, str]:
    run = latest_run(settings)
    assert run is not None
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        return dict(con.execute(f"SELECT record_key, resident_id FROM {source}").fetchall())


def _pairs(settings: Settings, where: str) -> list[tuple[str, str, float]]:
    run = latest_run(settings)
    assert run is not None
    source = pairs_source(settings, run)
    with duckdb_session(settings) as con:
        return [
            (str(a), str(b), float(p))
            for a, b, p in con.execute(
                f"SELECT record_key_l, record_key_r, match_probability FROM {source} "
                f"WHERE {where} ORDER BY record_key_l, record_key_r"
            ).fetchall()
        ]


#: The rebuilds' options: a real build for the hub, with u estimated from 200,000 sampled
#: pairs (the default 2,000,000 cost 22 CPU seconds a build here, these 7): the decisions,
#: not the model's precision, are under test.
REBUILD = BuildOptions(organisation="hub", training=TrainingOptions(u_max_pairs=2e5))


@pytest.mark.slow
def test_decisions_override_the_model_in_the_next_build(region: Settings) -> None:
    before = _index(region)
    linked = _pairs(region, "match_probability >= 0.99")
    band = [
        p
        for p in _pairs(region, "match_probability >= 0.5 AND match_probability < 0.9")
        if before[p[0]] != before[p[1]]
    ]
    assert linked and band
    split, join = linked[0], band[0]
    assert before[split[0]] == before[split[1]]
    actor = reviewer_actor(region)
    record_decision(region, actor, split[0], split[1], "non_match", "different people")
    record_decision(region, actor, join[1], join[0], "match", match_probability=join[2])

    summary = build_index(region, REBUILD)
    assert summary["review_decisions"] == {"match": 1, "non_match": 1}
    after = _index(region)
    assert after[split[0]] != after[split[1]], "a non-match decision splits the pair"
    assert after[join[0]] == after[join[1]], "a match decision joins the pair"

    # and again in the build after that: decisions persist
    build_index(region, REBUILD)
    again = _index(region)
    assert again[split[0]] != again[split[1]] and again[join[0]] == again[join[1]]


def test_the_latest_decision_wins_and_history_is_kept(region: Settings) -> None:
    actor = reviewer_actor(region)
    a, b = "lambeth/x/1", "lambeth/x/2"
    record_decision(region, actor, a, b, "match", "looks the same")
    latest = record_decision(region, actor, b, a, "non-match", "twins, checked the file")
    assert (latest.record_key_l, latest.record_key_r) == (a, b)
    assert latest.pair == pair_id(b, a) == pair_id(a, b)
    forced = forced_pairs(region)
    assert (a, b) in forced.cannot and (a, b) not in forced.links
    assert [d.decision for d in pair_history(region, a, b)] == ["non_match", "match"]
    with session_scope(region) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "linkage.review_decision")
            .where(AuditEvent.target_id == latest.pair)
            .order_by(AuditEvent.id)
        ).all()
        assert [e.details["decision"] for e in events] == ["match", "non_match"]
        assert events[-1].details["previous"] == "match"
        assert events[-1].records == [a, b]
        assert "twins" not in str(events[-1].details)  # the note stays out of the log
        rows = session.scalars(
            select(LinkageReviewDecision).where(LinkageReviewDecision.record_key_l == a)
        ).all()
        assert len(rows) == 2


@pytest.mark.parametrize(
    ("key_a", "key_b", "decision", "note", "status", "message"),
    [
        ("not a key", "lambeth/x/2", "match", "", 422, "record key"),
        ("lambeth/x/1", "lambeth/x/1", "match", "", 422, "two different records"),
        ("lambeth/x/1", "lambeth/x/2", "maybe", "", 422, "match or non_match"),
        ("lambeth/x/1", "lambeth/x/2", "match", "x" * (MAX_NOTE + 1), 422, "characters"),
        ("lambeth/x/1", "lambeth/x/2", "match", "bad\x00note", 422, "not text"),
        ("lambeth/x/1", "lambeth/" + "x" * 600, "match", "", 422, "record key"),
    ],
)
def test_malformed_decisions_are_refused(
    region: Settings,
    key_a: str,
    key_b: str,
    decision: str,
    note: str,
    status: int,
    message: str,
) -> None:
    with pytest.raises(ReviewError, match=message) as caught:
        record_decision(region, reviewer_actor(region), key_a, key_b, decision, note)
    assert caught.value.status == status


def test_only_analysts_under_the_linkage_purpose_decide(region: Settings, tmp_path: Path) -> None:
    actor = reviewer_actor(region)
    wrong_purpose = Actor(actor.user_id, actor.username, actor.organisation_id, actor.role, "fsm")
    with pytest.raises(ReviewError, match="purpose 'linkage'") as caught:
        record_decision(region, wrong_purpose, "lambeth/x/1", "lambeth/x/2", "match")
    assert caught.value.status == 403
    add_reviewer(region, "hub-dpo-test", role="dpo")
    dpo = reviewer_actor(region, "hub-dpo-test")
    with pytest.raises(ReviewError, match="Only analysts") as caught:
        record_decision(region, dpo, "lambeth/x/1", "lambeth/x/2", "match")
    assert caught.value.status == 403
    # claiming the analyst role for a user who is not one does not help
    pretend = Actor(dpo.user_id, dpo.username, dpo.organisation_id, "analyst", "linkage")
    with pytest.raises(ReviewError, match="active analysts"):
        record_decision(region, pretend, "lambeth/x/1", "lambeth/x/2", "match")


def test_decisions_on_both_databases(db_settings: Settings) -> None:
    """The decision table, its latest-wins query and the audit entry on SQLite and
    PostgreSQL (no build needed: decisions name records)."""
    from joinedup.catalog.models import Organisation
    from joinedup.governance.accounts import create_user
    from joinedup.governance.organisations import ensure_organisation

    with session_scope(db_settings) as session:
        ensure_organisation(session, code="hub", name="Hub", type="hub")
        user = create_user(
            session,
            username="an-analyst",
            display_name="An Analyst",
            organisation="hub",
            role="analyst",
            password="correct horse battery staple",
        )
        org = session.scalars(select(Organisation).where(Organisation.code == "hub")).one()
        actor = Actor(user.id, user.username, org.id, "analyst", "linkage")
    record_decision(db_settings, actor, "a/b/2", "a/b/1", "match")
    record_decision(db_settings, actor, "a/b/1", "a/b/2", "non_match", "checked")
    record_decision(db_settings, actor, "a/b/3", "a/b/1", "match")
    assert forced_pairs(db_settings).cannot == [("a/b/1", "a/b/2")]
    assert forced_pairs(db_settings).links == [("a/b/1", "a/b/3")]
    assert [d.note for d in pair_history(db_settings, "a/b/2", "a/b/1")] == ["checked", ""]
    with session_scope(db_settings) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "linkage.review_decision")
        ).all()
        assert len(actions) == 3
