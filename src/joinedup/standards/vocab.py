"""The sector's vocabulary: the names councils and their systems give each standard field.

One YAML file per standard in ``joinedup/standards/vocab/`` (``format:
joinedup-vocabulary/1``) lists, for each field, the column names seen in real exports. A
standard that extends another inherits its base's names. The files are checked when loaded:
every field must exist in the standard, every name must be a non-empty string, and one name
(compared as :func:`header_key` sees it) may not belong to two fields of one standard; a
broken file raises :class:`StandardDefinitionError` naming the file and the rule.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

import yaml

from joinedup.standards.registry import (
    SCHEMA_PACKAGE,
    StandardDefinitionError,
    extends,
    field_names,
    list_standards,
)

VOCAB_FOLDER = "vocab"
VOCAB_FORMAT = "joinedup-vocabulary/1"

__all__ = ["VOCAB_FORMAT", "aliases", "header_key", "header_words", "parse_vocabulary"]


def header_words(text: str) -> list[str]:
    """``"Trans_No"`` → ``["trans", "no"]``: lower-case words of a header (camelCase split)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(text))
    return re.findall(r"[a-z0-9]+", spaced.lower())


def header_key(text: str) -> str:
    """A header as compared for equality: lower-case words joined by single spaces."""
    return " ".join(header_words(text))


@functools.cache
def _own(standard: str) -> dict[str, tuple[str, ...]]:
    """The names in ``<standard>.yaml`` (empty when the standard has no file), checked."""
    where = f"vocab/{standard}.yaml"
    entry = resources.files(SCHEMA_PACKAGE).joinpath(VOCAB_FOLDER, f"{standard}.yaml")
    if not entry.is_file():
        return {}
    try:
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise StandardDefinitionError(f"{where} is not valid YAML: {exc}") from None
    return parse_vocabulary(standard, data)


def parse_vocabulary(standard: str, data: object) -> dict[str, tuple[str, ...]]:
    """Check one vocabulary file's parsed YAML; the error names the file and the rule."""
    where = f"vocab/{standard}.yaml"
    if not isinstance(data, dict) or data.get("format") != VOCAB_FORMAT:
        raise StandardDefinitionError(f"{where}: needs format: {VOCAB_FORMAT}")
    if data.get("standard") != standard:
        raise StandardDefinitionError(f"{where}: standard must be {standard!r}")
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise StandardDefinitionError(f"{where}: needs a 'fields' mapping")
    known = set(field_names(standard))
    out: dict[str, tuple[str, ...]] = {}
    for name, names in fields.items():
        if name not in known:
            raise StandardDefinitionError(f"{where}: {standard} has no field {name!r}")
        if not isinstance(names, list) or not names:
            raise StandardDefinitionError(f"{where}: field {name!r} needs a list of names")
        for alias in names:
            if not isinstance(alias, str) or not header_key(alias):
                raise StandardDefinitionError(f"{where}: field {name!r}: {alias!r} is not a name")
        out[str(name)] = tuple(names)
    return out


@functools.cache
def _resolved(standard: str) -> dict[str, tuple[str, ...]]:
    base = extends(standard)
    merged: dict[str, list[str]] = {}
    for source in ([base] if base else []) + [standard]:
        for name, names in _own(source).items():
            merged.setdefault(name, []).extend(names)
    owner: dict[str, str] = {}
    for name, listed in merged.items():
        for alias in listed:
            key = header_key(alias)
            if owner.setdefault(key, name) != name:
                raise StandardDefinitionError(
                    f"vocab/{standard}.yaml: the name {alias!r} belongs to both "
                    f"{owner[key]!r} and {name!r}"
                )
    return {name: tuple(dict.fromkeys(names)) for name, names in merged.items()}


def aliases(standard: str) -> dict[str, tuple[str, ...]]:
    """``{field: names}`` for a standard, its base's names included (checked on first use)."""
    if standard not in list_standards():
        field_names(standard)  # raises UnknownStandardError
    return dict(_resolved(standard))
