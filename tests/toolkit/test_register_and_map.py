"""The public register of data sharing and the ecosystem map, on a small governed region: the
map's flows equal the audit log's reads for the month, the public view withholds small counts,
filters, the SVG and JSON exports, the register's CSV, JSON and DCAT, and the public pages."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, Organisation, User
from joinedup.governance.access import AccessDenied, Actor, read_records
from joinedup.toolkit.ecosystem import ecosystem_map
from joinedup.toolkit.ecosystem_svg import render_svg
from joinedup.toolkit.register import register, register_csv, register_dcat
from joinedup.web.app import create_app
from tests.governance.conftest import TODAY, Region
from tests.publish.test_dcat import conforms_to_dcat_ap

FIELDS = ["source_record_id", "given_name", "family_name", "fsm_eligible"]
SVG = "{http://www.w3.org/2000/svg}"


def _actor(r: Region, username: str, purpose: str = "fsm") -> Actor:
    return Actor.of(r.user(username), purpose)


def _read(r: Region, username: str, organisation: str = "southwark", **kw: object) -> None:
    read_records(
        r.settings,
        _actor(r, username),
        organisation=organisation,
        dataset="school-census",
        fields=kw.pop("fields", FIELDS),  # type: ignore[arg-type]
        today=TODAY,
        **kw,  # type: ignore[arg-type]
    )


def _audit_reads(r: Region, month: str) -> Counter[tuple[str, str, str]]:
    """What the audit log says was read under agreements in the month (counted here
    independently of the map's own query)."""
    found: Counter[tuple[str, str, str]] = Counter()
    with session_scope(r.settings) as session:
        codes = dict(session.execute(select(Organisation.id, Organisation.code)).all())
        for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            agreement = (event.details or {}).get("agreement")
            if (
                event.action in ("personal_data.read", "personal_data.process")
                and event.decision == "allow"
                and agreement
                and f"{event.occurred_at:%Y-%m}" == month
            ):
                provider = str(event.target_id).split("/")[0]
                found[(agreement, provider, codes[event.organisation_id])] += 1
    return found


@pytest.fixture
def reads(active_fsm_agreement: Region) -> Region:
    r = active_fsm_agreement
    for _ in range(3):
        _read(r, "lam-case")  # Lambeth reads Southwark's census under DSA-FSM-1
    _read(r, "lam-case", record_ids=["S2"])
    with pytest.raises(AccessDenied):  # refused: not counted
        _read(r, "lam-case", fields=["date_of_birth"])
    _read(r, "sou-case")  # Southwark reads its own records as controller: not a flow
    return r


def test_the_maps_flows_equal_the_audit_logs_reads(reads: Region) -> None:
    month = f"{datetime.now(UTC):%Y-%m}"
    data = ecosystem_map(reads.settings, month=month, today=TODAY)
    flows = {(f.agreement, f.provider, f.recipient): f for f in data.flows}
    assert {k: f.reads for k, f in flows.items()} == dict(_audit_reads(reads, month))
    flow = flows[("DSA-FSM-1", "southwark", "lambeth")]
    assert (flow.reads, flow.rows_read) == (4, 3 * 3 + 1)
    assert flow.datasets == ["school-census"] and flow.purposes == ["fsm"]
    assert flow.dataset_categories == ["School census pupil"]
    assert "Identity and contact details" in flow.field_categories
    assert flow.lawful_basis == "UK GDPR Article 6(1)(e)"
    assert {n.code for n in data.nodes} == {"southwark", "lambeth"}

    # another month has the agreement but no reads
    quiet = ecosystem_map(reads.settings, month="2026-01", today=TODAY)
    assert [(f.agreement, f.reads) for f in quiet.flows] == [("DSA-FSM-1", 0)]


def test_the_public_map_withholds_small_counts_and_filters_only_choose_flows(
    reads: Region,
) -> None:
    month = f"{datetime.now(UTC):%Y-%m}"
    data = ecosystem_map(reads.settings, month=month, public=True, today=TODAY)
    (flow,) = data.flows
    assert flow.reads is None and flow.rows_read == 10  # 4 reads withheld; 10 records shown
    assert data.disclosure and "under 10 are withheld" in data.disclosure
    # a filter chooses flows; it never recounts them
    assert ecosystem_map(reads.settings, purpose="early-help", today=TODAY).flows == []
    assert ecosystem_map(reads.settings, organisation="foodbank", today=TODAY).flows == []
    same = ecosystem_map(
        reads.settings, month=month, dataset="school-census", public=True, today=TODAY
    )
    assert same.flows == data.flows

    svg = ET.fromstring(render_svg(data))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
    assert len(svg.findall(f"{SVG}circle")) == 2 and len(svg.findall(f"{SVG}path")) == 1


def test_the_register_and_its_open_data(active_fsm_agreement: Region) -> None:
    r = active_fsm_agreement
    (entry,) = register(r.settings, TODAY)
    assert entry.reference == "DSA-FSM-1"
    assert (entry.providers, entry.recipients) == (["Southwark"], ["Lambeth"])
    assert [p.code for p in entry.purposes] == ["fsm"]
    assert entry.dataset_categories == ["School census pupil"]
    assert entry.ethics[0].version == 1 and entry.ethics[0].answers
    assert "You can object" in entry.how_to_object
    rows = list(csv.DictReader(io.StringIO(register_csv([entry]))))
    assert [row["reference"] for row in rows] == ["DSA-FSM-1"]
    assert rows[0]["ethics_records"].startswith("fsm v1")
    dcat = register_dcat("http://hub", [entry], datetime.now(UTC))
    (dataset,) = dcat["dcat:dataset"]
    assert [d["dct:title"] for d in dataset["dcat:distribution"]] == ["CSV", "JSON"]
    conforms, report = conforms_to_dcat_ap(dcat)
    assert conforms, report  # the portal's DCAT-AP 3 profile
    # no personal data: nothing from the records, no user names
    everything = register_csv([entry]) + str(dcat)
    with session_scope(r.settings) as session:
        for user in session.scalars(select(User)):
            assert user.username not in everything
    assert "BEN" not in everything and "OKAFOR" not in everything


def test_the_public_pages(reads: Region) -> None:
    with TestClient(create_app(reads.settings)) as client:
        page = client.get("/transparency")
        assert page.status_code == 200 and "DSA-FSM-1" in page.text
        assert "How to object" in page.text
        assert client.get("/transparency/register.csv").text.startswith("reference,")
        assert client.get("/transparency/register.json").json()[0]["reference"] == "DSA-FSM-1"
        dcat = client.get("/transparency/register.jsonld")
        assert dcat.headers["content-type"].startswith("application/ld+json")
        shown = client.get("/transparency/map?purpose=fsm")
        assert shown.status_code == 200 and "<svg" in shown.text and 'id="flows"' in shown.text
        assert "fewer than 10" in shown.text
        assert client.get("/transparency/map.json").json()["public"] is True
        assert client.get("/transparency/map.svg").text.startswith("<svg")
        assert client.get("/transparency/map?month=2026-13").status_code == 400
        assert client.get("/ecosystem", follow_redirects=False).status_code in (302, 303, 401)
