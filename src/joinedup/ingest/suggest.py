"""Draft a mapping from a file's headers and a sample of its values: the one suggestion engine
the command line (``joinedup mapping suggest``), the API and the guided mapping page share.

Every (field, column) pair is scored: how much the header reads like the field's names
(:mod:`joinedup.ingest.headers`, with the sector's vocabulary) plus what the values say
(:mod:`joinedup.ingest.evidence`). Columns are then given to fields best pair first, each column
to one field (a ``SURNAME, Forename`` column may fill several name parts). A required field
is never left unmapped while a plausible column is free, and takes by elimination the one
column left unmapped whose values fit it. Each field gets a confidence; a
low one, or a problem in the values, marks the field for a person to check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from joinedup.config import Settings
from joinedup.ingest.evidence import Evidence, value_evidence
from joinedup.ingest.headers import field_names_for, header_similarity, numbers_disagree
from joinedup.ingest.mapping import FORMAT
from joinedup.standards import load_schema

MIN_SCORE = 0.75  # header and value evidence together, for an optional field
PLAUSIBLE = 0.4  # the least a free column needs to fill a required field
REVIEW_BELOW = 0.8  # a confidence below this marks the field for a person to check
SHAREABLE = ("split_name", "address_part")  # options under which one column fills many fields


@dataclass
class Suggestion:
    """One standard field: the column proposed, how sure, why, and what to check."""

    field: str
    column: str | None
    score: float
    options: dict[str, Any]
    why: str
    required: bool = False
    review: bool = False
    problems: list[str] = dc_field(default_factory=list)

    @property
    def confidence(self) -> str:
        if self.column is None:
            return "none"
        return "high" if self.score >= 0.9 else "medium" if self.score >= REVIEW_BELOW else "low"


@dataclass
class _Pair:
    spec: dict[str, Any]
    column: str
    header: float
    name: str
    evidence: Evidence

    @property
    def score(self) -> float:
        return max(0.0, min(1.0, self.header + self.evidence.score))


def _pairs(
    standard: str, schema: dict[str, Any], columns: list[str], sample: dict[str, list[str]]
) -> list[_Pair]:
    pairs = []
    keys = set(schema.get("primaryKey") or [])
    for spec in schema["fields"]:
        names = field_names_for(standard, spec)
        key = keys == {spec["name"]} or bool(spec.get("constraints", {}).get("unique"))
        for column in columns:
            header, name = header_similarity(names, column)
            if numbers_disagree(spec, column):
                header *= 0.5  # address line 3 is not address line 1
            values = [v.strip() for v in sample.get(column, []) if v and v.strip()]
            pairs.append(_Pair(spec, column, header, name, value_evidence(spec, values, key)))
    return pairs


def _suggestion(pair: _Pair, required: bool) -> Suggestion:
    why = f"header {pair.header:.2f}"
    if pair.name:
        why += f" (like {pair.name!r})"
    why += f"; {pair.evidence.why}"
    score = round(pair.score, 2)
    return Suggestion(
        pair.spec["name"],
        pair.column,
        score,
        dict(pair.evidence.options),
        why,
        required,
        score < REVIEW_BELOW or bool(pair.evidence.problems),
        list(pair.evidence.problems),
    )


def suggest_mapping(
    standard: str, columns: list[str], sample: dict[str, list[str]], min_score: float = MIN_SCORE
) -> tuple[dict[str, Any], list[Suggestion]]:
    """A draft mapping dict and, in the standard's field order, a suggestion per field."""
    schema = load_schema(standard)
    required = {f["name"] for f in schema["fields"] if f.get("constraints", {}).get("required")}
    pairs = sorted(
        _pairs(standard, schema, columns, sample),
        key=lambda p: (p.score, p.header, p.spec["name"] in required),
        reverse=True,
    )
    chosen: dict[str, Suggestion] = {}
    used: set[str] = set()

    def take(pair: _Pair) -> None:
        chosen[pair.spec["name"]] = _suggestion(pair, pair.spec["name"] in required)
        if not any(k in pair.evidence.options for k in SHAREABLE):
            used.add(pair.column)

    for pair in pairs:
        name = pair.spec["name"]
        if name in chosen or pair.score < min_score:
            continue
        if pair.column in used and not any(k in pair.evidence.options for k in SHAREABLE):
            continue
        take(pair)
    # Required fields: the best plausible column, free or an optional field's; the header
    # counts for more here, since the values alone may fit many columns.
    for pair in sorted(pairs, key=lambda p: p.score + 0.5 * p.header, reverse=True):
        name = pair.spec["name"]
        if name not in required or name in chosen:
            continue
        if pair.score < PLAUSIBLE and pair.header < 0.6:
            continue
        holder = next((s for s in chosen.values() if s.column == pair.column), None)
        if holder is not None and holder.required:
            continue
        if holder is not None:
            del chosen[holder.field]
        take(pair)
        chosen[name].review = True
    _by_elimination(schema, pairs, chosen, take)
    suggestions = []
    for spec in schema["fields"]:
        name = spec["name"]
        if name in chosen:
            suggestions.append(chosen[name])
        else:
            suggestions.append(
                Suggestion(
                    name, None, 0.0, {}, "no likely column", name in required, name in required
                )
            )
    return draft_from(standard, suggestions), suggestions


