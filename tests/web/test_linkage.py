"""The linkage pages and API on a small linked region: overview, review queue, a pair with its
waterfall and the decision form, a resident's explanation; who may see them; hostile input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import AuditEvent, LinkageReviewDecision
from joinedup.config import Settings
from joinedup.linkage import explain
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.web.app import create_app
from tests.linkage.region import REVIEWER, add_reviewer, copy_home
from tests.regions import Region
from tests.support import api_token, bearer, csrf_of, make_client, signed_in

pytestmark = pytest.mark.slow  # the region is built once per session (about 30 s)


@pytest.fixture(scope="module")
def region(
    linked_region_template: Region, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    settings = copy_home(linked_region_template, tmp_path_factory.mktemp("web-linkage") / "home")
    add_reviewer(settings, "hub-linkage-dpo", role="dpo")
    yield settings
    dispose_engines()


@pytest.fixture(scope="module")
def app(region: Settings) -> Any:
    return create_app(region)


def _signed_in(app: Any, username: str, purpose: str | None) -> Any:
    client = make_client(app)
    client.__enter__()
    return signed_in(client, username, purpose=purpose)


@pytest.fixture(scope="module")
def analyst(app: Any) -> Iterator[Any]:
    client = _signed_in(app, REVIEWER, "linkage")
    yield client
    client.__exit__(None, None, None)


def _token(settings: Settings, username: str, scopes: list[str]) -> dict[str, str]:
    return bearer(api_token(settings, username, scopes), "linkage")


@pytest.fixture(scope="module")
def api(app: Any, region: Settings) -> Iterator[Any]:
    client = make_client(app)
    client.__enter__()
    client.headers.update(_token(region, REVIEWER, ["read", "review"]))
    yield client
    client.__exit__(None, None, None)


def _count(settings: Settings, action: str) -> int:
    with session_scope(settings) as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
            )
            or 0
        )


# --- pages -----------------------------------------------------------------------------------


def test_overview_shows_the_latest_run_and_finds_a_resident(analyst: Any, region: Settings) -> None:
    run = explain.get_run(region)
    html = analyst.get("/linkage").text
    assert 'id="latest-run"' in html and f"{run.records:,}" in html and f"{run.residents:,}" in html
    assert 'href="/linkage/review"' in html and 'id="runs"' in html
    assert '<a class="govuk-service-navigation__link" href="/linkage"' in html
    assert analyst.get("/api/v1/linkage/review").status_code == 200  # sessions use the API too
    found = analyst.get("/linkage?resident=nothing-here", follow_redirects=False)
    assert found.status_code == 422 and "There is no resident with that ID" in found.text
    empty = analyst.get("/linkage?resident=", follow_redirects=False)
    assert empty.status_code == 422 and "Enter a resident ID" in empty.text


def test_queue_is_most_uncertain_first_and_paginated(analyst: Any, region: Settings) -> None:
    queue = explain.review_queue(region, page_size=200)
    weights = [abs(i.match_weight) for i in queue.items]
    assert weights == sorted(weights) and queue.waiting == len(queue.items) > 0
    html = analyst.get("/linkage/review").text
    assert f"{queue.waiting:,} pairs are waiting" in html
    first_pairs = re.findall(r'href="/linkage/review/(p-[0-9a-f]{16})"', html)
    assert first_pairs[: len(first_pairs)] == [i.pair for i in queue.items[: len(first_pairs)]]
    assert len(first_pairs) == min(queue.waiting, explain.PAGE_SIZE)
    if queue.waiting > explain.PAGE_SIZE:
        assert "govuk-pagination" in html
        second = analyst.get("/linkage/review?page=2").text
        assert queue.items[explain.PAGE_SIZE].pair in second
    assert analyst.get("/linkage/review?page=banana").status_code == 200


def test_pair_page_shows_both_records_and_the_waterfall(analyst: Any, region: Settings) -> None:
    pair = explain.review_queue(region).items[0].pair
    evidence = explain.pair_evidence(region, pair)
    reads, views = _count(region, "personal_data.read"), _count(region, "linkage.pair_view")
    html = analyst.get(f"/linkage/review/{pair}").text
    assert 'id="records"' in html and 'id="waterfall"' in html and 'id="decide"' in html
    # the waterfall: prior, one row per comparison, the final weight, each with its level
    body = html.split('id="waterfall"', 1)[1].split("</table>", 1)[0]
    assert body.count("<svg") == len(evidence.steps) + 2
    for step in evidence.steps:
        assert step.level.replace("'", "&#39;") in body
    total = evidence.prior_weight + sum(s.weight + s.tf_adjustment for s in evidence.steps)
    assert abs(total - evidence.match_weight) < 1e-6
    assert evidence.steps[-1].end == pytest.approx(evidence.match_weight)
    # both records' values were read through the gateway, and the view is audited
    assert _count(region, "personal_data.read") >= reads + 1
    assert _count(region, "linkage.pair_view") == views + 1
    assert "Not shown" not in html.split('id="records"', 1)[1].split("</table>", 1)[0]


def test_deciding_moves_to_the_next_pair_and_leaves_the_queue(
    analyst: Any, region: Settings
) -> None:
    before = explain.review_queue(region, page_size=200)
    pair, following = before.items[0].pair, before.items[1].pair
    page = analyst.get(f"/linkage/review/{pair}").text
    response = analyst.post(
        f"/linkage/review/{pair}",
        data={"csrf_token": csrf_of(page), "decision": "non_match", "note": "different dates"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/linkage/review/{following}?done=non_match"
    after = explain.review_queue(region, page_size=200)
    assert after.waiting == before.waiting - 1 and after.decided == before.decided + 1
    assert pair not in {i.pair for i in after.items}
    shown = analyst.get(f"/linkage/review/{pair}").text
    assert 'id="decisions"' in shown and "different dates" in shown
    # skip: no decision, next pair
    with session_scope(region) as session:
        decided = session.scalar(select(func.count()).select_from(LinkageReviewDecision))
    skipped = analyst.post(
        f"/linkage/review/{following}",
        data={"csrf_token": csrf_of(page), "decision": "skip"},
        follow_redirects=False,
    )
    assert skipped.status_code == 303 and "done=skip" in skipped.headers["location"]
    with session_scope(region) as session:
        assert session.scalar(select(func.count()).select_from(LinkageReviewDecision)) == decided


def test_the_decision_form_reports_its_errors(analyst: Any, region: Settings) -> None:
    pair = explain.review_queue(region).items[0].pair
    csrf = csrf_of(analyst.get(f"/linkage/review/{pair}").text)
    missing = analyst.post(f"/linkage/review/{pair}", data={"csrf_token": csrf})
    assert missing.status_code == 422 and "Select whether the records" in missing.text
    long = analyst.post(
        f"/linkage/review/{pair}", data={"csrf_token": csrf, "decision": "match", "note": "x" * 501}
    )
    assert long.status_code == 422 and "500 characters or fewer" in long.text
    unknown = analyst.post(
        "/linkage/review/p-0000000000000000", data={"csrf_token": csrf, "decision": "match"}
    )
    assert unknown.status_code == 404
    no_csrf = analyst.post(
        f"/linkage/review/{pair}", data={"decision": "match"}, headers={"X-CSRF-Token": "bad"}
    )
    assert no_csrf.status_code == 403


@pytest.mark.parametrize("path", ["/linkage/review/p-zz", "/linkage/review/../x", "/residents/%00"])
def test_bad_ids_are_not_found(analyst: Any, path: str) -> None:
    assert analyst.get(path).status_code in (400, 404)


def test_resident_page_explains_the_links(analyst: Any, region: Settings) -> None:
    run = explain.get_run(region)
    with duckdb_session(region) as con:
        resident = con.execute(
            f"SELECT resident_id FROM {SnapshotStore(region).sql_source(run.index_sha256)} "
            "GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
    explains = _count(region, "linkage.explain")
    html = analyst.get(f"/residents/{resident}").text
    assert f"Resident <code>{resident}</code>" in html
    assert 'id="links"' in html and "Linked" in html and "Given name:" in html
    assert _count(region, "linkage.explain") == explains + 1
    found = analyst.get(f"/linkage?resident={resident}", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/residents/{resident}"
    assert analyst.get("/residents/r-0000000000000000").status_code == 404


def test_other_purposes_and_roles_are_refused(app: Any) -> None:
    fsm = _signed_in(app, REVIEWER, "fsm")
    page = fsm.get("/linkage")
    assert page.status_code == 403 and "/purpose?next=/linkage" in page.text
    assert fsm.get("/api/v1/linkage/runs").status_code == 403
    dpo = _signed_in(app, "hub-linkage-dpo", "subject-access")  # the purpose DPOs hold
    assert "Your role does not allow this" in dpo.get("/linkage").text
    none = _signed_in(app, REVIEWER, None)
    redirect = none.get("/linkage/review", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"].startswith("/purpose")
    for client in (fsm, dpo, none):
        client.__exit__(None, None, None)


# --- API -------------------------------------------------------------------------------------


def test_api_runs_queue_pair_and_resident(api: Any, region: Settings) -> None:
    runs = api.get("/api/v1/linkage/runs").json()
    assert runs[0]["id"] == explain.get_run(region).id and runs[0]["review_band"] == [0.5, 0.9]
    assert api.get(f"/api/v1/linkage/runs/{runs[0]['id']}").json()["records"] == runs[0]["records"]
    assert api.get("/api/v1/linkage/runs/999").status_code == 404
    queue = api.get("/api/v1/linkage/review?page_size=5").json()
    assert len(queue["items"]) <= 5 and queue["waiting"] >= len(queue["items"])
    item = queue["items"][0]
    pair = api.get(item["href"]).json()
    assert pair["evidence"]["pair"] == item["pair"]
    assert pair["left"]["values"]["family_name"] and pair["right"]["values"] is not None
    steps = pair["evidence"]["steps"]
    assert steps[-1]["cumulative"] == pytest.approx(pair["evidence"]["match_weight"])
    resident = api.get(f"/api/v1/linkage/residents/{pair['left']['resident_id']}").json()
    assert resident["household_id"].startswith("h-")
    assert any(r["record_key"] == pair["left"]["record_key"] for r in resident["records"])
    assert api.get("/api/v1/linkage/residents/r-nobody").status_code == 404


def test_api_decision_and_its_errors(api: Any, region: Settings) -> None:
    item = api.get("/api/v1/linkage/review").json()["items"][0]
    url = f"/api/v1/linkage/review/{item['pair']}/decision"
    created = api.post(url, json={"decision": "match", "note": "same NHS number on file"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["decision"] == "match" and body["reviewer"] == REVIEWER
    assert body["next_pair"] != item["pair"]
    assert api.post(url, json={"decision": "perhaps"}).status_code == 422
    assert api.post(url, json={"decision": "match", "note": "x" * 501}).status_code == 422
    bad = api.post("/api/v1/linkage/review/not-a-pair/decision", json={"decision": "match"})
    assert bad.status_code == 404
    read_only = _token(region, REVIEWER, ["read"])
    refused = api.post(url, json={"decision": "match"}, headers=read_only)
    assert refused.status_code == 403 and "review" in refused.text
    history = api.get(f"/api/v1/linkage/review/{item['pair']}").json()["decisions"]
    assert [d["decision"] for d in history] == ["match"]


def test_the_openapi_document_describes_the_linkage_api(app: Any) -> None:
    schema = app.openapi()
    paths = schema["paths"]
    for path in (
        "/api/v1/linkage/runs",
        "/api/v1/linkage/review",
        "/api/v1/linkage/review/{pair_id}",
        "/api/v1/linkage/review/{pair_id}/decision",
        "/api/v1/linkage/residents/{resident_id}",
    ):
        assert path in paths
    operation = paths["/api/v1/linkage/review/{pair_id}/decision"]["post"]
    assert operation["x-joinedup-access"] == "personal-data"
    assert operation["x-joinedup-roles"] == ["analyst"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/linkage/review/" + "p-" + "0" * 60, None),
        ("get", "/api/v1/linkage/review/p-%C3%A9%00", None),
        ("get", "/api/v1/linkage/residents/r-%2F..%2F", None),
        ("get", "/api/v1/linkage/residents/" + "r" * 65, None),
        ("get", "/api/v1/linkage/review?page=0", None),
        ("get", "/api/v1/linkage/review?page_size=100000", None),
        ("get", "/api/v1/linkage/runs/0", None),
        ("get", "/api/v1/linkage/runs/99999999999", None),
        ("post", "/api/v1/linkage/review/p-0000000000000000/decision", {"decision": "match"}),
        ("post", "/api/v1/linkage/review/p-zz/decision", {"decision": "match"}),
        ("post", "/api/v1/linkage/review/p-zz/decision", {"decision": None}),
        ("post", "/api/v1/linkage/review/p-zz/decision", ["match"]),
    ],
)
def test_hostile_api_input_is_a_clear_4xx(api: Any, method: str, path: str, body: Any) -> None:
    response = api.request(method, path, json=body) if body is not None else api.get(path)
    assert 400 <= response.status_code < 500, response.text
    assert "detail" in response.json()


def test_a_note_with_control_characters_is_refused(api: Any) -> None:
    item = api.get("/api/v1/linkage/review").json()["items"][0]
    url = f"/api/v1/linkage/review/{item['pair']}/decision"
    refused = api.post(url, json={"decision": "match", "note": "a\x00b"})
    assert refused.status_code == 422 and "not text" in refused.text
