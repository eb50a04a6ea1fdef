"""Values as people read them: a standard's field by its title, a value by its meaning.

Records hold machine values (``supported_living``, ``1107.94``, ``2026-11``, ``true``); people
read ``Supported living``, ``£1,107.94``, ``November 2026``, ``Yes``. Everything here is driven
by the standard's own descriptor (field ``title``, ``type``, code list ``x-joinedup-codes``,
``x-joinedup-unit``), so a new standard reads well without code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from joinedup.standards.registry import CODES_KEY, field_view

NOT_RECORDED = "not recorded"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _descriptor(standard: str | None, name: str) -> Mapping[str, Any]:
    if not standard:
        return {}
    try:
        return field_view(standard, name)
    except (KeyError, LookupError):
        return {}


def humanise(name: str) -> str:
    """``service_type`` → ``Service type`` (for names no standard describes)."""
    text = name.strip("_").replace("_", " ")
    return text[:1].upper() + text[1:]


def field_label(standard: str | None, name: str) -> str:
    """The field's title in the standard, or its name made readable."""
    return str(_descriptor(standard, name).get("title") or humanise(name))


def month_text(value: str) -> str | None:
    """``2026-11`` → ``November 2026`` (None if not a month)."""
    found = _MONTH.match(value.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        return None
    return f"{date(int(found.group(1)), int(found.group(2)), 1):%B %Y}"


def date_text(value: date | datetime | str) -> str:
    """A date as GOV.UK writes it: ``12 November 2026``."""
    day: date | datetime
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value
    return f"{day.day} {day:%B %Y}"


def money_text(amount: float) -> str:
    """``1107.94`` → ``£1,107.94``; whole pounds without pence (``£500``); owed as ``-£5``."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    text = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"
    return f"{sign}£{text}"


def number_text(amount: float) -> str:
    """A number for reading: thousands separated, at most two decimals, no trailing zeros."""
    if amount == int(amount):
        return f"{int(amount):,}"
    return f"{amount:,.2f}".rstrip("0").rstrip(".")


def boolean_text(value: Any) -> str | None:
    text = str(value).strip().lower()
    if value is True or text in _TRUE:
        return "Yes"
    if value is False or text in _FALSE:
        return "No"
    return None


def readable_value(standard: str | None, name: str, value: Any) -> str:
    """``value`` of field ``name`` of ``standard`` as a person reads it (never a repr)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return NOT_RECORDED.capitalize()
    spec = _descriptor(standard, name)
    kind = spec.get("type")
    codes = spec.get(CODES_KEY) or {}
    if str(value) in codes:
        return str(codes[str(value)])
    if kind == "boolean" or isinstance(value, bool):
        return boolean_text(value) or str(value)
    if isinstance(value, date | datetime) or kind in ("date", "datetime"):
        return date_text(value)
    if kind in ("number", "integer") or isinstance(value, int | float):
        try:
            amount = float(value)
        except (TypeError, ValueError):
            return str(value)
        if spec.get("x-joinedup-unit") == "GBP":
            return money_text(amount)
        if kind == "integer":  # identifiers (UPRNs, references) read without separators
            return str(int(amount))
        return number_text(amount)
    text = str(value)
    if not spec and _DECIMAL.match(text):  # a computed figure, as its text
        return number_text(float(text))
    return month_text(text) or text
