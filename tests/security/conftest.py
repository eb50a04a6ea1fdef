"""A small governed hub for the security tests, and clients acting as each kind of principal.

Organisations, seen from Lambeth (the organisation every test principal belongs to):

* ``lambeth``: *own*;
* ``southwark``: *shared*: an active agreement shares its school census with Lambeth for the
  ``fsm`` purpose (some fields only);
* ``croydon``: *other*: no agreement with Lambeth.

Each has a ``school-census`` dataset with one version. There is one job started by a Lambeth
data owner (*own*) and one by a Southwark data owner (*other*), both with a server path in
their parameters.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Agreement, Job, User
from joinedup.config import Settings
from joinedup.governance.accounts import create_user
from joinedup.governance.agreements import AgreementDraft, DataShare, approve, create_draft, propose
from joinedup.governance.organisations import ensure_organisation
from joinedup.governance.purposes import ensure_default_purposes
from joinedup.governance.tokens import SCOPES
from joinedup.home import init_home
from joinedup.ingest.pipeline import IngestRequest, ingest
from joinedup.web.app import create_app
from tests.support import (
    PASSWORD,
    api_token,
    ethics_signed_off,
    make_client,
    make_settings,
    signed_in,
)

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

OWN, SHARED, OTHER = "lambeth", "southwark", "croydon"
DATASET = "school-census"
SHARED_FIELDS = ("source_record_id", "given_name", "family_name", "fsm_eligible")
READ_FIELDS = "source_record_id,given_name,fsm_eligible"
PURPOSE = "fsm"
SAR = "subject-access"
#: The purpose each role acts under by default here: one the register grants it.
ROLE_PURPOSE: dict[str, str | None] = {"dpo": SAR, "hub_admin": None}
AGREEMENT = "DSA-FSM-1"
SERVER_PATH = "/srv/joinedup/uploads/secret-upload-name.csv"
CENSUS = (
    "source_record_id,given_name,family_name,date_of_birth,postcode,school_urn,census_date,"
    "census_term,fsm_eligible\n"
    "S1,AMY,JONES,2015-03-01,SE1 7PB,100001,2026-10-01,autumn,false\n"
    "S2,BEN,OKAFOR,2014-05-02,SE5 9QQ,100001,2026-10-01,autumn,true\n"
    "S3,CAL,NGUYEN,2016-07-03,SE15 4QT,100001,2026-10-01,autumn,false\n"
)

#: username -> (organisation, role)
USERS: dict[str, tuple[str, str]] = {
    "admin": ("hub", "hub_admin"),
    "lam-owner": (OWN, "data_owner"),
    "lam-analyst": (OWN, "analyst"),
    "lam-case": (OWN, "caseworker"),
    "lam-dpo": (OWN, "dpo"),
    "sou-owner": (SHARED, "data_owner"),
    "cro-owner": (OTHER, "data_owner"),
}
ORGANISATIONS = {
    OWN: ("Lambeth", "council", "E09000022"),
    SHARED: ("Southwark", "council", "E09000028"),
    OTHER: ("Croydon", "council", "E09000008"),
    "hub": ("Regional data hub", "hub", None),
}


@dataclass
class Hub:
    settings: Settings
    app: FastAPI
    users: dict[str, int]
    jobs: dict[str, str] = field(default_factory=dict)  # "own"/"other" -> job id
    opened: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        client = make_client(self.app)
        client.__enter__()
        self.opened.append(client)
        return client

    def user(self, username: str) -> User:
        with session_scope(self.settings) as session:
            user = session.get(User, self.users[username])
            assert user is not None
            session.expunge(user)
            return user

    def token(
        self, username: str, scopes: tuple[str, ...] = SCOPES, expires_in: timedelta | None = None
    ) -> str:
        return api_token(self.settings, username, scopes, expires_in=expires_in)

    def signed_in(self, username: str, purpose: str | None = "") -> TestClient:
        """A client signed in through the form, with the CSRF header set, acting for
        ``purpose`` (None: no purpose chosen; by default the one the user's role is granted
        here: ``fsm``, or ``subject-access`` for DPOs)."""
        if purpose == "":
            purpose = ROLE_PURPOSE.get(USERS[username][1], PURPOSE)
        return signed_in(self.client(), username, purpose=purpose)

    def close(self) -> None:
        for client in self.opened:
            client.__exit__(None, None, None)


def fsm_agreement(today: date, **overrides: Any) -> AgreementDraft:
    values: dict[str, Any] = {
        "reference": AGREEMENT,
        "title": "School census FSM fields to Lambeth",
        "providers": (SHARED,),
        "recipients": (OWN,),
        "data": (DataShare(provider=SHARED, dataset=DATASET, fields=SHARED_FIELDS),),
        "purposes": (PURPOSE,),
        "lawful_basis": "UK GDPR Article 6(1)(e)",
        "dpia_reference": "DPIA-2026-07",
        "start_date": today - timedelta(days=30),
        "expiry_date": today + timedelta(days=365),
        "retention": "Delete 12 months after the child leaves school",
    }
    values.update(overrides)
    return AgreementDraft(**values)


def build_hub(home: Path, *, data: bool = True) -> Hub:
    """The hub; ``data=False``: organisations, users and purposes only (faster)."""
    settings = make_settings(home)
    init_home(settings)
    today = date.today()
    users: dict[str, int] = {}
    with session_scope(settings) as session:
        ensure_default_purposes(session)
        for code, (name, kind, gss) in ORGANISATIONS.items():
            ensure_organisation(session, code=code, name=name, type=kind, gss_code=gss)
        for username, (organisation, role) in USERS.items():
            user = create_user(
                session,
                username=username,
                display_name=username.replace("-", " ").title(),
                organisation=organisation,
                role=role,
                password=PASSWORD,
            )
            users[username] = user.id
        ethics_signed_off(session)
    if not data:
        return Hub(settings, create_app(settings), users)
    census = home.parent / "census.csv"
    census.write_text(CENSUS)
    for organisation in (OWN, SHARED, OTHER):
        ingest(
            settings,
            IngestRequest(
                organisation=organisation,
                dataset=DATASET,
                path=census,
                standard="school_census",
                today=today,
            ),
        )
    with session_scope(settings) as session:
        lam = session.get(User, users["lam-owner"])
        sou = session.get(User, users["sou-owner"])
        assert lam is not None and sou is not None
        agreement = create_draft(session, fsm_agreement(today), lam)
        propose(session, agreement, lam)
        assert approve(session, agreement, sou, today)
        for key, username in (("own", "lam-owner"), ("other", "sou-owner")):
            job = Job(
                id=f"00000000-0000-4000-8000-00000000000{1 if key == 'own' else 2}",
                kind="ingest",
                status="succeeded",
                progress=1.0,
                params={"path": SERVER_PATH, "organisation": USERS[username][0]},
                result={},
                created_by_id=users[username],
            )
            session.add(job)
    hub = Hub(settings, create_app(settings), users)
    hub.jobs = {
        "own": "00000000-0000-4000-8000-000000000001",
        "other": "00000000-0000-4000-8000-000000000002",
    }
    return hub


def agreement_row(settings: Settings) -> Agreement:
    with session_scope(settings) as session:
        found = session.scalars(select(Agreement).where(Agreement.reference == AGREEMENT)).first()
        assert found is not None
        session.expunge(found)
        return found


@pytest.fixture(scope="session")
def hub_copies(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Hub]:
    """``hub_copies(home, data=True)``: a hub as :func:`build_hub` makes it, in ``home``, copied
    from one built once per worker (a build migrates the database, creates the accounts and
    ingests three datasets: seconds; a copy of its home takes milliseconds). Each copy has its
    own home, database and app; the catalogue names its files relative to the home."""
    built: dict[bool, Hub] = {}

    def copy(home: Path, *, data: bool = True) -> Hub:
        if data not in built:
            template = build_hub(tmp_path_factory.mktemp("hub-template") / "home", data=data)
            template.close()
            built[data] = template
        template = built[data]
        dispose_engines()  # nothing holds the template's database open while it is copied
        shutil.copytree(template.settings.home, home, symlinks=True)
        settings = make_settings(home)
        return Hub(settings, create_app(settings), dict(template.users), dict(template.jobs))

    return copy


@contextmanager
def _closing(hub: Hub) -> Iterator[Hub]:
    try:
        yield hub
    finally:
        hub.close()
        dispose_engines()


@pytest.fixture
def hub(hub_copies: Callable[..., Hub], tmp_path: Path) -> Iterator[Hub]:
    """A fresh hub for one test (tests here may change it)."""
    with _closing(hub_copies(tmp_path / "home")) as fresh:
        yield fresh


@pytest.fixture
def accounts_hub(hub_copies: Callable[..., Hub], tmp_path: Path) -> Iterator[Hub]:
    """A fresh hub with organisations, users and purposes but no datasets or agreements."""
    with _closing(hub_copies(tmp_path / "home", data=False)) as fresh:
        yield fresh


@pytest.fixture(scope="module")
def shared_hub(
    hub_copies: Callable[..., Hub], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hub]:
    """One hub for a whole module of read-mostly tests (or of fuzzing, whose generated
    requests may change it: revoke its agreement, upload files...)."""
    with _closing(hub_copies(tmp_path_factory.mktemp("security") / "home")) as fresh:
        yield fresh


@pytest.fixture(scope="module")
def api_schema(shared_hub: Hub) -> Any:
    """The app's OpenAPI document, read by schemathesis (``tests/security/fuzzing.py``), of
    the module's own hub: fuzzing may change it."""
    from tests.security.fuzzing import api_schema_of

    return api_schema_of(shared_hub.app)


@pytest.fixture(scope="module")
def tokens(shared_hub: Hub) -> dict[str, dict[str, str]]:
    """Headers with an API token with every scope, and a purpose, by username."""
    from tests.security.fuzzing import token_headers

    return token_headers(shared_hub)
