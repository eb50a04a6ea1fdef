"""Draft a mapping from a file's headers and a sample of its values.

For each field of the standard the best-scoring column wins: header similarity (field name,
title and common council header variants) plus evidence from the values (dates and their
format, postcodes, NHS numbers, UPNs, ``SURNAME, Forename`` names, money, yes/no flags). The
draft is YAML with a comment per field saying why, for a person to check and finish.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from joinedup.config import Settings
from joinedup.ingest.mapping import FORMAT
from joinedup.standards import load_schema
from joinedup.standards.identifiers import is_valid_nhs_number, is_valid_upn, normalise_postcode

# Header variants seen in council exports, by standard field (lower case, words only).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "source_record_id": (
        "id",
        "person id",
        "person ref",
        "client id",
        "pupil id",
        "ref",
        "reference",
        "record id",
        "customer ref",
        "person number",
    ),
    "given_name": ("forename", "first name", "firstname", "given name", "fname", "christian name"),
    "middle_names": ("middle name", "middle names", "other names", "second name"),
    "family_name": ("surname", "last name", "lastname", "family name", "lname"),
    "date_of_birth": ("dob", "date of birth", "birth date", "birthdate", "d o b"),
    "sex": ("gender", "sex"),
    "address_line_1": ("address", "address 1", "address line 1", "addr1", "street", "house"),
    "address_line_2": ("address 2", "address line 2", "addr2", "locality"),
    "town": ("town", "city", "post town"),
    "postcode": ("postcode", "post code", "pcode", "postal code", "zip"),
    "uprn": ("uprn", "property ref", "property reference"),
    "nhs_number": ("nhs", "nhs no", "nhs number"),
    "upn": ("upn", "unique pupil number", "pupil number"),
    "ni_number": ("ni", "nino", "ni number", "national insurance", "ni no"),
    "phone": ("phone", "telephone", "tel", "mobile"),
    "email": ("email", "e mail", "email address"),
}

_DATE_FORMATS = (
    ("%d/%m/%Y", re.compile(r"^\d{2}/\d{2}/\d{4}$")),
    ("iso", re.compile(r"^\d{4}-\d{2}-\d{2}")),
    ("%d-%m-%Y", re.compile(r"^\d{2}-\d{2}-\d{4}$")),
    ("%Y%m%d", re.compile(r"^(19|20)\d{6}$")),
    ("excel_serial", re.compile(r"^[1-9]\d{4}(\.0+)?$")),
)
_COMMA_NAME = re.compile(r"^[A-Z'\- ]+,\s*\S")
_MONEY = re.compile(r"^\(?-?£?-?[\d,]+(\.\d{1,2})?\)?$")


@dataclass
class Suggestion:
    field: str
    column: str | None
    score: float
    options: dict[str, Any]
    why: str


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()))


def _header_score(field: dict[str, Any], header: str) -> float:
    h = _words(header)
    names = {_words(field["name"]), _words(field.get("title", ""))}
    names |= set(SYNONYMS.get(field["name"], ()))
    if h in names:
        return 1.0
    best = max(difflib.SequenceMatcher(None, h, n).ratio() for n in names if n)
    tokens = set(h.split())
    if any(n and set(n.split()) <= tokens for n in names):
        best = max(best, 0.85)  # e.g. "Client Ref" contains the variant "ref"
    return best


def _share(values: list[str], test: Any) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _value_evidence(field: dict[str, Any], values: list[str]) -> tuple[float, dict[str, Any], str]:
    """How well the values fit the field, options to read them, and a reason."""
    name, kind = field["name"], field.get("type", "string")
    if not values:
        return 0.0, {}, "no values in the sample"
    if kind == "date":
        for fmt, pattern in _DATE_FORMATS:
            share = _share(values, lambda v, p=pattern: bool(p.match(v)))
            if share >= 0.8:
                return 0.5, {"date_formats": [fmt]}, f"{share:.0%} of values look like {fmt} dates"
        return -0.5, {}, "values do not look like dates"
    checks = {
        "postcode": lambda v: normalise_postcode(v) is not None,
        "nhs_number": is_valid_nhs_number,
        "upn": is_valid_upn,
    }
    if name in checks:
        share = _share(values, checks[name])
        return (0.6 if share >= 0.8 else -0.3), {}, f"{share:.0%} of values are valid {name}s"
    if name in {"given_name", "family_name", "middle_names"}:
        share = _share(values, lambda v: bool(_COMMA_NAME.match(v)))
        if share >= 0.8:
            part = {"given_name": "given", "family_name": "family", "middle_names": "middle"}[name]
            return (
                0.3,
                {"split_name": "surname_comma_forenames", "part": part},
                (f"{share:.0%} of values are 'SURNAME, Forename'"),
            )
    if kind == "number":
        share = _share(values, lambda v: bool(_MONEY.match(v)))
        opts = {"number": {"currency": True}} if any("£" in v or "," in v for v in values) else {}
        return (0.3 if share >= 0.8 else -0.3), opts, f"{share:.0%} of values are numbers"
    if kind == "integer":
        share = _share(values, lambda v: v.isdigit())
        return (0.2 if share >= 0.8 else -0.4), {}, f"{share:.0%} of values are whole numbers"
    if kind == "boolean":
        distinct = {v.upper() for v in values}
        if distinct <= {"Y", "N", "YES", "NO", "TRUE", "FALSE", "1", "0", "T", "F"}:
            return 0.3, {}, "values are yes/no flags"
        return -0.3, {}, "values are not yes/no flags"
    enum = field.get("constraints", {}).get("enum")
    if enum:
        share = _share(values, lambda v: v in enum or v.upper() in enum)
        return (0.3 if share >= 0.8 else 0.0), {}, f"{share:.0%} of values are in the code list"
    return 0.0, {}, "text"


def suggest_mapping(
    standard: str, columns: list[str], sample: dict[str, list[str]], min_score: float = 0.75
) -> tuple[dict[str, Any], list[Suggestion]]:
    """A draft mapping dict and the reasoning for each field."""
    schema = load_schema(standard)
    suggestions: list[Suggestion] = []
    for field in schema["fields"]:
        best: Suggestion | None = None
        for column in columns:
            values = [v for v in sample.get(column, []) if v]
            header = _header_score(field, column)
            evidence, options, why = _value_evidence(field, values)
            score = header + evidence
            if best is None or score > best.score:
                best = Suggestion(
                    field["name"], column, score, options, f"header {header:.2f}; {why}"
                )
        if best is None or best.score < min_score:
            suggestions.append(Suggestion(field["name"], None, 0.0, {}, "no likely column"))
            continue
        suggestions.append(best)
    fields: dict[str, Any] = {}
    for s in suggestions:
        if s.column is None:
            continue
        fields[s.field] = {"column": s.column, **s.options} if s.options else s.column
    return {"format": FORMAT, "standard": standard, "fields": fields}, suggestions


def render_yaml(draft: dict[str, Any], suggestions: list[Suggestion], source: str) -> str:
    """The draft as YAML with a comment block explaining every choice and every gap."""
    lines = [
        f"# Draft mapping for {source}, suggested by `joinedup mapping suggest`.",
        "# Check every field; fields with no likely column are listed at the end.",
    ]
    body = yaml.safe_dump(draft, sort_keys=False, allow_unicode=True)
    lines.append(body.rstrip())
    lines.append("# Why:")
    for s in suggestions:
        target = s.column if s.column is not None else "(not mapped)"
        lines.append(f"#   {s.field} <- {target}: {s.why}")
    return "\n".join(lines) + "\n"


@dataclass
class DraftMapping:
    """A suggested mapping for one file: the YAML text and the fields it fills."""

    yaml: str
    draft: dict[str, Any]
    suggestions: list[Suggestion]


def suggest_for_file(
    settings: Settings, path: Path, standard: str, sample_rows: int = 500, name: str | None = None
) -> DraftMapping:
    """Read a sample of ``path`` (any format ingest reads) and draft a mapping to ``standard``.

    Raises :class:`joinedup.ingest.errors.IngestError` when the file cannot be read and
    :class:`joinedup.standards.UnknownStandardError` for an unknown standard.
    """
    from joinedup.ingest.readers import read_source
    from joinedup.store import duckdb_session

    load_schema(standard)
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with duckdb_session(settings) as con:
        info = read_source(con, path, "src", tmp_dir=settings.tmp_dir, name=name)
        table = con.sql(
            f"SELECT * EXCLUDE (_row) FROM src LIMIT {int(sample_rows)}"
        ).to_arrow_table()
    sample = {c: [v for v in table.column(c).to_pylist() if v] for c in info.columns}
    draft, suggestions = suggest_mapping(standard, info.columns, sample)
    return DraftMapping(render_yaml(draft, suggestions, name or path.name), draft, suggestions)
