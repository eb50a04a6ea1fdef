"""The subject access document in words: what a resident reads, not machine values.

The document keeps the values as they are held (its JSON is for machines too); these add what
a person reads beside them: each flag's reason sentence (from its rule's template, with other
people's values shown as "[not shared]"), each value's label and text, and each record's
fields by their titles in the standard and their values by their meaning (code lists, money,
dates, Yes/No), never ``None`` or a field id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.models import Organisation
from joinedup.standards import sentences as reasons
from joinedup.standards.readable import field_label, readable_value


def organisation_names(session: Session) -> dict[str, str]:
    """Organisation codes and GSS codes → names."""
    names: dict[str, str] = {}
    for code, name, gss in session.execute(
        select(Organisation.code, Organisation.name, Organisation.gss_code)
    ):
        names[code] = name
        if gss:
            names[gss] = name
    return names


def describe_flag(
    flag: dict[str, Any],
    row: dict[str, Any],
    rule: dict[str, Any],
    hidden_aliases: set[str],
    names: dict[str, str],
) -> None:
    """Add ``reason`` and ``organisation_name`` to ``flag``, and ``label``/``text`` to each of
    its values. ``row``: the flag as stored; ``hidden_aliases``: sources that are another
    person's records (their values and organisations are not shared)."""
    standards: dict[str, str] = rule.get("standards") or {}
    flag["organisation_name"] = names.get(flag["organisation"], flag["organisation"])
    shown_values = {(v["field"], v["organisation"], v["dataset"]): v for v in flag["values"]}
    seen: list[reasons.Shown] = []
    for v in row["values"] or []:
        kept = shown_values.get((v["field"], v["organisation"], v["dataset"]))
        visible = v["alias"] not in hidden_aliases and kept is not None and kept["withheld"] is None
        seen.append(reasons.Shown(v["alias"], v["field"], v["value"] if visible else None, visible))
        if kept is not None:
            standard = standards.get(v["alias"])
            kept["label"] = reasons.label(standard, v["field"])
            kept["text"] = (
                reasons.value_text(standard, v["field"], kept["value"], names)
                if kept["withheld"] is None
                else f"Not shared: {kept['withheld']}"
            )
    template = str(rule.get("reason") or "")
    organisations = {
        r["alias"]: r["organisation"]
        for r in row["records"] or []
        if r["alias"] not in hidden_aliases
    }
    flag["reason"] = (
        reasons.render(template, seen, organisations, standards, names, row["as_at"])
        if template
        else None
    )


def record_fields(record: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """Each row of a record as ``(label, text)`` pairs, fields not recorded left out."""
    standard = record.get("standard")
    return [
        [
            (field_label(standard, name), readable_value(standard, name, value))
            for name, value in row.items()
            if value is not None and str(value).strip() != ""
        ]
        for row in record.get("rows") or []
    ]
