"""A small linked synthetic region for tests: generated, ingested, governed and linked once,
then copied into each test module's own home (a copy costs far less than a build)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from joinedup.catalog.db import dispose_engines, session_scope
from joinedup.catalog.models import Organisation, User
from joinedup.config import Settings
from joinedup.demo import STAGES, DemoOptions
from joinedup.governance.access import Actor
from joinedup.governance.accounts import create_user
from joinedup.home import init_home
from joinedup.jobs.runner import run_inline
from joinedup.linkage.inputs import hub_organisation
from tests.support import make_settings

PASSWORD = "correct horse battery staple"
#: The hub's analyst who reviews pairs (the demo's own users have random passwords).
REVIEWER = "hub-reviewer"
OPTIONS = DemoOptions(residents=1500, months=3, seed=11)


def build_linked_region(settings: Settings, options: DemoOptions = OPTIONS) -> Settings:
    """Run the demo's stages into ``settings.home`` (which may already hold other data):
    a synthetic region, its ingest, the demo's governance and a linkage build as the hub.

    The demo's agreement shares everything with the first hub organisation registered, and
    the build acts for it too (a shared home, like the browser tests', may hold another)."""
    init_home(settings)
    for stage in STAGES:
        params = stage.params(settings, options)
        if stage.kind == "linkage.build":
            # no evaluation against the truth: not needed here
            params = {"organisation": hub_organisation(settings)}
        row = run_inline(settings, stage.kind, params)
        assert row.status == "succeeded", f"{stage.name}: {row.error}"
    add_reviewer(settings)
    return settings


def add_reviewer(settings: Settings, username: str = REVIEWER, role: str = "analyst") -> int:
    """A user of the hub organisation with a known password (idempotent); returns its id."""
    with session_scope(settings) as session:
        found = session.scalars(select(User).where(User.username == username)).first()
        if found is None:
            found = create_user(
                session,
                username=username,
                display_name=username.replace("-", " ").title(),
                organisation=hub_organisation(settings),
                role=role,
                password=PASSWORD,
            )
        return int(found.id)


def reviewer_actor(settings: Settings, username: str = REVIEWER) -> Actor:
    """The reviewer as the access gateway's actor, under the linkage purpose."""
    with session_scope(settings) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        org = session.get(Organisation, user.organisation_id)
        assert org is not None
        return Actor(user.id, user.username, org.id, user.role, "linkage")


def copy_home(template: Settings, home: Path) -> Settings:
    """A private copy of a built home (both planes), for tests that change it."""
    dispose_engines()
    shutil.copytree(template.home, home, ignore=shutil.ignore_patterns("demo-region"))
    return make_settings(home)
