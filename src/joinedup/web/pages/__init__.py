"""Server-rendered pages. Each module defines a ``section``: its router and, if it has a place
in the service navigation, its :class:`~joinedup.web.navigation.NavItem`.

To add a page: write a module here with a ``section``, then add it to :data:`SECTIONS`.
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
    """Every installed page section (imported here so page modules can import this one)."""
    from joinedup.web.pages import (
        accessibility,
        account,
        admin,
        agreements,
        api_docs,
        audit,
        datasets,
        home,
        insight_areas,
        jobs,
        linkage,
        mappings,
        objections,
        open_data,
        publications,
        rights,
        upload,
        worklist,
    )

    return [
        home.section,
        datasets.section,
        upload.section,
        mappings.section,
        jobs.section,
        linkage.section,
        worklist.section,
        insight_areas.section,
        open_data.section,
        publications.section,
        agreements.section,
        audit.section,
        objections.section,
        rights.section,
        admin.section,
        api_docs.section,
        accessibility.section,
        account.section,
    ]
