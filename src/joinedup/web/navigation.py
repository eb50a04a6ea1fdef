"""The service navigation, built from the pages that exist.

Each page section declares a :class:`NavItem`; :mod:`joinedup.web.pages` registers the ones
whose pages are installed, so links to sections that do not exist yet are never shown. The
order of the sections is fixed here, whatever order they register in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where each section sits in the service navigation (lower first). Sections not listed go last.
SECTION_ORDER = {
    "home": 10,
    "datasets": 20,
    "linkage": 25,
    "jobs": 30,
    "worklist": 32,
    "insight": 33,
    "agreements": 35,
    "audit": 40,
    "rights": 42,
    "open-data": 50,
    "admin": 90,
}


@dataclass(frozen=True)
class NavItem:
    key: str
    text: str
    href: str

    @property
    def order(self) -> int:
        return SECTION_ORDER.get(self.key, 1000)

    def state_for(self, path: str) -> str | None:
        """``"current"`` on the item's own page, ``"active"`` on pages below it."""
        if path == self.href or path.rstrip("/") == self.href.rstrip("/"):
            return "current"
        if self.href != "/" and path.startswith(self.href.rstrip("/") + "/"):
            return "active"
        return None


@dataclass
class Navigation:
    items: list[NavItem] = field(default_factory=list)

    def register(self, item: NavItem) -> None:
        if any(existing.key == item.key for existing in self.items):
            raise ValueError(f"navigation section {item.key!r} is already registered")
        self.items.append(item)
        self.items.sort(key=lambda i: (i.order, i.text))

    def for_path(self, path: str) -> list[dict[str, Any]]:
        """The ``navigation`` parameter of the GOV.UK service navigation component."""
        entries: list[dict[str, Any]] = []
        for item in self.items:
            entry: dict[str, Any] = {"href": item.href, "text": item.text}
            state = item.state_for(path)
            if state:
                entry[state] = True
            entries.append(entry)
        return entries
