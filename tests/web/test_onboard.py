"""The guided mapping page and the layouts API: sample → map → preview → save → drift."""

from __future__ import annotations

import re
import time
from typing import Any

import yaml
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import DatasetVersion, IngestLayout
from joinedup.config import Settings
from joinedup.ingest.guided import field_rows
from joinedup.ingest.service import NO_MAPPING
from joinedup.ingest.suggest import suggest_mapping
from tests.support import csrf_of
from tests.web.conftest import SignedInFor, add_accounts

MONTH_1 = (
    "Service Area,Expenditure Catergory,Paid Date,Trans No,Amount,Supplier Name,Type\n"
    "Adults,Care Fees,01/04/2026,T1,1250.00,Acme Care Ltd,Revenue\n"
    "Housing,Repairs,02/04/2026,T2,600.00,,Capital\n"
    "Housing,Repairs,03/04/2026,T3,700.00,Builders Ltd,Cap\n"
)
MONTH_2 = (
    "Service Area,Expenditure Category,Date Paid,Transaction Number,Amount,Supplier Nmae,"
    "Capital or Revenue,Cost Centre\n"
    "Adults,Care Fees,01/05/2026,T4,1250.00,Acme Care Ltd,Revenue,CC1\n"
    "Housing,Repairs,02/05/2026,T5,600.00,REDACTED,Capital,CC2\n"
)


