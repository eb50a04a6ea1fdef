"""The JSON API, versioned under ``/api/v1``.

Each module here defines a ``router`` (an :class:`~fastapi.APIRouter` whose routes carry a tag)
and a ``tag`` (the OpenAPI tag's name and description). To add an API, write the module and
name it in its stage's record (:mod:`joinedup.stages`); that is the only place to change.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from fastapi import APIRouter, Depends

API_PREFIX = "/api/v1"


def api_modules() -> list[ModuleType]:
    """Every stage's API modules, from the stage registry (:mod:`joinedup.stages`)."""
    from joinedup.stages import modules

    return modules("api")


def openapi_tags() -> list[dict[str, Any]]:
    """Tag descriptions for the OpenAPI document, in the order of :func:`api_modules`."""
    return [module.tag for module in api_modules()]


def build_api_router() -> APIRouter:
    """The ``/api/v1`` router: every API module's routes (built once a process, with the
    app's other routes, by :func:`joinedup.web.app.site_routes`)."""
    from joinedup.web.api.single_values import one_value_each

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(one_value_each)])
    for module in api_modules():
        api.include_router(module.router)
    return api
