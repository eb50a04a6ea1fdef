"""Find, load and resolve the shipped standards (Frictionless Table Schema JSON).

A standard is one JSON file in ``joinedup/standards/schemas/``, named after the standard. A
standard about people declares ``"x-joinedup-extends": "person"``; :func:`load_schema` returns it
*resolved*: the base standard's fields first, the domain's own fields after, the base's
``missingValues`` when the domain has none, and ``"x-joinedup-base"`` naming the base (the
``extends`` key is removed, so a resolved descriptor is never resolved twice).

Loaded descriptors are checked for joinedup's own rules (unique field names, known custom
checks, primary-key fields required, code lists matching enums); a broken shipped file raises
:class:`StandardDefinitionError` naming the file and the rule.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from joinedup.errors import JoinedupError
from joinedup.standards.checks import FIELD_CHECKS, ROW_CHECKS

if TYPE_CHECKING:
    import frictionless

__all__ = [
    "REDACTED",
    "REDACTION_MARKERS_KEY",
    "REDACTION_PATTERN",
    "SCHEMA_FOLDER",
    "SCHEMA_PACKAGE",
    "StandardDefinitionError",
    "UnknownStandardError",
    "extends",
    "field",
    "field_names",
    "fields_with_check",
    "frictionless_schema",
    "is_person_standard",
    "linkage_fields",
    "list_standards",
    "load_schema",
    "marker_key",
    "personal_fields",
    "primary_key",
    "redactable_fields",
    "redaction_markers",
    "required_fields",
    "row_checks",
    "special_category_fields",
]

SCHEMA_PACKAGE = "joinedup.standards"
SCHEMA_FOLDER = "schemas"
EXTENDS_KEY = "x-joinedup-extends"
BASE_KEY = "x-joinedup-base"
PERSONAL_KEY = "x-joinedup-personal"
SPECIAL_KEY = "x-joinedup-special-category"
LINKAGE_KEY = "x-joinedup-linkage"
CHECK_KEY = "x-joinedup-check"
CODES_KEY = "x-joinedup-codes"
ROW_CHECKS_KEY = "x-joinedup-row-checks"
REDACTABLE_KEY = "x-joinedup-redactable"
#: On a redactable field, the markers it accepts (``""`` for blank); without it, blank and
#: anything :data:`REDACTION_PATTERN` matches.
REDACTION_MARKERS_KEY = "x-joinedup-redaction-markers"
#: What a redactable field holds when its value was lawfully withheld.
REDACTED = "Redacted"
#: A word of a redaction marker (RE2 and Python alike), after lower-casing.
MARKER_WORD = r"[0-9a-z]+"
#: Values meaning "withheld" (RE2 and Python alike, matched on the whole trimmed value).
REDACTION_PATTERN = (
    r"(?i)(redacted|withheld|name withheld|personal data|personal information|"
    r"private individual|individual|data protection|gdpr|not disclosed|removed)"
    r"(\s*[-:(–].*)?"
)


class UnknownStandardError(JoinedupError, LookupError):
    """Raised for a standard name that is not shipped."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown standard {name!r}; the standards are: {', '.join(known)}")


class StandardDefinitionError(ValueError):
    """Raised when a shipped schema file breaks one of joinedup's rules."""


def list_standards() -> list[str]:
    """The names of every shipped standard, sorted."""
    return list(_names())


def _folder() -> Traversable:
    """The shipped schemas (package data of ``joinedup.standards``)."""
    return resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FOLDER)


@functools.cache
def _names() -> tuple[str, ...]:
    folder = _folder()
    return tuple(
        sorted(
            entry.name.removesuffix(".json")
            for entry in folder.iterdir()
            if entry.is_file() and entry.name.endswith(".json")
        )
    )


def _check_name(name: str) -> None:
    if not isinstance(name, str) or name not in _names():
        raise UnknownStandardError(str(name), list(_names()))


@functools.cache
def _raw(name: str) -> dict[str, Any]:
    _check_name(name)
    text = _folder().joinpath(f"{name}.json").read_text(encoding="utf-8")
    try:
        descriptor = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StandardDefinitionError(f"{name}.json is not valid JSON: {exc}") from exc
    if not isinstance(descriptor, dict):
        raise StandardDefinitionError(f"{name}.json must hold a JSON object")
    return descriptor


