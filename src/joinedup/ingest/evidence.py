"""What a column's values say about the field it could fill.

:func:`value_evidence` returns a score (positive when the values fit the field, negative when
they contradict it: a column of company names is not a VAT number), the mapping options that
read the values (date formats, ``number: {currency: true}``, ``case``, a ``codes`` map from the
sample's values to the standard's code list), and problems worth a person's eye ("100% of
values are times like 00:00:00, not dates"). Problems never quote a value: they give counts
and shapes only, since a sample may hold personal data.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from joinedup.ingest.headers import token_similarity
from joinedup.standards.identifiers import is_valid_nhs_number, is_valid_upn, normalise_postcode
from joinedup.standards.vocab import header_words

# strptime formats seen in council exports, tried on each value (iso and excel_serial are the
# mapping's own names).
DATE_FORMATS = (
    "iso",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%d %B %Y",
    "%Y%m%d",
    "%Y/%m/%d",
    "excel_serial",
)
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DIGIT = re.compile(r"\d")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")
_SERIAL = re.compile(r"^[1-9]\d{4}(\.0+)?$")
_COMMA_NAME = re.compile(r"^[A-Z'\- ]+,\s*\S")
_MONEY = re.compile(r"^\(?-?£?-?[\d,]*\d(\.\d+)?\)?$")
_CODE_LIKE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/\-_.]*$")
_DATE_SHAPE = re.compile(r"^\d{1,4}[-/. ]([A-Za-z]{3,9}|\d{1,2})[-/. ]\d{2,4}([ T]\S+)?$")
#: An amount of money, not a code: £, thousands separators or two decimal places.
_AMOUNT = re.compile(r"^\(?-?£?-?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?\)?$")
_ID_SUFFIXES = ("_ref", "_id", "_number", "_code", "_urn", "_uprn")
TRUE_WORDS = {"Y", "YES", "TRUE", "T", "1"}
FALSE_WORDS = {"N", "NO", "FALSE", "F", "0"}
PERSONAL_CODE_MIN = 2  # a personal field's codes map names only values seen this often


@dataclass
class Evidence:
    score: float
    why: str
    options: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def share(values: list[str], test: Callable[[str], bool]) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def parses_as(value: str, fmt: str) -> bool:
    """True when ``value`` is a real date in ``fmt`` (a mapping date format)."""
    if fmt == "iso":
        if not _ISO.match(value):
            return False
        try:
            return 1900 <= date.fromisoformat(value[:10]).year <= 2100
        except ValueError:
            return False
    if fmt == "excel_serial":
        return bool(_SERIAL.match(value)) and 20000 <= float(value) <= 60000
    try:
        parsed = datetime.strptime(value, fmt)
    except ValueError:
        return False
    return 1900 <= parsed.year <= 2100


def _date(values: list[str]) -> Evidence:
    times = share(values, lambda v: bool(_TIME_ONLY.match(v)))
    if times >= 0.5:
        return Evidence(
            -0.6,
            f"{times:.0%} of values are times like 00:00:00, not dates",
            problems=[f"{times:.0%} of values are times like 00:00:00, not dates"],
        )
    chosen: list[str] = []
    left = list(values)
    for fmt in DATE_FORMATS:
        # every format reads digits (a day, a year or a serial): a value without one fits none
        fits = [v for v in left if _has_digit(v) and parses_as(v, fmt)]
        if len(fits) >= max(1, len(values) // 20):
            chosen.append(fmt)
            fitting = set(fits)
            left = [v for v in left if v not in fitting]
    covered = 1 - len(left) / len(values)
    if covered >= 0.8:
        why = f"{covered:.0%} of values are dates ({', '.join(chosen)})"
        problems = [f"{1 - covered:.0%} of values are not dates"] if covered < 0.98 else []
        return Evidence(0.4, why, {"date_formats": chosen}, problems)
    return Evidence(-0.5, f"only {covered:.0%} of values are dates")


def _has_digit(value: str) -> bool:
    return _DIGIT.search(value) is not None


def _pattern(spec: dict[str, Any], values: list[str]) -> Evidence | None:
    pattern = spec.get("constraints", {}).get("pattern")
    if not pattern:
        return None
    regex = re.compile(pattern)
    fit = share(values, lambda v: bool(regex.fullmatch(re.sub(r"\s", "", v).upper())))
    if fit >= 0.8:
        return Evidence(0.4, f"{fit:.0%} of values have the standard's pattern")
    return Evidence(-0.6, f"only {fit:.0%} of values have the standard's pattern")


def _enum(spec: dict[str, Any], values: list[str], personal: bool) -> Evidence:
    enum = [str(v) for v in spec["constraints"]["enum"]]
    labels = spec.get("x-joinedup-codes") or {}
    counts = Counter(values)
    exact = {v for v in counts if v in enum}
    folded = {e.lower(): e for e in enum} | {str(lbl).lower(): e for e, lbl in labels.items()}
    codes: dict[str, str] = {}
    for value in counts:
        if value in exact:
            continue
        target = folded.get(value.lower().strip())
        if target is None:
            target = _closest_code(value, enum, labels)
        if target is not None:
            codes[value] = target
    covered = sum(n for v, n in counts.items() if v in exact or v in codes) / len(values)
    options: dict[str, Any] = {}
    if codes:
        if all(v.lower() == t for v, t in codes.items()) and all(e == e.lower() for e in enum):
            options = {"case": "lower"}
        elif all(v.upper() == t for v, t in codes.items()) and all(e == e.upper() for e in enum):
            options = {"case": "upper"}
        else:
            kept = {
                v: t for v, t in codes.items() if not personal or counts[v] >= PERSONAL_CODE_MIN
            }
            options = {"codes": dict(sorted(kept.items()))} if kept else {}
    problems = []
    if 0.5 <= covered < 0.98:
        problems.append(f"{1 - covered:.0%} of values are not in the code list")
    if covered >= 0.8:
        how = "" if not codes else (" ignoring case" if "case" in options else " with a code map")
        return Evidence(
            0.4, f"{covered:.0%} of values are in the code list{how}", options, problems
        )
    if covered >= 0.5:
        return Evidence(0.1, f"{covered:.0%} of values are in the code list", options, problems)
    return Evidence(-0.3, f"only {covered:.0%} of values are in the code list")


def _closest_code(value: str, enum: list[str], labels: dict[str, Any]) -> str | None:
    """The code a value abbreviates or misspells (``Cap`` → capital), if exactly one fits."""
    words = header_words(value)
    if not words:
        return None
    # a word like no word of any code or label rules every code out (most values: names,
    # addresses), found without comparing the value with each code in turn
    everything = _code_words(tuple(enum), tuple(str(labels.get(code, code)) for code in enum))
    for w in words:
        if all(token_similarity(w, t) < CODE_SIMILAR for t in everything):
            return None
    best: list[tuple[float, str]] = []
    for code in enum:
        for name in {code, str(labels.get(code, code))}:
            target = header_words(name)
            if not target:
                continue
            sims = [max(token_similarity(w, t) for t in target) for w in words]
            best.append((min(sims), code))
    best.sort(reverse=True)
    if (
        best
        and best[0][0] >= CODE_SIMILAR
        and (len(best) == 1 or best[1][1] == best[0][1] or best[1][0] < CODE_SIMILAR)
    ):
        return best[0][1]
    return None


#: How like a code's or label's word each word of a value must be for the value to name it.
CODE_SIMILAR = 0.85


@functools.lru_cache(maxsize=256)
def _code_words(codes: tuple[str, ...], labels: tuple[str, ...]) -> frozenset[str]:
    """Every word of the codes and their labels."""
    return frozenset(w for name in (*codes, *labels) for w in header_words(name))


def _code_like(value: str) -> bool:
    """An identifier rather than a word: no spaces, and digits or capitals only."""
    return bool(_CODE_LIKE.match(value)) and (
        any(c.isdigit() for c in value) or (value.isupper() and len(value) <= 12)
    )


@functools.lru_cache(maxsize=65536)  # asked of one column's values once per text field
def _is_date(value: str) -> bool:
    """A date in any format the engine reads (Excel serials and yyyymmdd aside: numbers)."""
    return bool(_DATE_SHAPE.match(value)) and any(
        parses_as(value, f) for f in DATE_FORMATS if f not in ("excel_serial", "%Y%m%d")
    )


def _is_amount(value: str) -> bool:
    """Money, not an identifier: £, a thousands separator or pence (``1,250``, ``91.44``)."""
    return bool(_AMOUNT.match(value)) and ("£" in value or "," in value or "." in value)


def _in_range(spec: dict[str, Any], values: list[str]) -> float:
    """The share of numeric values within the field's minimum and maximum."""
    c = spec.get("constraints", {})
    low, high = c.get("minimum"), c.get("maximum")
    numbers = []
    for v in values:
        text = v.replace("£", "").replace(",", "").strip()
        negative = text.startswith("(") and text.endswith(")")
        try:
            number = float(text.strip("()"))
        except ValueError:
            continue
        numbers.append(-number if negative else number)
    if not numbers or (low is None and high is None):
        return 1.0
    inside = sum(1 for n in numbers if (low is None or n >= low) and (high is None or n <= high))
    return inside / len(numbers)


