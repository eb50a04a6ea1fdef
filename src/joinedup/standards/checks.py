"""The custom checks that Table Schema cannot express, in one registry.

A schema field names a *field check* with ``"x-joinedup-check": "<name>"``; a schema names *row
checks* (rules across fields) in its top-level ``"x-joinedup-row-checks"`` list. The names used
in the shipped schemas must exist here (the loader refuses unknown names).

The functions here are the reference implementations, in pure Python over **typed** values
(``str`` for string fields, ``datetime.date`` for dates, ...). The vectorised DuckDB versions
in ``joinedup.ingest`` must agree with them; ``sample_values`` gives each check known-good and
known-bad values for that cross-test. Every check passes a missing value (``None``): whether a
value is required is the ``required`` constraint's job, not the check's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from joinedup.standards.identifiers import is_valid_nhs_number, is_valid_upn

__all__ = [
    "FIELD_CHECKS",
    "ROW_CHECKS",
    "FieldCheck",
    "RowCheck",
    "get_field_check",
    "get_row_check",
]


@dataclass(frozen=True)
class FieldCheck:
    """A rule about one value that Table Schema cannot state."""

    name: str
    description: str
    types: frozenset[str]
    """Table Schema field types the check may be attached to."""
    func: Callable[[Any, dt.date], bool]
    """``func(value, today) -> bool``: True when the (non-null) value passes."""
    sample_values: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    """``{"good": [...], "bad": [...]}`` typed values for cross-testing other implementations."""

    def __call__(self, value: Any, *, today: dt.date | None = None) -> bool:
        if value is None:
            return True
        return self.func(value, today or dt.date.today())


@dataclass(frozen=True)
class RowCheck:
    """A rule across several fields of one row, parameterised by a spec in the schema."""

    name: str
    description: str
    spec_fields: tuple[str, ...]
    """Keys of the spec that name schema fields (the loader checks they exist)."""
    func: Callable[[Mapping[str, Any], Mapping[str, Any]], bool]
    """``func(row, spec) -> bool``: True when the row passes."""
    report_field: Callable[[Mapping[str, Any]], str]
    """The field a failure is reported against, given the spec."""

    def __call__(self, row: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
        return self.func(row, spec)

    def fields_of(self, spec: Mapping[str, Any]) -> list[str]:
        """The schema field names a spec of this check refers to."""
        names: list[str] = []
        for key in self.spec_fields:
            value = spec.get(key)
            if isinstance(value, str):
                names.append(value)
            elif isinstance(value, list):
                names.extend(str(v) for v in value)
        return names


# --- field checks -------------------------------------------------------------------------


def _nhs_mod11(value: Any, today: dt.date) -> bool:
    return isinstance(value, str) and is_valid_nhs_number(value)


def _upn_check_letter(value: Any, today: dt.date) -> bool:
    return isinstance(value, str) and is_valid_upn(value)


def _not_in_future(value: Any, today: dt.date) -> bool:
    if isinstance(value, dt.datetime):
        value = value.date()
    return isinstance(value, dt.date) and value <= today


FIELD_CHECKS: dict[str, FieldCheck] = {
    check.name: check
    for check in (
        FieldCheck(
            name="nhs_mod11",
            description=(
                "NHS number check digit: weights 10..2 on the first nine digits, "
                "11 - (sum mod 11); 11 means 0 and 10 means the number is invalid."
            ),
            types=frozenset({"string"}),
            func=_nhs_mod11,
            sample_values={
                "good": ["9434765919", "4010232137", "9999999999"],
                "bad": ["9434765918", "0000000010", "1234567890", "943476591"],
            },
        ),
        FieldCheck(
            name="upn_check_letter",
            description=(
                "DfE Unique Pupil Number check letter: digits 2-13 weighted by their position "
                "(2..13), sum mod 23, as a letter of ABCDEFGHJKLMNPQRTUVWXYZ (no I, O, S)."
            ),
            types=frozenset({"string"}),
            func=_upn_check_letter,
            sample_values={
                "good": ["B801200005001", "P207000016049", "A000000000000"],
                "bad": ["A801200005001", "Q207000016049", "B80120000500A"],
            },
        ),
        FieldCheck(
            name="not_in_future",
            description=(
                "The date is not after the day of validation (the ingest run's date), "
                "for dates of events that have already happened such as a date of birth."
            ),
            types=frozenset({"date", "datetime"}),
            func=_not_in_future,
            sample_values={
                "good": [dt.date(1990, 5, 17), dt.date(2000, 1, 1)],
                "bad": [dt.date(9999, 12, 31)],
            },
        ),
    )
}


# --- row checks ---------------------------------------------------------------------------


def _date_order(row: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    start_name, end_name = spec["fields"]
    start, end = row.get(start_name), row.get(end_name)
    if start is None or end is None:
        return True
    return bool(end >= start)


def _only_when(row: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    if row.get(spec["field"]) is None:
        return True
    return row.get(spec["when"]) in spec["in"]


ROW_CHECKS: dict[str, RowCheck] = {
    check.name: check
    for check in (
        RowCheck(
            name="date_order",
            description=(
                'Spec `{"check": "date_order", "fields": [start, end]}`: when both dates are '
                "present the end is on or after the start."
            ),
            spec_fields=("fields",),
            func=_date_order,
            report_field=lambda spec: str(spec["fields"][-1]),
        ),
        RowCheck(
            name="only_when",
            description=(
                'Spec `{"check": "only_when", "field": F, "when": G, "in": [values]}`: F may '
                "only hold a value when field G holds one of the listed values."
            ),
            spec_fields=("field", "when"),
            func=_only_when,
            report_field=lambda spec: str(spec["field"]),
        ),
    )
}


def get_field_check(name: str) -> FieldCheck:
    """The field check called ``name`` (``KeyError`` names the known checks)."""
    try:
        return FIELD_CHECKS[name]
    except KeyError:
        raise KeyError(f"unknown field check {name!r}; known: {sorted(FIELD_CHECKS)}") from None


def get_row_check(name: str) -> RowCheck:
    """The row check called ``name`` (``KeyError`` names the known checks)."""
    try:
        return ROW_CHECKS[name]
    except KeyError:
        raise KeyError(f"unknown row check {name!r}; known: {sorted(ROW_CHECKS)}") from None
