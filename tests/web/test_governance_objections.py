"""Objection pages: a DPO records (by resident or by record), lists and withdraws objections;
the core's refusals show as GOV.UK errors; other roles are refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AuditEvent, Objection
from joinedup.config import Settings
from joinedup.governance.objections import exclusions_for
from tests.support import PASSWORD, sign_in
from tests.web.conftest import SignedInFor, add_accounts
from tests.web.test_governance_agreements import error_summary, post_form, table_text, text_of

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture
def dpo(signed_in_for: SignedInFor, db_settings: Settings) -> TestClient:
    add_accounts(db_settings)
    return signed_in_for(db_settings, "hub-dpo")


def record(client: TestClient, **data: str) -> object:
    return post_form(client, "/objections/new", "/objections/new", data)


def test_record_list_and_withdraw(dpo: TestClient, db_settings: Settings) -> None:
    by_resident = record(dpo, resident_id="R-123", purpose="all", note="Letter 7")
    assert by_resident.status_code == 303  # type: ignore[attr-defined]
    page = dpo.get(by_resident.headers["location"]).text  # type: ignore[attr-defined]
    assert "The objection was recorded" in page
    by_record = record(
        dpo,
        organisation="lambeth",
        dataset="council-tax",
        source_record_id="CT-9",
        purpose="statistics",
    )
    assert by_record.status_code == 303, error_summary(by_record.text)  # type: ignore[attr-defined]

    page = dpo.get("/objections").text
    live = table_text(page, "live-objections")
    assert "resident R-123 Every purpose that allows objection Letter 7 hub-dpo" in live
    assert "record lambeth/council-tax/CT-9 Statistics and research" in live
    assert "No withdrawn objections" in text_of(page)

    with session_scope(db_settings) as session:
        excluded = exclusions_for(session, "statistics")
        assert "R-123" in excluded.resident_ids
        assert excluded.excludes_record("lambeth", "council-tax", "CT-9")
        first = session.scalars(select(Objection).where(Objection.resident_id == "R-123")).one()
        objection_id = first.id

    confirm = dpo.get(f"/objections/{objection_id}/withdraw")
    assert confirm.status_code == 200 and "Withdraw the objection" in confirm.text
    withdrawn = post_form(
        dpo, f"/objections/{objection_id}/withdraw", f"/objections/{objection_id}/withdraw"
    )
    assert withdrawn.status_code == 303
    page = dpo.get(withdrawn.headers["location"]).text
    assert "The objection was withdrawn" in page
    assert "resident R-123" in table_text(page, "withdrawn-objections")
    assert "resident R-123" not in table_text(page, "live-objections")
    again = post_form(
        dpo, f"/objections/{objection_id}/withdraw", f"/objections/{objection_id}/withdraw"
    )
    assert again.status_code == 409
    assert "The objection is already withdrawn" in again.text

    with session_scope(db_settings) as session:
        assert "R-123" not in exclusions_for(session, "statistics").resident_ids
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target_type == "objection")
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["objection.record", "objection.record", "objection.withdraw"]


def test_refusals_and_validation_are_govuk_errors(dpo: TestClient) -> None:
    refused = record(dpo, resident_id="R-1", purpose="early-help")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert error_summary(refused.text) == [  # type: ignore[attr-defined]
        "Residents cannot object to Early help: its lawful basis does not allow it #purpose"
    ]
    assert 'value="R-1"' in refused.text  # type: ignore[attr-defined]

    empty = record(dpo)
    assert error_summary(empty.text) == [  # type: ignore[attr-defined]
        "Enter the resident ID, or the organisation, dataset and ID of one of their records "
        "#resident_id",
        "Select what the resident objects to #purpose",
    ]
    both = record(dpo, resident_id="R-1", dataset="x", purpose="all")
    assert error_summary(both.text) == [  # type: ignore[attr-defined]
        "Enter the resident ID or one of their records, not both #resident_id"
    ]
    partial = record(dpo, organisation="lambeth", purpose="all")
    assert error_summary(partial.text) == [  # type: ignore[attr-defined]
        "Enter the dataset that holds the record #dataset",
        "Enter the record's ID #source_record_id",
    ]
    unknown = record(
        dpo,
        organisation="atlantis",
        dataset="x",
        source_record_id="1",
        purpose="all",
    )
    assert error_summary(unknown.text) == [  # type: ignore[attr-defined]
        "No organisation 'atlantis' #organisation"
    ]
    too_long = record(dpo, resident_id="R", purpose="all", note="x" * 501)
    assert error_summary(too_long.text) == [  # type: ignore[attr-defined]
        "The note must be 500 characters or fewer #note"
    ]


def test_only_dpos_and_only_the_recorders_organisation_withdraws(
    signed_in_for: SignedInFor, db_settings: Settings, client_for: Any
) -> None:
    add_accounts(db_settings)
    lam_dpo = signed_in_for(db_settings, "lam-dpo")
    assert record(lam_dpo, resident_id="R-5", purpose="all").status_code == 303  # type: ignore[attr-defined]
    for username in ("admin", "lam-owner", "lam-case"):
        client = signed_in_for(db_settings, username)
        assert client.get("/objections").status_code == 403, username
        assert client.get("/objections/new").status_code == 403, username
    with session_scope(db_settings) as session:
        objection_id = session.scalars(select(Objection.id)).one()
    # The hub's DPO may withdraw any objection; Lambeth's DPO their own organisation's.
    hub_dpo = signed_in_for(db_settings, "hub-dpo")
    assert "resident R-5" in hub_dpo.get("/objections").text
    assert hub_dpo.get("/objections/999/withdraw").status_code == 404
    assert hub_dpo.get("/objections/99999999999/withdraw").status_code == 400
    with session_scope(db_settings) as session:
        # A DPO of another organisation is refused (Southwark's, created for this test).
        from joinedup.governance.accounts import create_user

        create_user(
            session,
            username="sou-dpo",
            display_name="Southwark DPO",
            organisation="southwark",
            role="dpo",
            password=PASSWORD,
        )
    sou_dpo = client_for(db_settings)
    assert sign_in(sou_dpo, "sou-dpo").status_code == 303
    refused = post_form(
        sou_dpo, f"/objections/{objection_id}/withdraw", f"/objections/{objection_id}/withdraw"
    )
    assert refused.status_code == 403
    assert "Only a DPO of the organisation that recorded it" in text_of(refused.text)
    done = post_form(
        lam_dpo, f"/objections/{objection_id}/withdraw", f"/objections/{objection_id}/withdraw"
    )
    assert done.status_code == 303
