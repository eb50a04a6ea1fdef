"""The guided mapping's use cases, shared by the mapping page and the API: each standard field
with its suggested column, confidence and a few sample values (value shapes for personal
fields), a mapping built from a person's choices (columns and code maps, never YAML), and a
preview of the validation on the sample (nothing stored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joinedup.config import Settings
from joinedup.errors import InvalidInput
from joinedup.ingest.compile import compile_ingest_sql
from joinedup.ingest.errors import IngestError
from joinedup.ingest.evidence import value_evidence
from joinedup.ingest.mapping import FORMAT, PERIOD_PLACEHOLDER, MappingError, parse_mapping
from joinedup.ingest.report import build_report, value_shape
from joinedup.ingest.suggest import Suggestion
from joinedup.standards import load_schema, redactable_fields

PERIOD_EXAMPLE = "2026-10"  # a reporting period, to test which fields could take one
SAMPLES_SHOWN = 3
SAMPLE_CHARS = 40
CODE_VALUES_SHOWN = 12  # distinct source values offered a code each


@dataclass
class FieldRow:
    """One standard field as the guided page shows it."""

    name: str
    title: str
    required: bool
    personal: bool
    suggestion: Suggestion
    samples: list[str] = field(default_factory=list)
    enum: list[str] = field(default_factory=list)
    codes: list[tuple[str, str]] = field(default_factory=list)  # (source value, code or "")
    period: list[tuple[str, str]] = field(default_factory=list)  # (constant, label) choices


def period_choices(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``{period}`` constants a field could take instead of a column, for exports that do
    not carry their reporting period: a text field whose pattern accepts a period like
    ``2026-10`` takes the period itself, a date field the period's first day."""
    if spec.get("type") == "date":
        return [(f"{PERIOD_PLACEHOLDER}-01", "First day of each upload's reporting period")]
    pattern = spec.get("constraints", {}).get("pattern")
    if spec.get("type") == "string" and pattern and re.fullmatch(pattern, PERIOD_EXAMPLE):
        return [(PERIOD_PLACEHOLDER, "The reporting period given with each upload")]
    return []


def shown_values(spec: dict[str, Any], values: list[str]) -> list[str]:
    """A few distinct values of a column, as shapes (``Aaaa 99``) for a personal field."""
    out: list[str] = []
    for value in values:
        text = value.strip()[:SAMPLE_CHARS]
        if spec.get("x-joinedup-personal") is True:
            text = value_shape(text)
        if text and text not in out:
            out.append(text)
        if len(out) == SAMPLES_SHOWN:
            break
    return out


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))[:CODE_VALUES_SHOWN]


def field_rows(
    standard: str, sample: dict[str, list[str]], suggestions: list[Suggestion]
) -> list[FieldRow]:
    """Every field of ``standard``, its suggestion, sample values and (for code lists) codes."""
    by_field = {s.field: s for s in suggestions}
    rows = []
    for spec in load_schema(standard)["fields"]:
        s = by_field[spec["name"]]
        values = sample.get(s.column, []) if s.column else []
        row = FieldRow(
            spec["name"],
            str(spec.get("title", spec["name"])),
            bool(spec.get("constraints", {}).get("required")),
            spec.get("x-joinedup-personal") is True,
            s,
            shown_values(spec, values),
            [str(v) for v in spec.get("constraints", {}).get("enum", [])],
            period=period_choices(spec),
        )
        if row.enum and s.column:
            codes = dict(s.options.get("codes", {}))
            case = s.options.get("case")
            for value in _distinct(values):
                code = codes.get(value) or (value if value in row.enum else "")
                if not code and case:
                    code = value.lower() if case == "lower" else value.upper()
                row.codes.append((value, code if code in row.enum else ""))
        rows.append(row)
    return rows


def mapping_from_choices(
    standard: str,
    sample: dict[str, list[str]],
    columns: dict[str, str],
    codes: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """A mapping from a person's choices: a column per field (options read from its values,
    as the suggestion engine reads them) and, for code-list fields, a code per source value."""
    fields: dict[str, Any] = {}
    for spec in load_schema(standard)["fields"]:
        name = spec["name"]
        column = columns.get(name)
        if not column:
            continue
        if column in dict(period_choices(spec)):  # filled from each upload's period
            fields[name] = {"constant": column}
            continue
        values = [v.strip() for v in sample.get(column, []) if v and v.strip()]
        options = dict(value_evidence(spec, values).options)
        if spec.get("constraints", {}).get("enum") and name in codes:
            options.pop("case", None)
            options.pop("codes", None)
            chosen = {src: code for src, code in codes[name].items() if code and code != src}
            if chosen:
                options["codes"] = chosen
        fields[name] = {"column": column, **options} if options else column
    return {"format": FORMAT, "standard": standard, "fields": fields}


def check_choices(mapping: dict[str, Any]) -> dict[str, str]:
    """Problems a person must fix before saving, by field: required fields with no column."""
    standard = mapping["standard"]
    return {
        spec["name"]: f"Select the column for {spec.get('title', spec['name'])} (required)"
        for spec in load_schema(standard)["fields"]
        if spec.get("constraints", {}).get("required") and spec["name"] not in mapping["fields"]
    }


def preview(
    settings: Settings,
    path: Path,
    mapping: dict[str, Any],
    name: str,
    today: str,
    period: str | None = None,
) -> dict[str, Any]:
    """The validation report of ``mapping`` on the file at ``path``: nothing is stored. A
    mapping that fills a field from the reporting period (``{period}``) is previewed with
    ``period``, as an upload of the sample for that period would be."""
    from joinedup.ingest.readers import read_source
    from joinedup.store import duckdb_session

    try:
        checked = parse_mapping(mapping, name)
        if checked.needs_period:
            if not period:
                raise InvalidInput(
                    "Enter the reporting period of the sample, for example 2026-10: the "
                    "mapping fills a field from it",
                    field="period",
                )
            checked = checked.with_period(period)
    except MappingError as exc:
        raise InvalidInput(str(exc), field="mapping") from None
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with duckdb_session(settings) as con:
        info = read_source(con, path, "src", tmp_dir=settings.tmp_dir, name=name)
        missing = checked.missing_columns(info.columns)
        if missing:
            raise IngestError(name, 1, "missing_column", f"no column(s) {', '.join(missing)}")
        con.execute(f"CREATE TEMP TABLE checked AS {compile_ingest_sql(checked, 'src', today)}")
        return build_report(con, "checked", redactable_fields(checked.standard))