@functools.cache
def _resolved(name: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    raw = _raw(name)
    base_name = raw.get(EXTENDS_KEY)
    descriptor = {k: copy.deepcopy(v) for k, v in raw.items() if k != EXTENDS_KEY}
    if base_name is not None:
        if base_name in (*_seen, name):
            raise StandardDefinitionError(f"{name}.json: circular {EXTENDS_KEY} via {base_name!r}")
        if base_name not in _names():
            raise StandardDefinitionError(
                f"{name}.json: {EXTENDS_KEY} names unknown standard {base_name!r}"
            )
        base = _resolved(base_name, (*_seen, name))
        descriptor["fields"] = copy.deepcopy(base["fields"]) + descriptor.get("fields", [])
        descriptor.setdefault("missingValues", copy.deepcopy(base.get("missingValues", [""])))
        descriptor[BASE_KEY] = base_name
    _check_definition(name, descriptor)
    return descriptor


def _check_definition(name: str, descriptor: dict[str, Any]) -> None:
    """joinedup's own rules on top of the Table Schema profile."""
    where = f"{name}.json"
    fields = descriptor.get("fields")
    if not isinstance(fields, list) or not fields:
        raise StandardDefinitionError(f"{where}: needs a non-empty 'fields' list")
    seen: set[str] = set()
    by_name: dict[str, dict[str, Any]] = {}
    for item in fields:
        fname = item.get("name")
        if fname in seen:
            raise StandardDefinitionError(f"{where}: field {fname!r} is defined twice")
        seen.add(fname)
        by_name[fname] = item
        for key in ("type", "title", "description"):
            if not item.get(key):
                raise StandardDefinitionError(f"{where}: field {fname!r} has no {key!r}")
        redactable = item.get(REDACTABLE_KEY, False)
        if not isinstance(redactable, bool) or (redactable and item["type"] != "string"):
            raise StandardDefinitionError(
                f"{where}: field {fname!r}: {REDACTABLE_KEY} must be true or false, on a string"
            )
        markers = item.get(REDACTION_MARKERS_KEY)
        if markers is not None and (
            not redactable
            or not isinstance(markers, list)
            or not markers
            or not all(isinstance(m, str) for m in markers)
        ):
            raise StandardDefinitionError(
                f"{where}: field {fname!r}: {REDACTION_MARKERS_KEY} must be a non-empty list of "
                f"strings, on a field with {REDACTABLE_KEY}: true"
            )
        if not isinstance(item.get(PERSONAL_KEY), bool):
            raise StandardDefinitionError(f"{where}: field {fname!r} needs {PERSONAL_KEY}")
        check = item.get(CHECK_KEY)
        if check is not None:
            if check not in FIELD_CHECKS:
                raise StandardDefinitionError(
                    f"{where}: field {fname!r} names unknown check {check!r}; "
                    f"known: {sorted(FIELD_CHECKS)}"
                )
            if item["type"] not in FIELD_CHECKS[check].types:
                raise StandardDefinitionError(
                    f"{where}: check {check!r} does not apply to {item['type']} field {fname!r}"
                )
        codes = item.get(CODES_KEY)
        enum = item.get("constraints", {}).get("enum")
        if codes is not None and list(codes) != enum:
            raise StandardDefinitionError(
                f"{where}: field {fname!r}: {CODES_KEY} keys must equal the enum, in order"
            )
    for fname in descriptor.get("primaryKey", []):
        if fname not in by_name:
            raise StandardDefinitionError(f"{where}: primaryKey names unknown field {fname!r}")
        if not by_name[fname].get("constraints", {}).get("required"):
            # Frictionless does not reject a null primary-key cell, so we make it explicit.
            raise StandardDefinitionError(f"{where}: primary-key field {fname!r} must be required")
    for spec in descriptor.get(ROW_CHECKS_KEY, []):
        check_name = spec.get("check")
        if check_name not in ROW_CHECKS:
            raise StandardDefinitionError(
                f"{where}: unknown row check {check_name!r}; known: {sorted(ROW_CHECKS)}"
            )
        for fname in ROW_CHECKS[check_name].fields_of(spec):
            if fname not in by_name:
                raise StandardDefinitionError(
                    f"{where}: row check {check_name!r} names unknown field {fname!r}"
                )


def load_schema(name: str) -> dict[str, Any]:
    """The resolved Table Schema descriptor of a standard (a fresh copy each call)."""
    _check_name(name)
    return copy.deepcopy(_resolved(name))


def extends(name: str) -> str | None:
    """The standard ``name`` extends, or ``None``."""
    base = _raw(name).get(EXTENDS_KEY)
    return str(base) if base is not None else None


def is_person_standard(name: str) -> bool:
    """True for ``person`` and every standard that extends it."""
    return name == "person" or _resolved(name).get(BASE_KEY) == "person"


def _fields(name: str) -> list[dict[str, Any]]:
    _check_name(name)
    fields: list[dict[str, Any]] = _resolved(name)["fields"]
    return fields


def field_names(name: str) -> list[str]:
    """Field names of a standard, in order (base fields first)."""
    return [f["name"] for f in _fields(name)]


def field(name: str, field_name: str) -> dict[str, Any]:
    """One field's descriptor (a copy); ``KeyError`` when the standard has no such field."""
    return copy.deepcopy(dict(field_view(name, field_name)))


@functools.cache
def _field_index(name: str) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in _fields(name)}