def _token(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_guided_journey_then_a_drifted_file_is_ingested_after_one_confirmation(
    signed_in_for: SignedInFor, home_settings: Settings
) -> None:
    client = signed_in_for(home_settings, "lam-owner", token=False)
    start = client.get("/mappings/guided")
    assert start.status_code == 200
    page = client.post(
        "/mappings/guided",
        data={"csrf_token": csrf_of(start.text), "organisation": "lambeth", "dataset": "spend",
              "standard": "spend"},
        files={"file": ("spend-2026-04.csv", MONTH_1, "text/csv")},
    )  # fmt: skip
    assert page.status_code == 200, page.text
    assert "Check the mapping" in page.text and "high confidence" in page.text
    token = _token(page.text)
    form = {"csrf_token": csrf_of(page.text), "token": token}
    # The codes table offers a code for each value of Type; the person fixes "Cap".
    assert 'name="codesrc-capital_revenue-3" value="Cap"' in page.text
    sample = {
        "Service Area": [], "Expenditure Catergory": [], "Paid Date": [], "Trans No": [],
        "Amount": [], "Supplier Name": [], "Type": [],
    }  # fmt: skip
    _, suggestions = suggest_mapping("spend", list(sample), sample)
    for s in suggestions:
        form[f"column-{s.field}"] = s.column or ""
    form["column-capital_revenue"] = "Type"  # the person fixes capital or revenue by hand
    form |= {"codesrc-capital_revenue-1": "Revenue", "code-capital_revenue-1": "revenue"}
    form |= {"codesrc-capital_revenue-2": "Capital", "code-capital_revenue-2": "capital"}
    form |= {"codesrc-capital_revenue-3": "Cap", "code-capital_revenue-3": "capital"}
    missing = client.post("/mappings/guided/map", data=form | {"column-net_amount": ""})
    assert missing.status_code == 422 and "Select the column for Net amount" in missing.text
    shown = client.post("/mappings/guided/map", data=form | {"action": "preview"})
    assert shown.status_code == 200, shown.text
    assert "Validation of the sample" in shown.text
    assert "Redacted supplier_name" in shown.text  # the blank supplier is lawful
    totals = re.search(r'id="preview-totals".*?</dl>', shown.text, re.S)
    assert totals and "quarantined" in totals.group(0)
    saved = client.post("/mappings/guided/map", data=form | {"action": "save"})
    assert saved.status_code == 200 and "Mapping saved" in saved.text
    with session_scope(home_settings) as session:
        layout = session.scalars(select(IngestLayout)).one()
        assert layout.accepted_by == "lam-owner"
        assert layout.mapping["fields"]["capital_revenue"]["codes"] == {
            "Revenue": "revenue", "Capital": "capital", "Cap": "capital"
        }  # fmt: skip
    assert list((home_settings.uploads_dir / "drafts").iterdir()) == []

    start = client.get("/mappings/guided")
    drift = client.post(
        "/mappings/guided",
        data={"csrf_token": csrf_of(start.text), "organisation": "lambeth", "dataset": "spend"},
        files={"file": ("spend-2026-05.csv", MONTH_2, "text/csv")},
    )
    assert drift.status_code == 200, drift.text
    assert "Confirm the changed columns" in drift.text
    assert "Trans No → Transaction Number" in drift.text
    assert "Type → Capital or Revenue" in drift.text
    job = client.post(
        "/mappings/guided/ingest",
        data={"csrf_token": csrf_of(drift.text), "token": _token(drift.text), "confirm": "yes"},
        follow_redirects=False,
    )
    assert job.status_code == 303 and job.headers["location"].startswith("/jobs/")
    for _ in range(100):
        with session_scope(home_settings) as session:
            version = session.scalars(select(DatasetVersion)).first()
        if version is not None:
            break
        time.sleep(0.2)
    assert version is not None and version.accepted_rows == 2
    assert version.details["report"]["redacted"] == {"supplier_name": 1}


def test_only_data_owners_reach_the_guided_page(
    signed_in_for: SignedInFor, home_settings: Settings
) -> None:
    analyst = signed_in_for(home_settings, "lam-analyst", token=False)
    assert analyst.get("/mappings/guided").status_code == 403


def test_personal_fields_show_value_shapes_not_values() -> None:
    columns = ["Ref", "Surname", "DOB"]
    sample = {"Ref": ["P1", "P2"], "Surname": ["Smith", "Okafor"], "DOB": ["01/02/1980"] * 2}
    _, suggestions = suggest_mapping("person", columns, sample)
    rows = {r.name: r for r in field_rows("person", sample, suggestions)}
    assert rows["family_name"].samples == ["Aaaaa", "Aaaaaa"]
    assert rows["date_of_birth"].samples == ["99/99/9999"]


def test_layouts_api_accepts_and_matches(
    signed_in_for: SignedInFor, home_settings: Settings
) -> None:
    client = signed_in_for(home_settings, "lam-owner")
    header, *lines = [line.split(",") for line in MONTH_1.splitlines()]
    sample = {c: [row[i] for row in lines] for i, c in enumerate(header)}
    draft, _ = suggest_mapping("spend", header, sample)
    new = client.post(
        "/api/v1/datasets/lambeth/spend/layouts/match",
        files={"file": ("a.csv", MONTH_1, "text/csv")},
    )
    assert new.status_code == 200 and new.json()["status"] == "new"
    accepted = client.post(
        "/api/v1/datasets/lambeth/spend/layouts",
        data={"mapping": yaml.safe_dump(draft)},
        files={"file": ("a.csv", MONTH_1, "text/csv")},
    )
    assert accepted.status_code == 201, accepted.text
    drifted = client.post(
        "/api/v1/datasets/lambeth/spend/layouts/match",
        files={"file": ("b.csv", MONTH_2, "text/csv")},
    ).json()
    assert drifted["status"] == "drifted"
    assert {"before": "Trans No", "now": "Transaction Number"} in drifted["diff"]["renamed"]
    assert drifted["diff"]["added"] == ["Cost Centre"]
    refused = client.post(
        "/api/v1/datasets/lambeth/spend/versions?wait=true",
        files={"file": ("b.csv", MONTH_2, "text/csv")},
    )
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["error"]["rule"] == "layout_drift" and body["error"]["file"] == "b.csv"
    assert "Trans No → Transaction Number" in body["error"]["message"]
    assert {"before": "Trans No", "now": "Transaction Number"} in body["diff"]["renamed"]
    assert body["mapping"]["fields"]["transaction_number"] in (
        "Transaction Number", {"column": "Transaction Number"}
    )  # fmt: skip
    assert "confirm_layout=true" in body["confirm"]
    assert "Acme" not in refused.text
    queued = client.post(  # a job is not started for a drift to confirm either
        "/api/v1/datasets/lambeth/spend/versions",
        files={"file": ("b.csv", MONTH_2, "text/csv")},
    )
    assert queued.status_code == 409 and queued.json()["error"]["rule"] == "layout_drift"
    done = client.post(
        "/api/v1/datasets/lambeth/spend/versions?wait=true",
        data={"confirm_layout": "true"},
        files={"file": ("b.csv", MONTH_2, "text/csv")},
    )
    assert done.status_code == 201, done.text
    add_accounts(home_settings, ("sou-owner",))
    other = client.post(
        "/api/v1/datasets/southwark/spend/layouts",
        data={"mapping": yaml.safe_dump(draft)},
        files={"file": ("a.csv", MONTH_1, "text/csv")},
    )
    assert other.status_code == 403


def _accept_month_1(client: Any) -> None:
    header, *lines = [line.split(",") for line in MONTH_1.splitlines()]
    sample = {c: [row[i] for row in lines] for i, c in enumerate(header)}
    draft, _ = suggest_mapping("spend", header, sample)
    accepted = client.post(
        "/api/v1/datasets/lambeth/spend/layouts",
        data={"mapping": yaml.safe_dump(draft)},
        files={"file": ("a.csv", MONTH_1, "text/csv")},
    )
    assert accepted.status_code == 201, accepted.text


def _upload(client: Any, name: str, text: str, dataset: str = "spend", period: str = "") -> Any:
    form = client.get("/upload").text
    return client.post(
        "/upload",
        data={"csrf_token": csrf_of(form), "organisation": "lambeth", "dataset": dataset,
              "mapping": NO_MAPPING, "standard": "", "period": period},
        files={"file": (name, text, "text/csv")},
        follow_redirects=False,
    )  # fmt: skip


def _rows(settings: Settings, model: Any, count: int) -> list[Any]:
    """The rows of ``model`` once there are ``count`` (the ingest job runs on a thread)."""
    for _ in range(150):
        with session_scope(settings) as session:
            rows = list(session.scalars(select(model).order_by(model.id)))
        if len(rows) >= count:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"{len(rows)} {model.__name__} rows, not {count}")


