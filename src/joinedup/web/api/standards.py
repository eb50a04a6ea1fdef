"""``/api/v1/standards`` and ``/api/v1/mappings``: the open standards and the shipped mappings.

These describe shapes, not data: they are public, like the open standards themselves.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from joinedup.ingest import mapping as mappings
from joinedup.standards import extends, list_standards, load_schema, primary_key
from joinedup.web.auth import PUBLIC, access

log = logging.getLogger(__name__)

tag = {
    "name": "standards",
    "description": "The open standards files are mapped to, and the mappings shipped with "
    "joinedup (Frictionless Table Schema; see docs/standards.md).",
}
router = APIRouter(tags=[tag["name"]])

MAPPING_SUFFIXES = (".yaml", ".yml")


class FieldOut(BaseModel):
    name: str
    type: str = Field(description="Table Schema type: string, integer, number, date, boolean")
    title: str
    description: str
    required: bool
    personal: bool = Field(description="Personal data (x-joinedup-personal)")


class StandardOut(BaseModel):
    name: str
    title: str
    description: str
    version: str
    extends: str | None = Field(description="The standard this one extends (usually person)")
    primary_key: list[str]
    fields: list[FieldOut]


class MappingOut(BaseModel):
    name: str = Field(description="Give this as `mapping` when uploading a file")
    standard: str
    description: str


def standard_out(name: str) -> StandardOut:
    schema = load_schema(name)
    return StandardOut(
        name=name,
        title=str(schema.get("title", name)),
        description=str(schema.get("description", "")),
        version=str(schema.get("x-joinedup-version", "")),
        extends=extends(name),
        primary_key=primary_key(name),
        fields=[
            FieldOut(
                name=f["name"],
                type=f.get("type", "string"),
                title=str(f.get("title", f["name"])),
                description=str(f.get("description", "")),
                required=bool(f.get("constraints", {}).get("required")),
                personal=f.get("x-joinedup-personal") is True,
            )
            for f in schema["fields"]
        ],
    )


def standard_titles() -> dict[str, str]:
    """``{name: title}`` of every shipped standard, in name order."""
    return {name: str(load_schema(name).get("title", name)) for name in list_standards()}


def shipped_mappings() -> list[MappingOut]:
    """The mappings shipped in :data:`joinedup.ingest.mapping.MAPPINGS_DIR`, by name.

    A mapping's name is its path below that folder (``synth/council_tax-lambeth.yaml``), the
    name :func:`~joinedup.ingest.mapping.resolve_mapping_path` accepts. A shipped mapping that
    does not load is logged and left out. Parsed mappings are cached until a file changes.
    """
    folder: Path = mappings.MAPPINGS_DIR
    if not folder.is_dir():
        return []
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in MAPPING_SUFFIXES and path.is_file()
    )
    key = (str(folder), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    cached = _cache.get("mappings")
    if cached is not None and cached[0] == key:
        return list(cached[1])
    found = []
    for path in files:
        name = path.relative_to(folder).as_posix()
        try:
            loaded = mappings.load_mapping(path)
        except mappings.MappingError as exc:
            log.warning("shipped mapping %s does not load: %s", name, exc)
            continue
        found.append(
            MappingOut(name=name, standard=loaded.standard, description=loaded.description)
        )
    _cache["mappings"] = (key, found)
    return list(found)


_cache: dict[str, tuple[Any, list[MappingOut]]] = {}


def shipped_mapping_path(name: str) -> Path:
    """The file of a shipped mapping (one :func:`shipped_mappings` lists), as an absolute path."""
    if name not in {m.name for m in shipped_mappings()}:
        raise KeyError(f"no shipped mapping {name!r}")
    return (mappings.MAPPINGS_DIR / name).resolve()


@router.get(
    "/standards",
    response_model=list[StandardOut],
    summary="List the open standards",
    openapi_extra=access(PUBLIC),
)
def get_standards() -> list[StandardOut]:
    """Every shipped standard with its fields (a person standard lists person's fields first)."""
    return [standard_out(name) for name in list_standards()]


@router.get(
    "/standards/{name}",
    summary="One standard as Frictionless Table Schema",
    responses={404: {"description": "No such standard"}},
    openapi_extra=access(PUBLIC),
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
    openapi_extra=access(PUBLIC),
)
def get_mappings() -> list[MappingOut]:
    """Mappings shipped with joinedup, by name, with the standard each one fills."""
    return shipped_mappings()