def _by_elimination(
    schema: dict[str, Any],
    pairs: list[_Pair],
    chosen: dict[str, Suggestion],
    take: Callable[[_Pair], None],
) -> None:
    """A required field still without a column takes the one column no field has whose
    values fit it (none contradicts it), when there is exactly one: marked for review. A
    column whose header reads more like another field's (``Address 3``) is that field's."""
    for spec in schema["fields"]:
        name = spec["name"]
        if not spec.get("constraints", {}).get("required") or name in chosen:
            continue
        held = {s.column for s in chosen.values()}
        fits = [
            p for p in pairs
            if p.spec["name"] == name and p.column not in held and p.evidence.score >= 0
            and not _reads_as_another(p, pairs)
        ]  # fmt: skip
        if len(fits) == 1:
            take(fits[0])
            chosen[name].review = True
            chosen[name].why += "; the only column left whose values fit"


def _reads_as_another(pair: _Pair, pairs: list[_Pair]) -> bool:
    other = max(
        (p.header for p in pairs if p.column == pair.column and p.spec is not pair.spec),
        default=0.0,
    )
    return other >= 0.5 and other > pair.header


def draft_from(standard: str, suggestions: list[Suggestion]) -> dict[str, Any]:
    """The mapping dict the suggestions make (fields with no column left out)."""
    fields: dict[str, Any] = {}
    for s in suggestions:
        if s.column is None:
            continue
        fields[s.field] = {"column": s.column, **s.options} if s.options else s.column
    return {"format": FORMAT, "standard": standard, "fields": fields}


def render_yaml(draft: dict[str, Any], suggestions: list[Suggestion], source: str) -> str:
    """The draft as YAML with a comment block explaining every choice and every gap."""
    lines = [
        f"# Draft mapping for {source}, suggested by `joinedup mapping suggest`.",
        "# Fields marked CHECK have a low confidence or a problem in their values; fields with",
        "# no likely column are listed at the end.",
    ]
    body = yaml.safe_dump(draft, sort_keys=False, allow_unicode=True)
    lines.append(body.rstrip())
    lines.append("# Why (confidence 0-1):")
    for s in suggestions:
        target = s.column if s.column is not None else "(not mapped)"
        mark = "CHECK " if s.review else ""
        required = " (required)" if s.required else ""
        lines.append(f"#   {mark}{s.field}{required} <- {target} [{s.score:.2f}]: {s.why}")
        lines += [f"#       problem: {p}" for p in s.problems]
    return "\n".join(lines) + "\n"


@dataclass
class DraftMapping:
    """A suggested mapping for one file: the YAML text and the fields it fills."""

    yaml: str
    draft: dict[str, Any]
    suggestions: list[Suggestion]
    columns: list[str] = dc_field(default_factory=list)
    sample: dict[str, list[str]] = dc_field(default_factory=dict, repr=False)


def read_sample(
    settings: Settings, path: Path, sample_rows: int = 500, name: str | None = None
) -> tuple[list[str], dict[str, list[str]]]:
    """The columns of ``path`` (any format ingest reads) and up to ``sample_rows`` values each."""
    from joinedup.ingest.readers import read_source
    from joinedup.store import duckdb_session

    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    with duckdb_session(settings) as con:
        info = read_source(con, path, "src", tmp_dir=settings.tmp_dir, name=name)
        return info.columns, sample_of(con, "src", info.columns, sample_rows)


def sample_of(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: int = 500
) -> dict[str, list[str]]:
    """Up to ``rows`` non-empty values of each column of a read source table."""
    arrow = con.sql(f"SELECT * EXCLUDE (_row) FROM {table} LIMIT {int(rows)}").to_arrow_table()
    return {c: [v for v in arrow.column(c).to_pylist() if v] for c in columns}


def suggest_for_file(
    settings: Settings, path: Path, standard: str, sample_rows: int = 500, name: str | None = None
) -> DraftMapping:
    """Read a sample of ``path`` (any format ingest reads) and draft a mapping to ``standard``.

    Raises :class:`joinedup.ingest.errors.IngestError` when the file cannot be read and
    :class:`joinedup.standards.UnknownStandardError` for an unknown standard.
    """
    load_schema(standard)
    columns, sample = read_sample(settings, path, sample_rows, name)
    draft, suggestions = suggest_mapping(standard, columns, sample)
    text = render_yaml(draft, suggestions, name or path.name)
    return DraftMapping(text, draft, suggestions, columns, sample)