def test_the_upload_page_asks_once_to_confirm_a_drifted_layout(
    signed_in_for: SignedInFor, home_settings: Settings
) -> None:
    client = signed_in_for(home_settings, "lam-owner")
    _accept_month_1(client)
    drift = _upload(client, "spend-2026-05.csv", MONTH_2)
    assert drift.status_code == 200, drift.text  # not a job that fails: the diff to confirm
    assert "Confirm the changed columns" in drift.text
    diff = re.search(r'id="layout-diff".*?</dl>', drift.text, re.S)
    assert diff and "Trans No → Transaction Number" in diff.group(0)
    assert "Cost Centre" in diff.group(0) and "Acme" not in drift.text
    job = client.post(
        "/mappings/guided/ingest",
        data={"csrf_token": csrf_of(drift.text), "token": _token(drift.text), "confirm": "yes"},
        follow_redirects=False,
    )
    assert job.status_code == 303 and job.headers["location"].startswith("/jobs/")
    assert _rows(home_settings, DatasetVersion, 1)[0].accepted_rows == 2
    assert len(_rows(home_settings, IngestLayout, 2)) == 2  # the new layout is remembered
    # Next month, same layout: no mapping work, straight to the ingest job.
    month_3 = MONTH_2.replace("T4,", "T6,").replace("T5,", "T7,").replace("/05/", "/06/")
    again = _upload(client, "spend-2026-06.csv", month_3)
    assert again.status_code == 303 and again.headers["location"].startswith("/jobs/")
    assert _rows(home_settings, DatasetVersion, 2)[1].accepted_rows == 2


COUNCIL_TAX = (
    "Account Ref,Property Ref,Band,Liability Start,Balance\n"
    "A1,P1,C,01/04/2025,120.50\n"
    "A2,P2,D,01/04/2025,0.00\n"
)


def test_the_guided_preview_fills_the_period_placeholder(
    signed_in_for: SignedInFor, home_settings: Settings
) -> None:
    client = signed_in_for(home_settings, "lam-owner", token=False)
    start = client.get("/mappings/guided")
    page = client.post(
        "/mappings/guided",
        data={"csrf_token": csrf_of(start.text), "organisation": "lambeth",
              "dataset": "council-tax", "standard": "council_tax"},
        files={"file": ("ct.csv", COUNCIL_TAX, "text/csv")},
    )  # fmt: skip
    assert page.status_code == 200, page.text
    # The period field has no column: it can take each upload's reporting period.
    assert 'value="{period}"' in page.text and 'id="period"' in page.text
    form = {"csrf_token": csrf_of(page.text), "token": _token(page.text)}
    selects = re.findall(
        r'<select[^>]*id="column-([a-z_0-9]+)"[^>]*>(.*?)</select>', page.text, re.S
    )
    for name, options in selects:  # the suggestions, as the page shows them
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        form[f"column-{name}"] = chosen.group(1) if chosen else ""
    assert form["column-account_ref"] == "Account Ref" and form["column-period"] == ""
    form["column-period"] = "{period}"
    asked = client.post("/mappings/guided/map", data=form | {"action": "preview"})
    assert "Enter the reporting period of the sample" in asked.text
    shown = client.post(
        "/mappings/guided/map", data=form | {"action": "preview", "period": "2026-10"}
    )
    assert shown.status_code == 200, shown.text
    totals = re.search(r'id="preview-totals".*?</dl>', shown.text, re.S)
    assert totals, shown.text
    assert "period: " not in totals.group(0)  # no row fails on the period
    assert re.search(r"Rows accepted\s*</dt>\s*<dd[^>]*>\s*2", totals.group(0)), totals.group(0)
    wrong = client.post(
        "/mappings/guided/map", data=form | {"action": "preview", "period": "October"}
    )
    assert re.search(r"period: pattern", wrong.text)  # the period is validated as a value
    saved = client.post("/mappings/guided/map", data=form | {"action": "save"})
    assert "Mapping saved" in saved.text
    with session_scope(home_settings) as session:
        layout = session.scalars(select(IngestLayout)).one()
        assert layout.mapping["fields"]["period"] == {"constant": "{period}"}
    # Each upload in the layout then needs its period, asked for on the form.
    asked = _upload(client, "ct-2026-11.csv", COUNCIL_TAX, "council-tax")
    assert asked.status_code == 422 and "Enter the period" in asked.text
    done = _upload(client, "ct-2026-11.csv", COUNCIL_TAX, "council-tax", "2026-11")
    assert done.status_code == 303, done.text
    version = _rows(home_settings, DatasetVersion, 1)[0]
    assert version.period == "2026-11" and version.accepted_rows == 2
