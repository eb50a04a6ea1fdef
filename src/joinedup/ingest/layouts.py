"""Layouts remembered: a data owner's accepted mapping, kept with the layout's fingerprint.

The fingerprint is the sha256 of the file's normalised header list (lower-case words, sorted,
so neither the order of the columns nor their case or spacing matters). The next file for the
same organisation and dataset with the same layout is ingested with the remembered mapping and
no mapping work. A drifted layout (a column renamed, added, dropped or misspelt) is mapped from
the last accepted mapping: kept columns as they were, a dropped column to the added column most
like it (by name, and by the field it filled), and a required field left without a column to
the suggestion engine's choice. The drift is shown as a diff of columns for the data owner to
confirm once; confirming remembers the new layout.

Only header names are compared, kept and shown: never a value from the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import IngestLayout, Organisation
from joinedup.config import Settings
from joinedup.errors import InvalidInput, JoinedupError, Missing
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.ingest.headers import field_names_for, header_similarity, phrase_similarity
from joinedup.ingest.mapping import PERIOD_PLACEHOLDER, Mapping, MappingError, parse_mapping
from joinedup.ingest.suggest import read_sample, suggest_mapping
from joinedup.standards import load_schema, required_fields
from joinedup.standards.vocab import header_key

RENAME_AT_LEAST = 0.6  # how alike a dropped and an added column must be to count as renamed


def fingerprint(columns: list[str]) -> str:
    """The layout's fingerprint: sha256 of its normalised, sorted header list."""
    keys = sorted(header_key(c) or c.strip().lower() for c in columns)
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()


@dataclass
class LayoutDiff:
    """How a file's columns differ from the last accepted layout's."""

    renamed: list[tuple[str, str]] = field(default_factory=list)  # (before, now)
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"renamed: {old} → {new}" for old, new in self.renamed]
        out += [f"added: {c}" for c in self.added]
        out += [f"dropped: {c}" for c in self.dropped]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "renamed": [{"before": a, "now": b} for a, b in self.renamed],
            "added": self.added,
            "dropped": self.dropped,
        }


@dataclass
class LayoutMatch:
    """What the hub remembers for a file: ``known``, ``drifted`` or ``new`` (nothing)."""

    status: str
    fingerprint: str
    standard: str | None = None
    mapping: dict[str, Any] | None = None
    diff: LayoutDiff | None = None

    @property
    def needs_period(self) -> bool:
        """True when the mapping fills a field from the upload's reporting period."""
        fields = (self.mapping or {}).get("fields", {})
        return any(
            isinstance(spec, dict) and PERIOD_PLACEHOLDER in str(spec.get("constant", ""))
            for spec in fields.values()
        )

    def as_mapping(self, name: str) -> Mapping:
        assert self.mapping is not None
        return parse_mapping(self.mapping, name)


def _organisation(session: Session, code: str) -> Organisation:
    org = session.scalars(select(Organisation).where(Organisation.code == code)).first()
    if org is None:
        raise Missing(f"No organisation {code!r}")
    return org


def _layouts(session: Session, org_id: int, dataset: str) -> list[IngestLayout]:
    query = select(IngestLayout).where(
        IngestLayout.organisation_id == org_id, IngestLayout.dataset == dataset
    )
    return list(session.scalars(query.order_by(IngestLayout.accepted_at, IngestLayout.id)))


def remembered_standard(session: Session, org_id: int, dataset: str) -> str | None:
    """The standard of the dataset's remembered layouts, if any."""
    layouts = _layouts(session, org_id, dataset)
    return layouts[-1].standard if layouts else None


def _columns_in(spec: Any) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, dict):
        return [spec["column"]] if "column" in spec else list(spec.get("columns", []))
    return []


def _rename(spec: Any, renames: dict[str, str]) -> Any:
    if isinstance(spec, str):
        return renames[spec]
    out = dict(spec)
    if "column" in out:
        out["column"] = renames[out["column"]]
    if "columns" in out:
        out["columns"] = [renames[c] for c in out["columns"]]
    return out


