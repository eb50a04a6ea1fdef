"""The service navigation registry."""

from __future__ import annotations

import pytest

from joinedup.web.navigation import Navigation, NavItem


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
