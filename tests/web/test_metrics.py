"""``/metrics``: off unless a token is set, only for that token, and scraped for real (the app
under uvicorn, and the separate listener) and read with prometheus-client's own parser.
Requests are labelled by route template, never by their path."""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from joinedup import metrics
from joinedup.catalog.db import session_scope
from joinedup.config import Settings, load_settings
from joinedup.errors import InvalidInput
from joinedup.governance.accounts import create_user
from joinedup.governance.organisations import ensure_organisation
from joinedup.governance.policy import AccessRequest, decide
from joinedup.governance.purposes import ensure_default_purposes
from joinedup.jobs import run_inline
from joinedup.web.observe import UNMATCHED
from tests.browser.conftest import LiveServer, serve_home

TOKEN = "metrics-" + uuid.uuid4().hex


def scrape(text: str) -> list[Sample]:
    """Every sample of an exposition, parsed by prometheus-client (fails on bad syntax)."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 if none)."""
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


@pytest.fixture
def server(home_settings: Settings) -> Iterator[LiveServer]:
    with serve_home(replace(home_settings, metrics_token=TOKEN)) as live:
        yield live


def get_metrics(server: LiveServer, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(server("/metrics"), headers=headers, timeout=30)


def test_no_metrics_route_without_a_token(home_settings: Settings) -> None:
    with serve_home(home_settings) as live:
        assert httpx.get(live("/metrics"), timeout=30).status_code == 404
        assert httpx.get(live("/healthz"), timeout=30).status_code == 200


def test_the_token_is_required(server: LiveServer) -> None:
    assert get_metrics(server, token=None).status_code == 401
    refused = get_metrics(server, token="not-the-token")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "joinedup_" not in refused.text
    assert get_metrics(server).status_code == 200
    assert "/metrics" not in httpx.get(server("/openapi.json"), timeout=30).json()["paths"]


def test_requests_jobs_decisions_and_audit_appends_are_measured(
    server: LiveServer, home_settings: Settings
) -> None:
    before = scrape(get_metrics(server).text)
    job_id = str(uuid.uuid4())
    # requests with ids and personal-looking text in their paths and query strings
    assert httpx.get(server(f"/api/v1/jobs/{job_id}"), timeout=30).status_code == 401
    httpx.get(server("/no/such/page/Jane-Smith-1980-01-02?nhs=9434765919"), timeout=30)
    for _ in range(3):
        assert httpx.get(server("/healthz"), timeout=30).status_code == 200
    # jobs that succeed and fail
    assert run_inline(home_settings, "store.verify", {}).status == "succeeded"
    assert run_inline(home_settings, "backup", {}).status == "failed"  # no path given
    # policy decisions (each organisation and user creation appends audit events)
    with session_scope(home_settings) as session:
        ensure_default_purposes(session)
        own = ensure_organisation(session, code="lambeth", name="Lambeth")
        other = ensure_organisation(session, code="southwark", name="Southwark")
        user = create_user(
            session,
            username="analyst",
            display_name="Analyst",
            organisation="lambeth",
            role="analyst",
            password=None,
        )
        session.flush()
        ask = AccessRequest(user.id, own.id, "fsm", own.id, "people", "person", ("given_name",))
        assert decide(session, ask).allow
        elsewhere = replace(ask, provider_id=other.id, today=date.today())
        assert not decide(session, elsewhere).allow

    response = get_metrics(server)
    assert response.headers["content-type"].startswith("text/plain")
    after = scrape(response.text)

    def grew(name: str, by: float = 1, **labels: str) -> None:
        change = value(after, name, **labels) - value(before, name, **labels)
        assert change >= by, (name, labels, change)

    requests = "joinedup_http_request_duration_seconds_count"
    grew(requests, route="/api/v1/jobs/{job_id}", method="GET", status="401")
    grew(requests, route=UNMATCHED, status="404")
    grew(requests, 3, route="/healthz", status="200")
    grew(requests, route="/metrics", status="200")
    jobs = "joinedup_job_duration_seconds_count"
    grew(jobs, kind="store.verify", outcome="succeeded")
    grew(jobs, kind="backup", outcome="failed")
    decisions = "joinedup_policy_decisions_total"
    grew(decisions, outcome="allow", acting="user")
    grew(decisions, outcome="deny", acting="user")
    grew("joinedup_audit_append_duration_seconds_count", 3)
    assert value(after, "joinedup_jobs_running", kind="store.verify") == 0
    assert value(after, "process_resident_memory_bytes") > 0

    # labels hold templates, never what a path carried
    label_values = {v for s in after for v in s.labels.values()}
    for leaked in (job_id, "Jane", "Smith", "1980-01-02", "9434765919"):
        assert not any(leaked in v for v in label_values), leaked
    routes = {s.labels["route"] for s in after if "route" in s.labels}
    assert all(r == UNMATCHED or r.startswith("/") for r in routes)


def test_the_separate_listener_serves_the_same_registry() -> None:
    host, port = metrics.start_listener("127.0.0.1:0")
    assert host == "127.0.0.1" and port > 0
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=30) as answer:
        samples = scrape(answer.read().decode())
    names = {s.name for s in samples}
    assert "joinedup_audit_append_duration_seconds_count" in names
    assert "process_cpu_seconds_total" in names


def test_settings_are_checked() -> None:
    assert load_settings({"JOINEDUP_METRICS_TOKEN": "t"}).metrics_token == "t"
    assert load_settings({}).log_format == "json"
    with pytest.raises(ValueError, match="log_format"):
        load_settings({"JOINEDUP_LOG_FORMAT": "xml"})
    for bad in ("9464", "localhost", "127.0.0.1:http", "127.0.0.1:70000"):
        with pytest.raises(InvalidInput, match="JOINEDUP_METRICS_BIND"):
            metrics.parse_bind(bad)
    assert metrics.parse_bind("[::1]:9464") == ("::1", 9464)