def _distinct(values: list[str]) -> Evidence | None:
    """A key field's values are all different; a column whose values repeat is not its key."""
    if len(values) < 5:
        return None
    unique = len(set(values)) / len(values)
    if unique >= 0.95:
        return Evidence(0.1, f"{unique:.0%} of values are distinct, as a key's are")
    if unique < 0.8:
        return Evidence(-0.5, f"only {unique:.0%} of values are distinct: not a key")
    return None


def _text(spec: dict[str, Any], values: list[str]) -> Evidence:
    """A string field without a pattern: an identifier wants codes, a label wants words."""
    name = spec["name"]
    dates = share(values, _is_date)
    if dates >= 0.8:
        return Evidence(-0.4, f"{dates:.0%} of values are dates")
    amounts = share(values, _is_amount)
    if amounts >= 0.8:
        return Evidence(-0.4, f"{amounts:.0%} of values are amounts of money")
    if name.endswith(_ID_SUFFIXES):
        codes = share(values, _code_like)
        if codes >= 0.8:
            return Evidence(0.1, f"{codes:.0%} of values are codes")
        return Evidence(-0.3, f"only {codes:.0%} of values are codes (most are words)")
    words = share(values, lambda v: sum(map(str.isalpha, v)) >= 2)
    if words < 0.2:
        return Evidence(-0.3, f"only {words:.0%} of values are words")
    return Evidence(0.0, "text")


