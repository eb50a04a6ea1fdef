"""The service navigation: its registry, and who sees which section."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import User
from joinedup.config import Settings
from joinedup.governance.grants import granted_purposes
from joinedup.web.navigation import Navigation, NavItem
from tests.support import choose_purpose


def test_sections_keep_their_place_whatever_order_they_register_in() -> None:
    nav = Navigation()
    nav.register(NavItem("open-data", "Open data", "/open-data"))
    nav.register(NavItem("jobs", "Jobs", "/jobs"))
    nav.register(NavItem("home", "Home", "/"))
    nav.register(NavItem("datasets", "Datasets", "/datasets"))
    assert [i.text for i in nav.items] == ["Home", "Datasets", "Jobs", "Open data"]


def test_a_section_registers_once() -> None:
    nav = Navigation()
    nav.register(NavItem("jobs", "Jobs", "/jobs"))
    with pytest.raises(ValueError, match="already registered"):
        nav.register(NavItem("jobs", "Jobs", "/jobs"))


def test_current_and_active_items() -> None:
    nav = Navigation()
    nav.register(NavItem("home", "Home", "/"))
    nav.register(NavItem("jobs", "Jobs", "/jobs"))
    assert nav.for_path("/") == [
        {"href": "/", "text": "Home", "current": True},
        {"href": "/jobs", "text": "Jobs"},
    ]
    assert nav.for_path("/jobs/abc")[1] == {"href": "/jobs", "text": "Jobs", "active": True}
    assert nav.for_path("/jobs")[1] == {"href": "/jobs", "text": "Jobs", "current": True}
    assert "current" not in nav.for_path("/jobsworth")[1]
    assert all("current" not in item and "active" not in item for item in nav.for_path("/x"))


# --- who sees what: every role × every section, against the real app ------------------------

#: One account per role (tests/web/conftest.py ACCOUNTS), and anonymous visitors.
PEOPLE = {
    "anonymous": None,
    "hub_admin": "admin",
    "dpo": "lam-dpo",
    "data_owner": "lam-owner",
    "analyst": "lam-analyst",
    "caseworker": "lam-case",
}
#: What each person is expected to see: the issue's own examples, written out.
EXPECTED = {
    "anonymous": ["Home", "Open data", "Data sharing"],
    "caseworker": [
        "Home",
        "Datasets",
        "Jobs",
        "Worklist",
        "Agreements",
        "Ethics",
        "Open data",
        "Data sharing",
        "Admin",
    ],
    "hub_admin": [
        "Home",
        "Datasets",
        "Jobs",
        "Agreements",
        "Ethics",
        "Open data",
        "Data sharing",
        "Admin",
    ],
}


def _granted(settings: Settings, username: str | None) -> list[str]:
    """The purposes the register lets this person act under (none for a visitor)."""
    if username is None:
        return []
    with session_scope(settings) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        return granted_purposes(session, user.role, user.organisation_id)


def _nav_texts(html: str) -> list[str]:
    nav = re.search(r'<ul class="govuk-service-navigation__list".*?</ul>', html, re.S)
    assert nav
    return [
        re.sub(r"<[^>]+>|\s+", " ", text).strip()
        for text in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(0), re.S)
    ]


@pytest.mark.parametrize("person", PEOPLE)
def test_each_person_sees_the_sections_they_can_use_and_no_others(
    person: str, home_settings: Settings, client_for: Any, signed_in_for: Any
) -> None:
    """Every section shown answers 200 for that person (acting under the page's purpose, or
    any purpose where the page names none), and every section hidden refuses them whatever
    purpose they choose: 403, or for an anonymous visitor a redirect to sign in."""
    username = PEOPLE[person]
    client = (
        client_for(home_settings)
        if username is None
        else signed_in_for(home_settings, username, token=False)
    )
    items = client.app.state.navigation.items
    shown = [t for t in _nav_texts(client.get("/").text) if t not in {"Sign in", "Sign out"}]
    assert shown == [i.text for i in items if i.text in shown]  # in the menu's order
    if person in EXPECTED:
        assert shown == EXPECTED[person]
    granted = _granted(home_settings, username)
    for item in items:
        assert item.guard is not None
        if username is not None:
            purpose = item.guard.purpose or (granted[0] if granted else None)
            if purpose in granted:
                assert choose_purpose(client, purpose).status_code == 303, (person, purpose)
            elif purpose is not None:  # one they may not act under: refused, and not shown
                assert choose_purpose(client, purpose).status_code == 403, (person, purpose)
                assert item.text not in shown, (person, item.text, purpose)
        answer = client.get(item.href, follow_redirects=False)
        if item.text in shown:
            assert answer.status_code == 200, (person, item.href, answer.status_code)
        elif username is None:
            assert answer.status_code == 303, (person, item.href)
            assert answer.headers["location"].startswith("/sign-in?next=")
        else:
            assert answer.status_code == 403, (person, item.href, answer.status_code)


def test_the_staff_menu_is_not_shown_on_public_pages_to_visitors(anonymous: Any) -> None:
    for path in ("/", "/open-data", "/accessibility", "/sign-in", "/no-such-page"):
        html = anonymous.get(path).text
        assert _nav_texts(html) == ["Home", "Open data", "Data sharing", "Sign in"], path


def test_a_section_whose_page_is_missing_cannot_be_bound() -> None:
    nav = Navigation()
    nav.register(NavItem("jobs", "Jobs", "/jobs"))
    with pytest.raises(ValueError, match="no guarded page at '/jobs'"):
        nav.bind([])
