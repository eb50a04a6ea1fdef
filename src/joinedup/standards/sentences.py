"""A sentence from a template over records' values: a flag's reason, from the ``reason:`` template
in its indicator rule (see insight/rules.py).

A template names the values the flag carries, in braces: ``Rent arrears of {tenancy.balance}
on tenancy {tenancy.tenancy_ref} ({tenancy._organisation}, {tenancy.period})``. A placeholder
is one of the rule's ``reasons`` or ``identity`` values, ``alias._organisation`` (the
organisation the source record came from, by name) or ``as_at`` (the date the rule judged);
a value the standard does not describe (a ``derive``d one) may say how it reads:
``{claim.annual_earned_income:money}`` (also ``:number``, ``:date``, ``:month``).
:func:`check_template` refuses anything else when the rule loads. :func:`render` fills the
template with each value as a person reads it (:mod:`joinedup.standards.readable`: money as
£1,107.94, months as November 2026, code lists by their labels, organisations and GSS codes
by name, yes or no), and a value the reader may not see as "[not shared]".
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from joinedup.standards.readable import (
    NOT_RECORDED,
    date_text,
    field_label,
    money_text,
    month_text,
    number_text,
    readable_value,
)

ORGANISATION = "_organisation"
DATASET = "_dataset"
AS_AT = "as_at"
WITHHELD = "[not shared]"
_GSS = re.compile(r"^[EWSN]\d{8}$")


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _money(text: str) -> str | None:
    amount = _as_number(text)
    return None if amount is None else money_text(amount)


def _number(text: str) -> str | None:
    amount = _as_number(text)
    return None if amount is None else number_text(amount)


def _date(text: str) -> str | None:
    try:
        return date_text(date.fromisoformat(text[:10]))
    except ValueError:
        return None


#: ``{alias.field:format}``: how a value no standard describes reads.
FORMATS = {"money": _money, "number": _number, "date": _date, "month": month_text}


def placeholders(template: str) -> list[str]:
    """The names in braces, in order (``ValueError`` for a template that is not well formed:
    an unclosed brace, an unknown format or a conversion)."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise ValueError("has an unmatched '{' or '}' (write '{{' or '}}' for a brace)") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion or (spec and spec not in FORMATS):
            raise ValueError(
                f"'{{{name}}}' has an unknown format (one of {', '.join(FORMATS)} may follow ':')"
            )
        names.append(name)
    return names


def check_template(template: str, values: Iterable[str], aliases: Iterable[str]) -> str | None:
    """What is wrong with ``template`` (None if nothing). ``values``: ``alias.field`` the flag
    carries; ``aliases``: the present sources (each gives ``alias._organisation``)."""
    try:
        names = placeholders(template)
    except ValueError as exc:
        return str(exc)
    allowed = {*values, *(f"{a}.{ORGANISATION}" for a in aliases), AS_AT}
    unknown = [n for n in names if n not in allowed]
    if unknown:
        return (
            f"unknown placeholder '{{{unknown[0]}}}' (a template may use "
            f"{', '.join('{' + n + '}' for n in sorted(allowed))}; add a value to 'reasons' "
            "to use it)"
        )
    return None


@dataclass(frozen=True)
class Shown:
    """One value of a flag as the reader may see it."""

    alias: str
    field: str
    value: str | None
    shown: bool = True


def value_text(
    standard: str | None, field: str, value: Any, names: Mapping[str, str] | None = None
) -> str:
    """A flag's value for reading: organisations and GSS codes by name, else by its standard."""
    if value is not None and names:
        text = str(value)
        if (field == ORGANISATION or _GSS.match(text)) and text in names:
            return names[text]
    if field == DATASET and value is not None:
        return str(value).replace("-", " ").replace("_", " ")
    return readable_value(standard, field, value)


def label(standard: str | None, field: str) -> str:
    if field in (ORGANISATION, DATASET):
        return "Organisation" if field == ORGANISATION else "Dataset"
    return field_label(standard, field)


def render(
    template: str,
    values: Iterable[Shown],
    organisations: Mapping[str, str],
    standards: Mapping[str, str],
    names: Mapping[str, str],
    as_at: date | None,
) -> str:
    """The sentence for one flag. ``organisations``: alias → the organisation code of its
    record; ``standards``: alias → standard; ``names``: organisation and GSS codes → names."""
    filled: dict[str, str] = {AS_AT: date_text(as_at) if as_at else NOT_RECORDED}
    for alias, code in organisations.items():
        filled[f"{alias}.{ORGANISATION}"] = names.get(code, code)
    for v in values:
        key = f"{v.alias}.{v.field}"
        if not v.shown:
            filled[key] = WITHHELD
        elif v.value is None:
            filled[key] = NOT_RECORDED
        else:
            filled[key] = value_text(standards.get(v.alias), v.field, v.value, names)
    raw = {f"{v.alias}.{v.field}": v.value for v in values if v.shown and v.value is not None}
    out = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if name is not None:
            formatted = FORMATS[spec](str(raw[name])) if spec and name in raw else None
            out.append(formatted or filled.get(name, NOT_RECORDED))
    sentence = "".join(out).strip()
    return sentence[:1].upper() + sentence[1:]
