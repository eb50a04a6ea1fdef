"""The demo's open data: FSM and vulnerability aggregates by ward and month, and the regional
spend dataset, released, approved by the demo DPO and public. Every published CSV keeps the
10-5 rule, survives the attacker, and validates as a Frictionless data package."""

from __future__ import annotations

import json
from pathlib import Path

import frictionless
import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.publish.releases import public_release, public_releases, release_csv
from tests.publish.attacker import read_rows, recover
from tests.regions import Region

pytestmark = pytest.mark.slow

DEMO_PUBLICATIONS = {
    "fsm-not-registered-by-ward",
    "vulnerability-indicators-by-ward",
    "regional-spend-over-500",
}


def test_the_demo_publishes_the_aggregates_and_spend(demo_home: Region) -> None:
    result = demo_home.stage("Publish open data")
    assert {p["publication"] for p in result["publications"]} == DEMO_PUBLICATIONS
    views = {v.publication: v for v in public_releases(demo_home.settings)}
    assert set(views) >= DEMO_PUBLICATIONS
    fsm = views["fsm-not-registered-by-ward"]
    assert fsm.status == "approved" and fsm.frequency == "monthly"
    assert fsm.disclosure and fsm.disclosure["passed"]
    rows = read_rows(release_csv(demo_home.settings, fsm))
    assert {r["area_type"] for r in rows} == {"ward", "local_authority", "region"}
    assert {r["indicator"] for r in rows} == {"fsm-eligible-not-registered"}
    vulnerability = read_rows(
        release_csv(demo_home.settings, views["vulnerability-indicators-by-ward"])
    )
    assert {r["indicator"] for r in vulnerability} == {
        "rent-arrears-with-children",
        "asc-alone-council-tax-arrears",
        "foodbank-claim-ending",
        "csc-sibling-moved-borough",
    }
    months = {r["month"] for r in vulnerability} - {"all"}
    assert months and all(len(m) == 7 for m in months)


def test_no_published_count_under_10_survives_and_the_attacker_fails(demo_home: Region) -> None:
    for view in public_releases(demo_home.settings):
        if view.kind != "indicator-aggregate":
            continue
        data = release_csv(demo_home.settings, view)
        rows = read_rows(data)
        for row in rows:
            if row["suppressed"] == "true":
                assert row["count"] == ""
            else:
                count = int(row["count"])
                assert count >= 10 and count % 5 == 0, (view.publication, row)
        ranges = recover(data)
        assert len(ranges) == sum(r["suppressed"] == "true" for r in rows)
        for cell, (low, high) in ranges.items():
            assert high - low >= 10, (view.publication, cell, low, high)


def test_every_release_validates_as_a_frictionless_data_package(
    demo_home: Region, tmp_path: Path
) -> None:
    for view in public_releases(demo_home.settings):
        folder = tmp_path / view.publication
        folder.mkdir()
        (folder / "data.csv").write_bytes(release_csv(demo_home.settings, view))
        (folder / "datapackage.json").write_text(json.dumps(view.descriptor))
        report = frictionless.validate(folder / "datapackage.json")
        assert report.valid, (view.publication, report.flatten(["type", "note"])[:5])
        assert view.descriptor["licenses"][0]["name"] == "OGL-UK-3.0"


def test_the_regional_spend_dataset_joins_every_council(demo_home: Region) -> None:
    view = public_release(demo_home.settings, "regional-spend-over-500")
    assert view.disclosure is None
    rows = read_rows(release_csv(demo_home.settings, view))
    assert {r["organisation"] for r in rows} == {"lambeth", "lewisham", "southwark", "wandsworth"}
    assert all(r["payment_date"] and r["net_amount"] for r in rows)
    for r in rows:  # numbers are numbers; text cannot start a formula
        float(r["net_amount"])
        assert not r["supplier_name"].startswith(("=", "+", "-", "@"))


def test_releasing_is_governed_and_audited(demo_home: Region) -> None:
    with session_scope(demo_home.settings) as session:
        events = list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action.in_(
                        [
                            "publication.define",
                            "publication.release",
                            "publication.approve",
                            "personal_data.process",
                        ]
                    )
                )
            )
        )
    actions = {e.action for e in events}
    assert {"publication.define", "publication.release", "publication.approve"} <= actions
    processing = [e for e in events if e.actor.startswith("service:publish:")]
    assert processing and {e.purpose for e in processing} == {"statistics"}
    assert all(e.decision == "allow" for e in processing)
    approvals = [e for e in events if e.action == "publication.approve"]
    assert {e.actor for e in approvals} == {"hub.dpo"}


def test_an_objection_to_statistics_drops_the_resident_from_the_counts(
    private_demo: Region,
) -> None:
    from joinedup.catalog.models import User
    from joinedup.governance.objections import ObjectionSubject, record_objection
    from joinedup.governance.processing import ServiceActor
    from joinedup.publish.inputs import PURPOSE, flag_units

    settings = private_demo.settings
    actor = ServiceActor("hub", PURPOSE, name="publish:test")
    indicators = ["rent-arrears-with-children", "fsm-eligible-not-registered"]
    before = flag_units(settings, actor, indicators)
    objector = before.units[0][3]
    with session_scope(settings) as session:
        dpo = session.scalars(select(User).where(User.username == "hub.dpo")).one()
        record_objection(session, ObjectionSubject(resident_id=objector), PURPOSE, dpo)
    after = flag_units(settings, actor, indicators)
    assert objector not in {u[3] for u in after.units}
    assert after.dropped["refused_or_objected"] > before.dropped["refused_or_objected"]
    assert len(after.units) < len(before.units)
