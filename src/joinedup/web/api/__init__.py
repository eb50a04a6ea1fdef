"""The JSON API, versioned under ``/api/v1``.

Each module here defines a ``router`` (an :class:`~fastapi.APIRouter` whose routes carry a tag)
and a ``tag`` (the OpenAPI tag's name and description). To add an API, write the module and
add it to the list in :func:`api_modules`; that is the only place that needs to change.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def api_modules() -> list[ModuleType]:
    from joinedup.web.api import (
        areas,
        datasets,
        governance,
        insight,
        jobs,
        linkage,
        mapping_suggest,
        publish,
        rights,
        standards,
        status,
    )

    return [
        status,
        datasets,
        standards,
        mapping_suggest,
        jobs,
        governance,
        linkage,
        insight,
        publish,
        rights,
        areas,
    ]


def openapi_tags() -> list[dict[str, Any]]:
    """Tag descriptions for the OpenAPI document, in the order of :func:`api_modules`."""
    return [module.tag for module in api_modules()]


def build_api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX)
    for module in api_modules():
        api.include_router(module.router)
    return api
