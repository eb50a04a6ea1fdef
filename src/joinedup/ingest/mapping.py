"""Mappings: a YAML file per source layout saying how each standard field is filled.

```yaml
format: joinedup-mapping/1
standard: council_tax
description: Lambeth council tax accounts (monthly export)
fields:
  source_record_id: PERSON_REF                 # shorthand: copy a column
  family_name: {column: NAME, split_name: surname_comma_forenames, part: family}
  given_name:  {column: NAME, split_name: surname_comma_forenames, part: given}
  date_of_birth: {column: DOB, date_formats: ["%d/%m/%Y", excel_serial]}
  sex: {column: GENDER, codes: {Male: M, Female: F}}
  band: {column: BAND, case: upper}
  balance: {column: ARREARS, number: {currency: true}}
  single_person_discount: {column: SPD, boolean: {true: [Y], false: [N, ""]}}
  period: {constant: "2026-10"}
```

Transforms run in this order: take the value (``column``, ``columns`` + ``join``, or
``constant``); trim it and treat the standard's missing-value markers as missing; pick a part
of it (``split_name`` + ``part``, or ``address_part``); ``extract``; ``case``; ``codes``;
``default``; then the standard's normalisation of linkage fields. Dates, numbers and booleans
are typed afterwards (``date_formats``, ``number``, ``boolean``).

* ``address_part: line_1 | line_2 | line_3`` splits a one-line address (``Flat 3, Churchill
  House, Acre Road, Brixton``) at its commas. A leading sub-building part (``Flat 3``,
  ``Apartment 2``, ``Unit 4``, …) stays with the part after it (``Flat 3, Churchill House``), as
  does a leading bare house number (``12, Acre Road`` → ``12 Acre Road``); that is line 1. The
  last remaining part is line 3 (the locality, or the town if the address ends with it), and
  anything between is line 2. Use it with ``column``, or with ``columns`` + ``join: ", "`` to
  build address lines from gazetteer-style SAO / PAO / street / locality columns.
* ``extract: <regular expression>`` keeps the part of the value the expression matches, or its
  first group if it has one (``extract: '-([0-9]+)$'`` turns ``LA01-12`` into ``12``). A value
  the expression does not match is kept whole, so validation reports it. RE2 syntax, as DuckDB
  uses (no look-arounds or back-references).
* ``codes`` translate values (compared trimmed and case-insensitively); a value not listed is
  kept as it is. A code mapped to ``null`` (``{Sensory support: null}``) makes the value
  missing: use it for source codes the standard's code list cannot say.
* ``{period}`` in a ``constant`` is a placeholder for the reporting period of the file being
  ingested (``period: {constant: "{period}"}``, ``register_date: {constant: "{period}-01"}``),
  for exports that do not carry their period in a column. :meth:`Mapping.with_period` fills it
  in; a mapping that still holds the placeholder is not ready to ingest
  (:attr:`Mapping.needs_period`).

Every key is checked when the mapping is loaded: unknown standard fields, unknown options and
impossible combinations are errors that name the mapping file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import yaml

from joinedup.standards import field_names, list_standards, required_fields

FORMAT = "joinedup-mapping/1"
CASES = ("upper", "lower", "title")
SPLIT_STYLES = ("surname_comma_forenames", "forenames_surname")
PARTS = ("given", "middle", "family")
SPECIAL_DATE_FORMATS = ("iso", "excel_serial")
ADDRESS_PARTS = ("line_1", "line_2", "line_3")
PERIOD_PLACEHOLDER = "{period}"
DEFAULT_TRUE = ("Y", "YES", "TRUE", "T", "1")
DEFAULT_FALSE = ("N", "NO", "FALSE", "F", "0")
_OPTIONS = {
    "column",
    "columns",
    "join",
    "constant",
    "split_name",
    "part",
    "case",
    "codes",
    "date_formats",
    "number",
    "boolean",
    "default",
    "extract",
    "address_part",
}


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class FieldMapping:
    """How one standard field is filled from the source."""

    target: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    join: str = " "
    constant: str | None = None
    split_name: str | None = None
    part: str | None = None
    case: str | None = None
    codes: dict[str, str | None] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ()
    currency: bool = False
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE
    default: str | None = None
    extract: str | None = None
    address_part: str | None = None

    @property
    def source_columns(self) -> tuple[str, ...]:
        return (self.column,) if self.column else self.columns

    @property
    def needs_period(self) -> bool:
        return self.constant is not None and PERIOD_PLACEHOLDER in self.constant


@dataclass(frozen=True)
class Mapping:
    """A whole mapping: which standard, and how each of its fields is filled."""

    name: str
    standard: str
    fields: dict[str, FieldMapping]
    description: str = ""
    sheet: str | None = None
    #: the organisation (code) whose export it reads, if it is one organisation's
    organisation: str | None = None
    #: a short name for people (``Tenancies (housing system)``)
    title: str = ""

    @property
    def source_columns(self) -> set[str]:
        return {c for f in self.fields.values() for c in f.source_columns}

    def missing_columns(self, columns: list[str]) -> list[str]:
        """Source columns the mapping needs that the file does not have."""
        present = set(columns)
        return sorted(c for c in self.source_columns if c not in present)

    @property
    def needs_period(self) -> bool:
        """True when a constant holds the ``{period}`` placeholder, not yet filled in."""
        return any(f.needs_period for f in self.fields.values())

    def with_period(self, period: str) -> Mapping:
        """This mapping with every ``{period}`` placeholder replaced by ``period``."""
        if not period or PERIOD_PLACEHOLDER in period:
            raise _fail(self.name, f"cannot fill in {PERIOD_PLACEHOLDER} with {period!r}")
        fields = {
            name: replace(fm, constant=fm.constant.replace(PERIOD_PLACEHOLDER, period))
            if fm.needs_period and fm.constant is not None
            else fm
            for name, fm in self.fields.items()
        }
        return replace(self, fields=fields)


def _fail(name: str, message: str) -> MappingError:
    return MappingError(f"{name}: {message}")


def _strings(name: str, where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str | int | float | bool):
        value = [value]
    if not isinstance(value, list):
        raise _fail(name, f"{where} must be a list of values")
    return tuple("" if v is None else str(v) for v in value)


def _regex(name: str, target: str, pattern: Any) -> str:
    """A regular expression DuckDB (RE2) accepts; the error names the field."""
    if not isinstance(pattern, str) or not pattern:
        raise _fail(name, f"field {target!r}: extract must be a regular expression")
    try:
        with duckdb.connect() as con:
            con.execute("SELECT regexp_extract('', $pattern)", {"pattern": pattern}).fetchall()
    except duckdb.Error:
        raise _fail(
            name, f"field {target!r}: extract {pattern!r} is not a valid regular expression"
        ) from None
    return pattern


def has_capture_group(pattern: str) -> bool:
    """True when a regular expression has a capturing group (``(...)`` or ``(?P<name>...)``)."""
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # "[]...]": a literal ] first in the class
                i += 1
        elif ch == "(" and (
            not pattern.startswith("(?", i) or pattern.startswith(("(?P<", "(?<"), i)
        ):
            return True
        i += 1
    return False


def _field(name: str, target: str, spec: Any) -> FieldMapping:
    if isinstance(spec, str):
        return FieldMapping(target=target, column=spec)
    if not isinstance(spec, dict):
        raise _fail(name, f"field {target!r} must be a column name or a mapping of options")
    unknown = set(spec) - _OPTIONS
    if unknown:
        raise _fail(name, f"field {target!r} has unknown option(s) {sorted(unknown)}")
    sources = [k for k in ("column", "columns", "constant") if k in spec]
    if len(sources) != 1:
        raise _fail(name, f"field {target!r} needs exactly one of column, columns or constant")
    split, part = spec.get("split_name"), spec.get("part")
    if (split is None) != (part is None):
        raise _fail(name, f"field {target!r}: split_name and part go together")
    if split is not None and split not in SPLIT_STYLES:
        raise _fail(name, f"field {target!r}: split_name must be one of {list(SPLIT_STYLES)}")
    if part is not None and part not in PARTS:
        raise _fail(name, f"field {target!r}: part must be one of {list(PARTS)}")
    address_part = spec.get("address_part")
    if address_part is not None and address_part not in ADDRESS_PARTS:
        raise _fail(name, f"field {target!r}: address_part must be one of {list(ADDRESS_PARTS)}")
    if address_part is not None and split is not None:
        raise _fail(name, f"field {target!r}: use split_name or address_part, not both")
    extract = spec.get("extract")
    if extract is not None:
        extract = _regex(name, target, extract)
    case = spec.get("case")
    if case is not None and case not in CASES:
        raise _fail(name, f"field {target!r}: case must be one of {list(CASES)}")
    codes = spec.get("codes", {})
    if not isinstance(codes, dict):
        raise _fail(name, f"field {target!r}: codes must map source values to standard values")
    formats = _strings(name, f"field {target!r} date_formats", spec.get("date_formats", []))
    for fmt in formats:
        if fmt not in SPECIAL_DATE_FORMATS and "%" not in fmt:
            raise _fail(name, f"field {target!r}: date format {fmt!r} is not a strptime format")
    number = spec.get("number") or {}
    boolean = spec.get("boolean") or {}
    if not isinstance(number, dict) or not isinstance(boolean, dict):
        raise _fail(name, f"field {target!r}: number and boolean take a mapping of options")
    columns = spec.get("columns")
    if columns is not None and (not isinstance(columns, list) or not columns):
        raise _fail(name, f"field {target!r}: columns must be a non-empty list")
    return FieldMapping(
        target=target,
        column=str(spec["column"]) if "column" in spec else None,
        columns=tuple(str(c) for c in columns or ()),
        join=str(spec.get("join", " ")),
        constant=None if "constant" not in spec else str(spec["constant"]),
        split_name=split,
        part=part,
        case=case,
        codes={str(k): None if v is None else str(v) for k, v in codes.items()},
        date_formats=formats,
        currency=bool(number.get("currency", False)),
        true_values=_strings(name, "boolean true", boolean.get(True, boolean.get("true")))
        if boolean
        else DEFAULT_TRUE,
        false_values=_strings(name, "boolean false", boolean.get(False, boolean.get("false")))
        if boolean
        else DEFAULT_FALSE,
        default=None if spec.get("default") is None else str(spec["default"]),
        extract=extract,
        address_part=address_part,
    )


def parse_mapping(data: Any, name: str = "mapping") -> Mapping:
    """Check and build a mapping from parsed YAML/JSON."""
    if not isinstance(data, dict):
        raise _fail(name, "a mapping must be a YAML mapping with 'standard' and 'fields'")
    if data.get("format", FORMAT) != FORMAT:
        raise _fail(name, f"unsupported mapping format {data.get('format')!r}; expected {FORMAT}")
    standard = data.get("standard")
    if standard not in list_standards():
        raise _fail(name, f"unknown standard {standard!r}; known: {', '.join(list_standards())}")
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise _fail(name, "'fields' must map standard field names to sources")
    known = set(field_names(standard))
    unknown = sorted(set(fields) - known)
    if unknown:
        raise _fail(name, f"{standard} has no field(s) {unknown}")
    mapped = {str(target): _field(name, str(target), spec) for target, spec in fields.items()}
    missing = [f for f in required_fields(standard) if f not in mapped]
    if missing:
        raise _fail(name, f"required {standard} field(s) not mapped: {missing}")
    return Mapping(
        name=name,
        standard=str(standard),
        fields=mapped,
        description=str(data.get("description", "")),
        sheet=None if data.get("sheet") is None else str(data["sheet"]),
        organisation=None if data.get("organisation") is None else str(data["organisation"]),
        title=str(data.get("title") or ""),
    )


def load_mapping(path: Path) -> Mapping:
    """Load a mapping YAML file (errors name the file)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(path.name, f"cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise _fail(path.name, f"is not valid YAML{where}") from None
    return parse_mapping(data, path.name)


def identity_mapping(standard: str, columns: list[str]) -> Mapping:
    """A mapping for files already in the standard's layout (columns named as fields)."""
    known = set(field_names(standard))
    fields = {c: FieldMapping(target=c, column=c) for c in columns if c in known}
    return Mapping(name=f"{standard} (columns as named)", standard=standard, fields=fields)


MAPPINGS_DIR = Path(__file__).parent / "mappings"


def resolve_mapping_path(name: str) -> Path:
    """A mapping file by path, or by name among the mappings shipped with joinedup."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = MAPPINGS_DIR / name
    if shipped.is_file() and MAPPINGS_DIR.resolve() in shipped.resolve().parents:
        return shipped
    raise MappingError(f"{name}: no such mapping file (nor a shipped mapping of that name)")
