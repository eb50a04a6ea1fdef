"""Linkage views are governed like any other read (issue 15, findings 4 and 5).

On a private copy of the demo region, a Wandsworth analyst acting under ``linkage`` used to
see other councils' record keys on a resident (a children's social care episode, benefit
claim numbers, school census ids, household members) and could decide a pair of Southwark
records. No agreement shares other councils' data with Wandsworth for ``linkage``, so now:
the queue lists only pairs of Wandsworth records; a resident shows other councils' records
only as held by another organisation, with no key, dataset or id, and leaves out their links,
decisions and household members; a pair of two other councils' records is not found and
cannot be decided; the overview's search answers alike for a resident held only elsewhere and
for one that does not exist. The hub's analyst, to whom an agreement shares every
organisation's data for ``linkage``, still sees and decides everything.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent
from joinedup.linkage import explain
from joinedup.linkage.governed import HIDDEN
from joinedup.linkage.review import pair_id
from joinedup.store import duckdb_session
from tests.regions import Region
from tests.rights.conftest import query
from tests.support import signed_in

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow
OWN = "wandsworth"
ROOT = "/api/v1/linkage"


def _client(home: Region, username: str) -> Iterator[TestClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        from joinedup.web.app import create_app
    with TestClient(create_app(home.settings)) as client:
        yield signed_in(client, username, home.logins[username], "linkage")


def _mixed_resident(home: Region) -> str:
    """A resident with records of Wandsworth and of other organisations."""
    rows = query(
        home,
        """SELECT resident_id FROM {index} GROUP BY 1
           HAVING count(*) FILTER (WHERE organisation = ?) > 0
              AND count(DISTINCT organisation) >= 3
           ORDER BY 1 LIMIT 1""",
        OWN,
    )
    assert rows, "the demo has no resident held by Wandsworth and two others"
    return str(rows[0][0])


def _elsewhere_resident(home: Region) -> str:
    rows = query(
        home,
        """SELECT resident_id FROM {index} GROUP BY 1
           HAVING count(*) FILTER (WHERE organisation = ?) = 0 ORDER BY 1 LIMIT 1""",
        OWN,
    )
    return str(rows[0][0])


def _other_pair(home: Region) -> str:
    """A scored pair of two Southwark records (for the decision)."""
    source = explain.run_pairs(home.settings, explain.get_run(home.settings).id)
    with duckdb_session(home.settings) as con:
        rows = con.execute(
            f"""SELECT record_key_l, record_key_r FROM {source}
            WHERE record_key_l LIKE 'southwark/%' AND record_key_r LIKE 'southwark/%'
            ORDER BY match_probability, 1, 2 LIMIT 1"""
        ).fetchall()
    assert rows, "no scored pair of two Southwark records"
    return pair_id(str(rows[0][0]), str(rows[0][1]))


def test_a_council_analyst_sees_only_what_agreements_share(private_demo: Region) -> None:
    home = private_demo
    resident = _mixed_resident(home)
    for analyst in _client(home, f"{OWN}.analyst"):
        queue = analyst.get(f"{ROOT}/review?page_size=200").json()
        assert queue["items"], "Wandsworth has pairs of its own to review"
        for item in queue["items"]:
            assert item["source_l"].startswith(f"{OWN}/") and item["source_r"].startswith(f"{OWN}/")
        response = analyst.get(f"{ROOT}/residents/{resident}")
        assert response.status_code == 200, response.text
        body = response.json()
        shown = [r for r in body["records"] if not r["hidden"]]
        hidden = [r for r in body["records"] if r["hidden"]]
        assert shown and hidden
        assert {r["organisation"] for r in shown} == {OWN}
        for record in hidden:
            assert record["record_key"] == record["organisation"] == record["dataset"] == ""
            assert record["source_record_id"] == "" and record["values"] is None
            assert record["withheld"] == HIDDEN
        text = json.dumps({k: v for k, v in body.items() if k != "records"})
        text += json.dumps(shown)
        for organisation in ("lambeth", "lewisham", "southwark", "foodbank"):
            assert f"{organisation}/" not in text, organisation
        for link in body["links"]:
            assert link["record_key_l"].startswith(f"{OWN}/")
            assert link["record_key_r"].startswith(f"{OWN}/")
        page = analyst.get(f"/residents/{resident}")
        assert page.status_code == 200 and HIDDEN in page.text
        # a resident Wandsworth holds nothing of is not Wandsworth's to know of
        assert analyst.get(f"{ROOT}/residents/{_elsewhere_resident(home)}").status_code == 404


def test_decisions_only_on_pairs_the_reviewer_may_see(private_demo: Region) -> None:
    home = private_demo
    pair = _other_pair(home)
    decision = {"decision": "non_match", "note": "probing"}
    for analyst in _client(home, f"{OWN}.analyst"):
        assert analyst.get(f"{ROOT}/review/{pair}").status_code == 404
        refused = analyst.post(f"{ROOT}/review/{pair}/decision", json=decision)
        assert refused.status_code == 403, refused.text
        assert "may see" in refused.json()["detail"]
    for hub in _client(home, "hub.analyst"):
        seen = hub.get(f"{ROOT}/review/{pair}")
        assert seen.status_code == 200, seen.text
        assert not seen.json()["left"]["hidden"] and not seen.json()["right"]["hidden"]
        made = hub.post(f"{ROOT}/review/{pair}/decision", json=decision)
        assert made.status_code == 201, made.text
        resident = hub.get(f"{ROOT}/residents/{_mixed_resident(home)}").json()
        assert not any(r["hidden"] for r in resident["records"])


def _searches(home: Region, after: int) -> list[tuple[str | None, str | None, str]]:
    with session_scope(home.settings) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "linkage.find", AuditEvent.id > after)
            .order_by(AuditEvent.id)
        ).all()
        return [(e.decision, e.target_id, e.actor) for e in events]


def _same_page(html: str) -> str:
    """The page less what differs on every response (the CSP nonce)."""
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)


def _last_event(home: Region) -> int:
    with session_scope(home.settings) as session:
        return int(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc())).first())


def test_the_overview_search_does_not_say_who_exists_elsewhere(private_demo: Region) -> None:
    """The search on ``/linkage`` used to redirect to any resident of the latest run, so a
    council analyst learnt which resident ids other councils hold. Now a resident held only by
    other organisations gets the very answer of one that does not exist, and every search is
    audited (denied, or allowed with the records it found)."""
    home = private_demo
    elsewhere, mixed, absent = _elsewhere_resident(home), _mixed_resident(home), "r-0" + "0" * 15
    start = _last_event(home)
    for analyst in _client(home, f"{OWN}.analyst"):
        nobody = analyst.get(f"/linkage?resident={absent}", follow_redirects=False)
        hidden = analyst.get(f"/linkage?resident={elsewhere}", follow_redirects=False)
        assert nobody.status_code == hidden.status_code == 422, hidden.headers
        assert "location" not in hidden.headers
        assert _same_page(hidden.text.replace(elsewhere, absent)) == _same_page(nobody.text)
        found = analyst.get(f"/linkage?resident={mixed}", follow_redirects=False)
        assert found.status_code == 303 and found.headers["location"] == f"/residents/{mixed}"
    for hub in _client(home, "hub.analyst"):  # an agreement shares every council's records
        shared = hub.get(f"/linkage?resident={elsewhere}", follow_redirects=False)
        assert shared.status_code == 303, shared.text
    assert _searches(home, start) == [
        ("deny", absent, f"{OWN}.analyst"),
        ("deny", elsewhere, f"{OWN}.analyst"),
        ("allow", mixed, f"{OWN}.analyst"),
        ("allow", elsewhere, "hub.analyst"),
    ]
