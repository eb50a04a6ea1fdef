"""The service navigation, built from the pages that exist.

Each page section declares a :class:`NavItem`; :mod:`joinedup.web.pages` registers the ones
whose pages are installed, so links to sections that do not exist yet are never shown. The
order of the sections is fixed here, whatever order they register in.

Each person sees only the sections they may use: :meth:`Navigation.bind` takes each item's
guard from the route its link opens (the guard that enforces access to it,
:mod:`joinedup.web.guards`), so what the menu shows and what the page allows cannot drift.
Anonymous visitors see the public sections only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi.routing import iter_route_contexts

from joinedup.web.auth import Principal
from joinedup.web.guards import Guard, guard_of

# Where each section sits in the service navigation (lower first). Sections not listed go last.
SECTION_ORDER = {
    "home": 10,
    "datasets": 20,
    "linkage": 25,
    "jobs": 30,
    "worklist": 32,
    "insight": 33,
    "agreements": 35,
    "ethics": 36,
    "audit": 40,
    "rights": 42,
    "open-data": 50,
    "transparency": 52,
    "admin": 90,
}


@dataclass(frozen=True)
class NavItem:
    key: str
    text: str
    href: str
    #: The guard of the page the link opens, set by :meth:`Navigation.bind`.
    guard: Guard | None = field(default=None, compare=False)

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

    def bind(self, routes: Iterable[Any]) -> None:
        """Give each item the guard of the ``GET`` route at its ``href``; an item whose page
        is missing or unguarded is an error (it could not say who may see it)."""
        guards = {
            str(context.path): guard_of(context.original_route)
            for context in iter_route_contexts(list(routes))
            if "GET" in (context.methods or ())
        }
        bound = []
        for item in self.items:
            found = guards.get(item.href)
            if found is None:
                raise ValueError(
                    f"navigation section {item.key!r}: no guarded page at {item.href!r}"
                )
            bound.append(replace(item, guard=found))
        self.items = bound

    def visible_to(self, principal: Principal | None) -> list[NavItem]:
        """The items this person may use (unbound items show to everyone)."""
        return [i for i in self.items if i.guard is None or i.guard.admits(principal)]

    def for_path(self, path: str, principal: Principal | None = None) -> list[dict[str, Any]]:
        """The ``navigation`` parameter of the GOV.UK service navigation component: the
        sections this person may use, the one they are in marked."""
        entries: list[dict[str, Any]] = []
        for item in self.visible_to(principal):
            entry: dict[str, Any] = {"href": item.href, "text": item.text}
            state = item.state_for(path)
            if state:
                entry[state] = True
            entries.append(entry)
        return entries