def _translate(
    standard: str,
    before: list[str],
    mapping: dict[str, Any],
    columns: list[str],
    sample: dict[str, list[str]],
) -> tuple[dict[str, Any], LayoutDiff]:
    """The last accepted mapping, carried over to ``columns``, and the diff of columns."""
    now_by_key = {header_key(c): c for c in columns}
    renames = {c: now_by_key[header_key(c)] for c in before if header_key(c) in now_by_key}
    dropped = [c for c in before if c not in renames]
    added = [c for c in columns if c not in renames.values()]
    filled_by = {c: target for target, spec in mapping["fields"].items() for c in _columns_in(spec)}
    specs = {f["name"]: f for f in load_schema(standard)["fields"]}
    scored = []
    for old in dropped:
        names = field_names_for(standard, specs[filled_by[old]]) if old in filled_by else ()
        for new in added:
            score = max(phrase_similarity(new, old), header_similarity(names, new)[0])
            scored.append((score, old, new))
    diff = LayoutDiff()
    for score, old, new in sorted(scored, reverse=True):
        if score >= RENAME_AT_LEAST and old not in renames and new not in renames.values():
            renames[old] = new
            diff.renamed.append((old, new))
    diff.dropped = [c for c in dropped if c not in renames]
    diff.added = [c for c in added if c not in renames.values()]
    fields = {
        target: _rename(spec, renames)
        for target, spec in mapping["fields"].items()
        if all(c in renames for c in _columns_in(spec))
    }
    missing = [f for f in required_fields(standard) if f not in fields]
    if missing:
        used = {c for spec in fields.values() for c in _columns_in(spec)}
        _, suggestions = suggest_mapping(standard, columns, sample)
        for s in suggestions:
            if s.field in missing and s.column is not None and s.column not in used:
                fields[s.field] = {"column": s.column, **s.options} if s.options else s.column
    return {**mapping, "fields": fields}, diff


def match_layout(
    settings: Settings,
    organisation: str,
    dataset: str,
    columns: list[str],
    sample: dict[str, list[str]] | None = None,
) -> LayoutMatch:
    """What the hub remembers for a file with ``columns`` in ``organisation``/``dataset``."""
    print_ = fingerprint(columns)
    with session_scope(settings) as session:
        org = _organisation(session, organisation)
        layouts = _layouts(session, org.id, dataset)
        if not layouts:
            return LayoutMatch("new", print_)
        same = next((x for x in layouts if x.fingerprint == print_), None)
        latest = same or layouts[-1]
        standard, before, mapping = latest.standard, list(latest.columns), dict(latest.mapping)
    translated, diff = _translate(standard, before, mapping, columns, sample or {})
    if same is not None:
        return LayoutMatch("known", print_, standard, translated)
    return LayoutMatch("drifted", print_, standard, translated, diff)


def layout_of_file(
    settings: Settings, organisation: str, dataset: str, path: Path, name: str
) -> LayoutMatch | None:
    """What the hub remembers for the file at ``path`` (checked before an upload is ingested:
    a drifted layout is confirmed once first), or ``None`` for a new layout or a file that
    cannot be read (the ingest then reports why, naming file, row and rule)."""
    try:
        columns, sample = read_sample(settings, path, 500, name)
        match = match_layout(settings, organisation, dataset, columns, sample)
    except JoinedupError:
        return None
    return None if match.status == "new" else match


def drift_message(match: LayoutMatch) -> str:
    """What changed and how to confirm it, naming columns only (never a value)."""
    changes = "; ".join(match.diff.lines() if match.diff else [])
    return (
        f"the columns changed since the last accepted layout ({changes}); check the mapping "
        "carried over and confirm it once (the upload page's confirm button, "
        "confirm_layout=true in the API, or joinedup ingest --confirm-layout)"
    )


def remember_layout(
    settings: Settings,
    organisation: str,
    dataset: str,
    columns: list[str],
    mapping: dict[str, Any],
    *,
    actor: str,
    user_id: int | None = None,
) -> str:
    """Keep ``mapping`` (checked) as the accepted mapping for this layout; its fingerprint."""
    try:
        checked = parse_mapping(mapping, f"mapping for {organisation}/{dataset}")
    except MappingError as exc:
        raise InvalidInput(str(exc), field="mapping") from None
    missing = checked.missing_columns(columns)
    if missing:
        raise InvalidInput(f"The mapping names columns the file lacks: {', '.join(missing)}")
    print_ = fingerprint(columns)
    with session_scope(settings) as session:
        org = _organisation(session, organisation)
        row = session.scalars(
            select(IngestLayout).where(
                IngestLayout.organisation_id == org.id,
                IngestLayout.dataset == dataset,
                IngestLayout.fingerprint == print_,
            )
        ).first()
        if row is None:
            row = IngestLayout(organisation_id=org.id, dataset=dataset, fingerprint=print_)
            session.add(row)
        row.standard, row.columns, row.mapping = checked.standard, list(columns), dict(mapping)
        row.accepted_by, row.accepted_by_id = actor, user_id
        session.flush()
        append_event(
            session,
            actor=actor,
            actor_user_id=user_id,
            organisation_id=org.id,
            action=AuditAction.INGEST_LAYOUT_ACCEPT,
            target_type="ingest_layout",
            target_id=f"{organisation}/{dataset}/{print_[:12]}",
            details={"columns": len(columns), "fields": len(checked.fields)},
        )
        session.commit()
    return print_
