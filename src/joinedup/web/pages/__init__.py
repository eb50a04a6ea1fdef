"""Server-rendered pages. Each module defines a ``section``: its router and, if it has a place
in the service navigation, its :class:`~joinedup.web.navigation.NavItem`.

To add a page: write a module here with a ``section``, then name it in its stage's record
(:mod:`joinedup.stages`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from joinedup.web.navigation import NavItem


@dataclass(frozen=True)
class PageSection:
    router: APIRouter
    nav: NavItem | None = None


def all_sections() -> list[PageSection]:
    """Every stage's page sections, from the stage registry (:mod:`joinedup.stages`)."""
    from joinedup.stages import modules

    return [module.section for module in modules("pages")]
