"""Finding a resident with the linkage model, and their subject access export: the records
across organisations, redaction of other people's data (JSON, JSON-LD, PDF and the printable
page), the portable JSON-LD with DPV, and every disclosure in the audit log."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from pyld import jsonld
from pypdf import PdfReader
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, RightsExport
from joinedup.governance.access import Actor
from joinedup.governance.audit import verify_chain
from joinedup.rights.common import RightsError
from joinedup.rights.exports import load_export, release_export, render
from joinedup.rights.find import PersonQuery, find_person
from joinedup.rights.subject import collect
from joinedup.web.app import create_app
from tests.regions import Region
from tests.rights.conftest import actor_for, flagged_resident, query
from tests.support import signed_in

pytestmark = pytest.mark.slow
DPV = "https://w3id.org/dpv#"


def _details(home: Region, resident: str) -> dict[str, str]:
    """The resident's details as they would give them (from one of their records)."""
    row = query(
        home,
        """SELECT r.given_name, r.family_name, r.dob, r.postcode FROM {records} r
        JOIN {index} i USING (record_key) WHERE i.resident_id = ? AND r.dob IS NOT NULL
        AND r.given_name IS NOT NULL AND r.family_name IS NOT NULL
        ORDER BY r.record_key LIMIT 1""",
        resident,
    )[0]
    return {
        "given_name": row[0].title(),
        "family_name": row[1].title(),
        "date_of_birth": row[2].isoformat(),
        "postcode": row[3] or "",
    }


def _events(home: Region, action: str) -> list[AuditEvent]:
    with session_scope(home.settings) as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        session.expunge_all()
        return rows


def test_a_dpo_finds_a_resident_in_several_boroughs(rights_home: Region, dpo: Actor) -> None:
    resident = flagged_resident(rights_home, "school-outside-home-borough")
    details = _details(rights_home, resident)
    result = find_person(rights_home.settings, dpo, PersonQuery.parse(details))
    assert result.residents and result.residents[0].resident_id == resident
    match = result.residents[0]
    expected = {
        r[0]
        for r in query(
            rights_home, "SELECT record_key FROM {index} WHERE resident_id = ?", resident
        )
    }
    assert {c.record.record_key for c in match.records} == expected
    assert len(match.organisations) >= 2
    assert all(c.record.values for c in match.records), "values are read through the gateway"
    assert all(c.match_probability < result.threshold for c in result.near_misses)
    assert all(c.record.resident_id != resident for c in result.near_misses)
    # the search is audited by record key; what was typed is not in the log
    event = _events(rights_home, "rights.find")[-1]
    assert set(event.records) >= expected and resident in event.details["residents"]
    text = json.dumps([e.details for e in _events(rights_home, "rights.find")]) + json.dumps(
        [e.records for e in _events(rights_home, "rights.find")]
    )
    assert details["family_name"].upper() not in text.upper()
    assert details["date_of_birth"] not in text


def test_a_near_miss_is_shown_not_silently_dropped(rights_home: Region, dpo: Actor) -> None:
    resident = flagged_resident(rights_home, "school-outside-home-borough")
    details = _details(rights_home, resident)
    # a different day of birth: the model is no longer sure
    year, month, day = details["date_of_birth"].split("-")
    details["date_of_birth"] = f"{year}-{month}-{'12' if day != '12' else '13'}"
    result = find_person(rights_home.settings, dpo, PersonQuery.parse(details))
    candidates = {c.record.resident_id for c in result.near_misses} | {
        r.resident_id for r in result.residents
    }
    assert resident in candidates


def test_bad_details_and_other_roles_are_refused(rights_home: Region) -> None:
    with pytest.raises(RightsError, match="Date of birth"):
        PersonQuery.parse({"given_name": "A", "family_name": "B", "date_of_birth": "31/02/2010"})
    with pytest.raises(RightsError, match="identifier"):
        PersonQuery.parse({"given_name": "A"})
    analyst = actor_for(rights_home, "hub.analyst", "subject-access")
    with pytest.raises(RightsError) as refused:
        find_person(rights_home.settings, analyst, PersonQuery.parse({"nhs_number": "9434765919"}))
    assert refused.value.status_code == 403
    wrong_purpose = actor_for(rights_home, "hub.dpo", "statistics")
    with pytest.raises(RightsError, match="subject-access"):
        collect(rights_home.settings, wrong_purpose, "r-0000000000000000")


