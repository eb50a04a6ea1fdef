"""The hub's reviewer on a copy of the small linked region (``linked_region_template``, built
once by :mod:`tests.regions`), and the copy itself."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Organisation, User
from joinedup.config import Settings
from joinedup.governance.access import Actor
from joinedup.governance.accounts import create_user
from joinedup.linkage.inputs import hub_organisation
from tests.regions import Region
from tests.support import PASSWORD

#: The hub's analyst who reviews pairs (the demo's own users have random passwords).
REVIEWER = "hub-reviewer"


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


def copy_home(template: Region, home: Path) -> Settings:
    """A private copy of a built home (both planes), for tests that change it."""
    return template.copy_to(home).settings
