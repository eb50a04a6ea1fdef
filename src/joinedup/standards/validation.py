"""Apply a standard to data in pure Python, through Frictionless.

This is the *reference* validator: small files, tests, and cross-checking the vectorised DuckDB
validator of ``joinedup.ingest``, which must report the same failures. It is not the ingest path.

* :func:`check_row` runs the custom (``x-joinedup-``) field and row checks on one typed row.
* :func:`frictionless_checks` wraps them as Frictionless checks, and :func:`validate_file` runs
  Frictionless's own Table Schema validation plus those checks on a file.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import attrs
import frictionless
from frictionless import errors as ferrors

from joinedup.standards.checks import FIELD_CHECKS, ROW_CHECKS
from joinedup.standards.registry import (
    fields_with_check,
    frictionless_schema,
    row_checks,
)

__all__ = [
    "CheckFailure",
    "CustomCheckError",
    "CustomRowCheckError",
    "StandardChecks",
    "check_row",
    "frictionless_checks",
    "validate_file",
]


@dataclass(frozen=True)
class CheckFailure:
    """One failed custom check: the field it is reported against and the check's name."""

    field: str
    check: str
    value: Any


def check_row(
    name: str,
    row: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    invalid: Collection[str] = (),
) -> list[CheckFailure]:
    """The custom checks of standard ``name`` that fail on ``row`` (typed values by field name).

    Fields absent from ``row`` count as missing, and a missing value passes every check.
    ``invalid`` names fields that already failed their type or constraints: a field check is
    not run on such a field, nor a row check that names one (one reason per bad cell).
    """
    today = today or dt.date.today()
    failures: list[CheckFailure] = []
    for field_name, check_name in fields_with_check(name).items():
        if field_name in invalid:
            continue
        value = row.get(field_name)
        if not FIELD_CHECKS[check_name](value, today=today):
            failures.append(CheckFailure(field_name, check_name, value))
    for spec in row_checks(name):
        check = ROW_CHECKS[spec["check"]]
        if any(f in invalid for f in check.fields_of(spec)):
            continue
        if not check(row, spec):
            report = check.report_field(spec)
            failures.append(CheckFailure(report, check.name, row.get(report)))
    return failures


class CustomCheckError(ferrors.CellError):
    """A value failed a joinedup field check (``x-joinedup-check``)."""

    type = "joinedup-check"
    title = "Joinedup Check"
    description = "The value fails a joinedup custom check."
    template = (
        "The cell {cell} in row at position {rowNumber} and field {fieldName} at position "
        "{fieldNumber} has an error: {note}"
    )


class CustomRowCheckError(ferrors.CellError):
    """A row failed a joinedup row check (``x-joinedup-row-checks``), reported on a field."""

    type = "joinedup-row-check"
    title = "Joinedup Row Check"
    description = "The row fails a joinedup cross-field check."
    template = (
        "The cell {cell} in row at position {rowNumber} and field {fieldName} at position "
        "{fieldNumber} has an error: {note}"
    )


@attrs.define(kw_only=True, repr=False)
class StandardChecks(frictionless.Check):
    """Frictionless check running one standard's joinedup checks on every row."""

    type: ClassVar[str] = "joinedup-standard"
    Errors: ClassVar[list[builtins.type[frictionless.Error]]] = [
        CustomCheckError,
        CustomRowCheckError,
    ]

    standard: str
    today: dt.date | None = None

    def validate_row(self, row: frictionless.Row) -> Iterable[frictionless.Error]:
        present = set(row.field_names)
        values = {name: row[name] for name in present}
        invalid = {str(e.field_name) for e in row.errors if getattr(e, "field_name", None)}
        for failure in check_row(self.standard, values, today=self.today, invalid=invalid):
            if failure.field not in present:
                continue
            if failure.check in FIELD_CHECKS:
                yield CustomCheckError.from_row(
                    row, note=f'check "{failure.check}" fails', field_name=failure.field
                )
            else:
                yield CustomRowCheckError.from_row(
                    row, note=f'row check "{failure.check}" fails', field_name=failure.field
                )

    metadata_profile_patch: ClassVar[dict[str, Any]] = {
        "properties": {"standard": {"type": "string"}},
    }


def frictionless_checks(name: str, *, today: dt.date | None = None) -> list[frictionless.Check]:
    """Frictionless checks for standard ``name``'s custom rules (use with ``Checklist``)."""
    return [StandardChecks(standard=name, today=today)]


def validate_file(
    path: str | Path,
    name: str,
    *,
    today: dt.date | None = None,
    fields_match: str = "equal",
) -> frictionless.Report:
    """Validate a small file of standard records with Frictionless: the Table Schema (types,
    constraints, primary key) and the joinedup checks.

    Columns are matched by name. ``fields_match`` is the Table Schema v2 ``fieldsMatch``: the
    default ``"equal"`` wants every field of the standard, in any order; ``"superset"`` lets
    the file leave fields out (but not add unknown ones).
    """
    file = Path(path)
    schema = frictionless_schema(name)
    schema.fields_match = fields_match  # type: ignore[assignment]
    resource = frictionless.Resource(path=file.name, basepath=str(file.parent), schema=schema)
    checklist = frictionless.Checklist(checks=frictionless_checks(name, today=today))
    return frictionless.validate(resource, checklist=checklist)
