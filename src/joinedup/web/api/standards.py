"""``/api/v1/standards`` and ``/api/v1/mappings``: the open standards and the shipped mappings.

These describe shapes, not data: they are public, like the open standards themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException

from joinedup.ingest.service import (
    MappingOut,
    StandardOut,
    shipped_mappings,
    standard_out,
)
from joinedup.standards import list_standards, load_schema
from joinedup.web.guards import OPEN

log = logging.getLogger(__name__)

tag = {
    "name": "standards",
    "description": "The open standards files are mapped to, and the mappings shipped with "
    "joinedup (Frictionless Table Schema; see docs/standards.md).",
}
router = APIRouter(tags=[tag["name"]])


@router.get(
    "/standards",
    response_model=list[StandardOut],
    summary="List the open standards",
    **OPEN.route(),
)
def get_standards() -> list[StandardOut]:
    """Every shipped standard with its fields (a person standard lists person's fields first)."""
    return [standard_out(name) for name in list_standards()]


@router.get(
    "/standards/{name}",
    summary="One standard as Frictionless Table Schema",
    responses={404: {"description": "No such standard"}},
    **OPEN.route(),
)
def get_standard(name: str) -> dict[str, Any]:
    """The resolved Table Schema descriptor, with joinedup's ``x-joinedup-…`` extensions."""
    if name not in list_standards():
        raise HTTPException(404, f"No standard {name!r}")
    return load_schema(name)


@router.get(
    "/mappings",
    response_model=list[MappingOut],
    summary="List the shipped mappings",
    **OPEN.route(),
)
def get_mappings() -> list[MappingOut]:
    """Mappings shipped with joinedup, by name, with the standard each one fills."""
    return shipped_mappings()
