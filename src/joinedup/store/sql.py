"""Quoting helpers for the DuckDB SQL that joinedup generates (identifiers and literals)."""

from __future__ import annotations

from collections.abc import Iterable


def ident(name: str) -> str:
    """A double-quoted DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A single-quoted DuckDB string literal."""
    return "'" + value.replace("'", "''") + "'"


def lit_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"