def field_view(name: str, field_name: str) -> Mapping[str, Any]:
    """One field's descriptor, shared and not copied (for reading values on request paths,
    many times a page: read it, never change it; :func:`field` gives a copy); ``KeyError``
    when the standard has no such field."""
    _check_name(name)
    found = _field_index(name).get(field_name)
    if found is None:
        raise KeyError(f"standard {name!r} has no field {field_name!r}")
    return MappingProxyType(found)


def personal_fields(name: str) -> list[str]:
    """Fields marked ``x-joinedup-personal: true`` (personal data)."""
    return [f["name"] for f in _fields(name) if f.get(PERSONAL_KEY) is True]


def special_category_fields(name: str) -> list[str]:
    """Fields marked ``x-joinedup-special-category: true`` (UK GDPR Article 9 data)."""
    return [f["name"] for f in _fields(name) if f.get(SPECIAL_KEY) is True]


def linkage_fields(name: str) -> list[str]:
    """Fields marked ``x-joinedup-linkage: true`` (used by record linkage)."""
    return [f["name"] for f in _fields(name) if f.get(LINKAGE_KEY) is True]


def required_fields(name: str) -> list[str]:
    """Fields with ``constraints.required: true``."""
    return [f["name"] for f in _fields(name) if f.get("constraints", {}).get("required")]


def redactable_fields(name: str) -> list[str]:
    """Fields marked ``x-joinedup-redactable: true``: a blank or redaction marker is lawful."""
    return [f["name"] for f in _fields(name) if f.get(REDACTABLE_KEY) is True]


def marker_key(value: str) -> str:
    """A redaction marker as compared: lower case, words only (``REDACTED - Personal Data``
    and ``redacted personal data`` are one marker); blank is ``""``."""
    return " ".join(re.findall(MARKER_WORD, value.lower()))


def redaction_markers(spec: dict[str, Any]) -> tuple[str, ...] | None:
    """The markers (as :func:`marker_key`) a redactable field declares, or ``None`` when it
    takes the default (blank, and anything :data:`REDACTION_PATTERN` matches)."""
    markers = spec.get(REDACTION_MARKERS_KEY)
    if not spec.get(REDACTABLE_KEY) or markers is None:
        return None
    return tuple(dict.fromkeys(marker_key(m) for m in markers))


def fields_with_check(name: str) -> dict[str, str]:
    """``{field name: field check name}`` for fields carrying ``x-joinedup-check``."""
    return {f["name"]: f[CHECK_KEY] for f in _fields(name) if f.get(CHECK_KEY)}


def primary_key(name: str) -> list[str]:
    """The standard's ``primaryKey`` (empty when the standard has none)."""
    _check_name(name)
    return list(_resolved(name).get("primaryKey", []))


def row_checks(name: str) -> list[dict[str, Any]]:
    """The standard's row-check specs (``x-joinedup-row-checks``)."""
    _check_name(name)
    return copy.deepcopy(_resolved(name).get(ROW_CHECKS_KEY, []))


def frictionless_schema(name: str) -> frictionless.Schema:
    """The resolved standard as a :class:`frictionless.Schema` (custom keys kept)."""
    import frictionless  # imported here: a second of the start of commands that never use it

    return frictionless.Schema.from_descriptor(load_schema(name))
