"""Logs and metrics on real work: a whole demo run, then people using the demo hub over HTTP
(an upload of residents, linkage pages, a caseworker's flags, a subject access request) and
in Chromium (a caseworker signs in, chooses a purpose and opens a flag),
with the app under uvicorn and logging set up as ``joinedup serve`` sets it up.

Every log line must be JSON, and none may hold a personal value of the synthetic region: its
names, dates of birth, NHS, NI and pupil numbers, addresses and postcodes (issue 20's log
scan). ``/metrics`` is scraped at the end and must show the work."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from joinedup.catalog.db import dispose_engines
from joinedup.demo import DemoOptions, run_demo, source_dir
from joinedup.logs import configure_logging
from joinedup.web.observe import UNMATCHED
from tests.browser.conftest import FSM, WORKLIST, LiveServer, serve_home, sign_in_for
from tests.regions import Region
from tests.rights.conftest import details_of, flagged_resident, query
from tests.support import make_settings, signed_in
from tests.web.test_datasets_api import wait_for_job

pytestmark = pytest.mark.slow
TOKEN = "observability-test-token"
#: Names shorter than this are also ordinary words and fragments ("Al", "Bo", "Ng"); longer
#: ones are looked for as whole words.
MIN_NAME = 4


@contextmanager
def captured_logs(path: Path) -> Iterator[Path]:
    """Logging as ``joinedup serve`` configures it, into ``path``; the previous set-up is put
    back afterwards (pytest's own handlers included)."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    access = logging.getLogger("uvicorn.access")
    saved_access = access.disabled
    with path.open("w", encoding="utf-8") as stream:
        handler = configure_logging("json", stream=stream)
        try:
            yield path
        finally:
            handler.flush()
            root.removeHandler(handler)
            for old in saved[0]:
                root.addHandler(old)
            root.setLevel(saved[1])
            access.disabled = saved_access


@dataclass
class Personal:
    """A region's personal values: ``phrases`` are looked for anywhere (case-insensitive),
    ``names`` as whole words."""

    phrases: set[str]
    names: set[str]


def personal_values(region_dir: Path) -> Personal:
    truth, gazetteer = region_dir / "truth", region_dir / "gazetteer" / "synthetic-gazetteer.csv"
    households = truth / "households.parquet"
    con = duckdb.connect()
    people = con.execute(
        f"""SELECT given_name, middle_name, family_name, birth_family_name,
        CAST(dob AS VARCHAR), strftime(dob, '%d/%m/%Y'), nhs_number, ni_number, upn
        FROM '{truth / "people.parquet"}'"""
    ).fetchall()
    places = con.execute(
        f"""SELECT concat_ws(' ', PAO_TEXT, STREET_DESCRIPTION), POSTCODE, CAST(UPRN AS VARCHAR)
        FROM read_csv('{gazetteer}', all_varchar = true)
        WHERE UPRN IN (SELECT CAST(uprn_start AS VARCHAR) FROM '{households}'
                       UNION SELECT CAST(uprn_end AS VARCHAR) FROM '{households}')"""
    ).fetchall()
    phrases: set[str] = set()
    names: set[str] = set()
    for given, middle, family, birth, dob, dob_uk, nhs, ni, upn in people:
        names.update(n.lower() for n in (given, middle, family, birth) if n and len(n) >= MIN_NAME)
        phrases.update(v for v in (dob, dob_uk, nhs, ni, upn) if v)
        if nhs:
            phrases.add(f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")
        if given and family:
            phrases.add(f"{given} {family}".lower())
    for street, postcode, uprn in places:
        phrases.update(v for v in (street, postcode, uprn) if v and len(v) > 4)
    return Personal({p.lower() for p in phrases}, names)


def read_lines(path: Path) -> list[dict[str, object]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(p) for p in parsed)
    return parsed


def leaks(path: Path, personal: Personal) -> list[str]:
    """Each personal value found in the log, with the line it is in."""
    found: list[str] = []
    for line in path.read_text(encoding="utf-8").lower().splitlines():
        for phrase in personal.phrases:
            if phrase in line:
                found.append(f"{phrase!r} in {line[:200]}")
        for word in set(re.findall(r"[^\W\d_]+", line)) & personal.names:
            found.append(f"name {word!r} in {line[:200]}")
    return found


def test_a_whole_demo_run_logs_no_personal_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with captured_logs(tmp_path / "demo.log") as log:
        result = run_demo(make_settings(home), DemoOptions(residents=200, months=4))
    dispose_engines()
    assert result.ok, [s for s in result.stages if s["status"] != "succeeded"]
    lines = read_lines(log)
    jobs = [line for line in lines if line["message"] == "job"]
    assert len(jobs) >= len(result.stages) and all(j["outcome"] == "succeeded" for j in jobs)
    assert {"linkage.build", "insight.run", "ingest.region"} <= {str(j["kind"]) for j in jobs}
    personal = personal_values(source_dir(make_settings(home)))
    assert len(personal.names) > 100 and len(personal.phrases) > 500
    assert leaks(log, personal) == []


def _person_rows(demo: Region, count: int) -> list[tuple[str, str, str, str, str]]:
    """Residents of the region as another system would export them."""
    return [
        (f"X{i}", *(str(v) for v in row))
        for i, row in enumerate(
            query(
                demo,
                """SELECT r.given_name, r.family_name, CAST(r.dob AS VARCHAR), r.postcode
                FROM {records} r WHERE r.dob IS NOT NULL AND r.postcode IS NOT NULL
                AND r.given_name IS NOT NULL AND r.family_name IS NOT NULL
                ORDER BY r.record_key LIMIT ?""",
                count,
            )
        )
    ]


def _browse_a_flag(browser: Any, server: LiveServer, demo: Region) -> None:
    """A caseworker signs in in Chromium, chooses a purpose and opens a flag."""
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        caseworker = "lambeth.caseworker"
        sign_in_for(page, WORKLIST, caseworker, demo.logins[caseworker], FSM, checked=False)
        page.locator('#flags tbody a[href^="/worklist/flags/"]').first.click()
        page.wait_for_url("**/worklist/flags/**")
        assert page.locator("h1").count() == 1
    finally:
        context.close()


def test_people_using_the_hub_leave_no_personal_data_in_the_logs_and_show_in_the_metrics(
    private_demo: Region, browser: Any, tmp_path: Path
) -> None:
    demo = private_demo
    settings = replace(demo.settings, metrics_token=TOKEN)
    people = _person_rows(demo, 40)
    upload = "source_record_id,given_name,family_name,date_of_birth,postcode\n" + "".join(
        ",".join(row) + "\n" for row in people
    )
    resident = flagged_resident(demo, "school-outside-home-borough")
    given, family, dob, postcode = details_of(demo, resident)

    as_served = {"log_config": None, "log_level": None}  # as joinedup serve runs uvicorn
    with captured_logs(tmp_path / "serve.log") as log, serve_home(settings, **as_served) as server:

        @contextmanager
        def client(username: str, purpose: str | None) -> Iterator[httpx.Client]:
            with httpx.Client(base_url=server.url, timeout=120) as http:
                yield signed_in(http, username, demo.logins[username], purpose)  # type: ignore[arg-type]

        # a data owner uploads a file of residents
        with client("lambeth.data-owner", None) as owner:
            answer = owner.post(
                "/api/v1/datasets/lambeth/visitors/versions",
                files={"file": ("visitors.csv", upload.encode(), "text/csv")},
                data={"standard": "person"},
            )
            assert answer.status_code == 202, answer.text
            job = wait_for_job(owner, answer.json()["job_id"])  # type: ignore[arg-type]
            assert job["status"] == "succeeded", job["error"]
            bad = owner.post(
                "/api/v1/datasets/lambeth/visitors/versions?wait=true",
                files={"file": ("bad.csv", f"{upload}X99,{given},{family},13/13/13,\n".encode())},
                data={"standard": "person"},
            )
            assert bad.status_code in (201, 422), bad.text
        # an analyst looks at the resident index and a resident
        with client("hub.analyst", "linkage") as analyst:
            assert analyst.get("/linkage").status_code == 200
            assert analyst.get(f"/residents/{resident}").status_code == 200
            assert analyst.get(f"/api/v1/linkage/residents/{resident}").status_code == 200
            assert analyst.get("/linkage/review").status_code == 200
        # a caseworker works the flags
        with client("lambeth.caseworker", "fsm") as caseworker:
            assert caseworker.get("/worklist").status_code == 200
            flags = caseworker.get("/api/v1/insight/flags").json()["flags"]
            assert flags
            flag_id = flags[0]["flag_id"]
            assert caseworker.get(f"/worklist/flags/{flag_id}").status_code == 200
        # a DPO answers a subject access request
        with client("hub.dpo", "subject-access") as dpo:
            found = dpo.post(
                "/api/v1/rights/find",
                json={
                    "given_name": given.title(),
                    "family_name": family.title(),
                    "date_of_birth": dob,
                    "postcode": postcode or "",
                },
            )
            assert found.status_code == 200, found.text
            assert resident in found.text
            released = dpo.post(f"/api/v1/rights/residents/{resident}/exports", json={})
            assert released.status_code == 201, released.text
            export_id = released.json()["id"]
            assert dpo.get(f"/api/v1/rights/exports/{export_id}/json").status_code == 200
            assert dpo.get(f"/rights/exports/{export_id}").status_code == 200
        # the caseworker again, in Chromium: pages with their assets, forms and redirects
        _browse_a_flag(browser, server, demo)
        # somebody probes with personal data in a path and a query string
        httpx.get(server(f"/residents/{given}-{family}?dob={dob}"), timeout=30)
        httpx.get(server(f"/no-such-page/{given}/{dob}"), timeout=30)

        scraped = httpx.get(
            server("/metrics"), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )
        assert scraped.status_code == 200

    samples = [s for f in text_string_to_metric_families(scraped.text) for s in f.samples]

    def total(name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    assert total("joinedup_job_duration_seconds_count", kind="ingest", outcome="succeeded") >= 1
    assert total("joinedup_policy_decisions_total", outcome="allow") >= 1
    assert total("joinedup_audit_append_duration_seconds_count") >= 4
    routes = {s.labels["route"] for s in samples if "route" in s.labels}
    assert {"/residents/{resident_id}", "/api/v1/rights/find", UNMATCHED} <= routes
    assert not any(resident in r or given.lower() in r.lower() for r in routes)

    lines = read_lines(log)
    requests = [line for line in lines if line["message"] == "request"]
    assert len(requests) >= 15
    assert {"/api/v1/rights/find", "/worklist", UNMATCHED} <= {str(r["route"]) for r in requests}
    browsed = [r for r in requests if r["route"] == "/worklist/flags/{flag_id}"]
    assert len(browsed) >= 2  # the API client's and Chromium's
    assert any(line["message"] == "job" and line["kind"] == "ingest" for line in lines)
    personal = personal_values(source_dir(demo.settings))
    personal.phrases.update(p.lower() for row in people for p in row[3:])
    personal.names.update(n.lower() for row in people for n in row[1:3] if len(n) >= MIN_NAME)
    assert leaks(log, personal) == []


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan is not vacuous: a planted name, date of birth or NHS number is found."""
    personal = Personal({"1980-01-02", "943 476 5919", "sw1a 1aa"}, {"katarzyna"})
    log = tmp_path / "planted.log"
    with captured_logs(log):
        logging.getLogger("joinedup.test").info("request", extra={"route": "/x/KATARZYNA"})
        logging.getLogger("joinedup.test").warning("dob 1980-01-02 for 943 476 5919")
        logging.getLogger("joinedup.test").info("clean", extra={"route": "/residents/{id}"})
    found = leaks(log, personal)
    assert len(found) == 3, found
    assert any("katarzyna" in f for f in found)