def value_evidence(spec: dict[str, Any], values: list[str], key: bool = False) -> Evidence:
    """How well ``values`` fit the field ``spec``, the options to read them, and problems.
    ``key``: the field alone identifies a row (its values must all differ)."""
    if not values:
        return Evidence(-0.1, "no values in the sample")
    found = _fit(spec, values)
    distinct = _distinct(values) if key else None
    if distinct is None:
        return found
    return Evidence(
        found.score + distinct.score,
        f"{found.why}; {distinct.why}",
        found.options,
        found.problems,
    )


def _fit(spec: dict[str, Any], values: list[str]) -> Evidence:
    name, kind = spec["name"], spec.get("type", "string")
    personal = spec.get("x-joinedup-personal") is True
    if kind == "date":
        return _date(values)
    checks = {
        "postcode": lambda v: normalise_postcode(v) is not None,
        "nhs_number": is_valid_nhs_number,
        "upn": is_valid_upn,
    }
    if name in checks:
        fit = share(values, checks[name])
        return Evidence(0.6 if fit >= 0.8 else -0.4, f"{fit:.0%} of values are valid {name}s")
    if name in {"given_name", "family_name", "middle_names"}:
        fit = share(values, lambda v: bool(_COMMA_NAME.match(v)))
        if fit >= 0.8:
            part = {"given_name": "given", "family_name": "family", "middle_names": "middle"}[name]
            return Evidence(
                0.3,
                f"{fit:.0%} of values are 'SURNAME, Forename'",
                {"split_name": "surname_comma_forenames", "part": part},
            )
    if kind in ("number", "integer"):
        test = (lambda v: bool(_MONEY.match(v))) if kind == "number" else str.isdigit
        fit = share(values, test)
        opts = {}
        if kind == "number" and any(c in v for v in values for c in "£,("):
            opts = {"number": {"currency": True}}
        if fit < 0.8:
            return Evidence(-0.4, f"only {fit:.0%} of values are numbers")
        inside = _in_range(spec, values)
        if inside < 0.8:
            return Evidence(-0.4, f"only {inside:.0%} of values are in the field's range", opts)
        return Evidence(0.3, f"{fit:.0%} of values are numbers", opts)
    if kind == "boolean":
        distinct = {v.strip().upper() for v in values}
        if distinct <= TRUE_WORDS | FALSE_WORDS:
            return Evidence(0.3, "values are yes/no flags")
        return Evidence(-0.3, "values are not yes/no flags")
    if spec.get("constraints", {}).get("enum"):
        return _enum(spec, values, personal)
    pattern = _pattern(spec, values)
    if pattern is not None:
        return pattern
    return _text(spec, values)
