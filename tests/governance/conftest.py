"""A small governed region: two boroughs, a food bank, users, purposes and one dataset each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import User
from joinedup.config import Settings
from joinedup.governance.accounts import create_user
from joinedup.governance.agreements import AgreementDraft, DataShare, approve, create_draft, propose
from joinedup.governance.organisations import ensure_organisation
from joinedup.governance.purposes import ensure_default_purposes
from joinedup.ingest.pipeline import IngestRequest, ingest
from tests.support import PASSWORD, ethics_signed_off

TODAY = date(2026, 11, 23)
CENSUS = (
    "source_record_id,given_name,family_name,date_of_birth,postcode,school_urn,census_date,"
    "census_term,fsm_eligible\n"
    "S1,AMY,JONES,2015-03-01,SE1 7PB,100001,2026-10-01,autumn,false\n"
    "S2,BEN,OKAFOR,2014-05-02,SE5 9QQ,100001,2026-10-01,autumn,true\n"
    "S3,CAL,NGUYEN,2016-07-03,SE15 4QT,100001,2026-10-01,autumn,false\n"
)


@dataclass
class Region:
    settings: Settings
    users: dict[str, int]

    def user(self, username: str) -> User:
        with session_scope(self.settings) as session:
            user = session.get(User, self.users[username])
            assert user is not None
            session.expunge(user)
            return user


def fsm_draft(**overrides: object) -> AgreementDraft:
    values: dict[str, object] = {
        "reference": "DSA-FSM-1",
        "title": "School census FSM fields to home boroughs",
        "providers": ("southwark",),
        "recipients": ("lambeth",),
        "data": (
            DataShare(
                provider="southwark",
                dataset="school-census",
                fields=("source_record_id", "given_name", "family_name", "fsm_eligible"),
            ),
        ),
        "purposes": ("fsm",),
        "lawful_basis": "UK GDPR Article 6(1)(e)",
        "dpia_reference": "DPIA-2026-07",
        "start_date": date(2026, 1, 1),
        "expiry_date": date(2027, 12, 31),
        "retention": "Delete 12 months after the child leaves school",
    }
    values.update(overrides)
    return AgreementDraft(**values)  # type: ignore[arg-type]


@pytest.fixture
def region(db_settings: Settings, tmp_path: Path) -> Region:
    users: dict[str, int] = {}
    with session_scope(db_settings) as session:
        ensure_default_purposes(session)
        for code, gss in (("lambeth", "E09000022"), ("southwark", "E09000028")):
            ensure_organisation(session, code=code, name=code.title(), gss_code=gss)
        ensure_organisation(session, code="foodbank", name="Food bank", type="voluntary")
        ensure_organisation(session, code="hub", name="Hub", type="hub")
        for username, org, role in (
            ("lam-owner", "lambeth", "data_owner"),
            ("lam-case", "lambeth", "caseworker"),
            ("sou-owner", "southwark", "data_owner"),
            ("sou-case", "southwark", "caseworker"),
            ("food-case", "foodbank", "caseworker"),
            ("hub-admin", "hub", "hub_admin"),
            ("hub-dpo", "hub", "dpo"),
        ):
            user = create_user(
                session,
                username=username,
                display_name=username,
                organisation=org,
                role=role,
                password=PASSWORD,
            )
            users[username] = user.id
        ethics_signed_off(session)
    census = tmp_path / "census.csv"
    census.write_text(CENSUS)
    ingest(
        db_settings,
        IngestRequest(
            organisation="southwark",
            dataset="school-census",
            path=census,
            standard="school_census",
            today=TODAY,
        ),
    )
    return Region(db_settings, users)


@pytest.fixture
def active_fsm_agreement(region: Region) -> Region:
    with session_scope(region.settings) as session:
        agreement = create_draft(session, fsm_draft(), session.get(User, region.users["lam-owner"]))
        propose(session, agreement, session.get(User, region.users["lam-owner"]))  # type: ignore[arg-type]
        assert approve(session, agreement, session.get(User, region.users["sou-owner"]), TODAY)  # type: ignore[arg-type]
    return region