def _others(home: Region, resident: str) -> tuple[set[str], set[str]]:
    """Other household members' ids, record ids, names and dates of birth (strings that must
    not appear), less any value the resident shares (their own family name, say)."""
    rows = query(
        home,
        """SELECT i.resident_id, i.source_record_id, r.given_name, r.family_name,
                  CAST(r.dob AS VARCHAR), i.household_id = h.household_id
        FROM {index} i JOIN {records} r USING (record_key)
        JOIN (SELECT DISTINCT household_id FROM {index} WHERE resident_id = ?) h
          ON i.household_id = h.household_id""",
        resident,
    )
    own = {v for row in rows if row[0] == resident for v in row[1:5] if v}
    secrets: set[str] = set()
    for rid, record_id, given, family, dob, _ in rows:
        if rid == resident:
            continue
        secrets.add(rid)
        secrets.add(record_id)
        if given and given not in own:
            secrets.add(given)
            secrets.add(f"{given} {family}")
        if dob and dob not in own:
            secrets.add(dob)
    # flags' other records (another adult at the address) are other people's too
    for (records,) in query(home, "SELECT records FROM {flags} WHERE resident_id = ?", resident):
        for r in records:
            owner = query(
                home,
                "SELECT resident_id FROM {index} WHERE organisation = ? AND dataset = ? "
                "AND source_record_id = ?",
                r["organisation"],
                r["dataset"],
                r["source_record_id"],
            )
            if owner and owner[0][0] != resident:
                secrets.update({owner[0][0], r["source_record_id"]})
    return secrets, own


@pytest.fixture(scope="module")
def api(rights_home: Region) -> Iterator[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(rights_home.settings)) as client:
        yield client


def test_the_export_leaks_no_other_persons_data_and_every_disclosure_is_audited(
    rights_home: Region, dpo: Actor, api: Any
) -> None:
    resident = flagged_resident(rights_home, "spd-other-adults")
    secrets, _ = _others(rights_home, resident)
    assert secrets, "the test needs a resident with other people in the household"
    before = {a: len(_events(rights_home, a)) for a in ("rights.export", "rights.export_download")}

    signed_in(api, "hub.dpo", rights_home.logins["hub.dpo"], "subject-access")
    review = api.get(f"/rights/residents/{resident}")
    assert review.status_code == 200 and "Redactions" in review.text
    released = api.post(f"/api/v1/rights/residents/{resident}/exports", json={})
    assert released.status_code == 201, released.text
    export_id = released.json()["id"]
    outputs = {
        "json": api.get(f"/api/v1/rights/exports/{export_id}/json"),
        "jsonld": api.get(f"/api/v1/rights/exports/{export_id}/jsonld"),
        "pdf": api.get(f"/api/v1/rights/exports/{export_id}/pdf"),
        "html": api.get(f"/rights/exports/{export_id}"),
    }
    assert all(r.status_code == 200 for r in outputs.values())
    document = outputs["json"].json()
    assert document["resident_id"] == resident
    assert document["household"]["other_members"] >= 1
    kinds = {r["kind"] for r in document["redactions"]}
    assert {"person", "record"} <= kinds, document["redactions"]
    assert document["flags"] and document["records"]
    pdf_text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(outputs["pdf"].content)).pages
    )
    assert resident in pdf_text
    texts = {
        "json": outputs["json"].text,
        "jsonld": outputs["jsonld"].text,
        "pdf": pdf_text,
        "html": outputs["html"].text,
    }
    for fmt, text in texts.items():
        upper = text.upper()
        leaked = sorted(s for s in secrets if s.upper() in upper)
        assert not leaked, f"{fmt} export holds other people's data: {leaked}"

    # every disclosure is in the audit log: the release, each download, the reads
    releases = _events(rights_home, "rights.export")
    downloads = _events(rights_home, "rights.export_download")
    assert len(releases) == before["rights.export"] + 1
    assert releases[-1].target_id == str(export_id)
    assert {r["record_key"] for r in document["records"]} == set(releases[-1].records)
    assert len(downloads) == before["rights.export_download"] + 4
    assert {e.details["format"] for e in downloads[-4:]} == {"json", "jsonld", "pdf", "html"}
    reads = [
        e
        for e in _events(rights_home, "personal_data.read")
        if e.actor == "hub.dpo" and e.target_type == "dataset_version"
    ]
    for record in document["records"]:
        target = f"{record['organisation']}/{record['dataset']}/{record['version']}"
        assert any(
            e.target_id == target and record["source_record_id"] in e.records for e in reads
        ), f"no audited read of {record['record_key']}"
    with session_scope(rights_home.settings) as session:
        assert session.get(RightsExport, export_id) is not None
        assert verify_chain(session) == []


def test_the_portable_export_is_json_ld_with_dpv(rights_home: Region, dpo: Actor) -> None:
    resident = flagged_resident(rights_home, "school-outside-home-borough")
    info = release_export(rights_home.settings, dpo, resident)
    document, _ = load_export(rights_home.settings, dpo, info.id, "jsonld")
    data = json.loads(render(document, "jsonld"))
    expanded = jsonld.expand(data)
    assert len(expanded) == 1
    node = expanded[0]
    handlings = node[f"{DPV}hasPersonalDataHandling"]
    assert len(handlings) == len(document["records"])
    first = handlings[0]
    for term in ("hasPurpose", "hasLegalBasis", "hasRecipient", "hasPersonalData"):
        assert f"{DPV}{term}" in first, term
    bases = {b["@id"] for h in handlings for b in h[f"{DPV}hasLegalBasis"]}
    assert f"{DPV}PublicInterest" in bases
    # an RDF round trip works: the document is well-formed linked data
    assert jsonld.to_rdf(data, {"format": "application/n-quads"})
