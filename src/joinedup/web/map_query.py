"""The ecosystem map's query (month and filters), shared by its pages and its API routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from joinedup.toolkit.ecosystem import EcosystemMap, ecosystem_map

Code = Annotated[str | None, Query(max_length=120, pattern=r"^[A-Za-z0-9._-]*$")]
Month = Annotated[
    str | None, Query(pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$", description="YYYY-MM (this month)")
]


@dataclass(frozen=True)
class MapQuery:
    month: str | None = None
    purpose: str | None = None
    dataset: str | None = None
    organisation: str | None = None


def map_query(
    month: Month = None, purpose: Code = None, dataset: Code = None, organisation: Code = None
) -> MapQuery:
    """The query parameters, empty ones as None."""
    return MapQuery(month or None, purpose or None, dataset or None, organisation or None)


MapFilters = Annotated[MapQuery, Depends(map_query)]


async def draw_map(request: Request, query: MapQuery, public: bool) -> EcosystemMap:
    """The map for the query (the public view withholds small counts)."""
    return await run_in_threadpool(
        lambda: ecosystem_map(
            request.app.state.settings,
            month=query.month,
            purpose=query.purpose,
            dataset=query.dataset,
            organisation=query.organisation,
            public=public,
        )
    )
