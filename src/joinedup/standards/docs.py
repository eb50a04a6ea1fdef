"""Render the field reference of docs/standards.md from the shipped schemas.

The reference part of docs/standards.md sits between two marker comments and is generated, so
the document cannot drift from the JSON (a test compares them). After changing a schema run::

    .venv/bin/python -m joinedup.standards.docs docs/standards.md
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from joinedup.standards.checks import FIELD_CHECKS, ROW_CHECKS
from joinedup.standards.registry import (
    BASE_KEY,
    CHECK_KEY,
    CODES_KEY,
    LINKAGE_KEY,
    PERSONAL_KEY,
    ROW_CHECKS_KEY,
    SPECIAL_KEY,
    list_standards,
    load_schema,
)

BEGIN = "<!-- BEGIN GENERATED REFERENCE: python -m joinedup.standards.docs docs/standards.md -->"
END = "<!-- END GENERATED REFERENCE -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _constraints(item: dict[str, Any]) -> str:
    c = item.get("constraints", {})
    parts: list[str] = []
    if item.get("format") and item["format"] != "default":
        parts.append(f"format {item['format']}")
    if "pattern" in c:
        parts.append(f"pattern `{c['pattern']}`")
    if "enum" in c:
        codes = ", ".join(f"`{v}`" for v in c["enum"])
        parts.append(f"one of {codes}")
    if "minimum" in c:
        parts.append(f"≥ {c['minimum']}")
    if "maximum" in c:
        parts.append(f"≤ {c['maximum']}")
    if "minLength" in c:
        parts.append(f"length ≥ {c['minLength']}")
    if "maxLength" in c:
        parts.append(f"length ≤ {c['maxLength']}")
    if c.get("unique"):
        parts.append("unique")
    if item.get(CHECK_KEY):
        parts.append(f"check `{item[CHECK_KEY]}`")
    if item.get("x-joinedup-unit"):
        parts.append(f"unit {item['x-joinedup-unit']}")
    return _cell("; ".join(parts))


def _personal(item: dict[str, Any]) -> str:
    if item.get(SPECIAL_KEY):
        return "yes, Art. 9"
    return "yes" if item.get(PERSONAL_KEY) else "no"


def render_standard(name: str) -> str:
    """Markdown for one standard: summary, field table, code lists, keys and row checks."""
    d = load_schema(name)
    out = [f"### `{name}`: {d.get('title', name)}", "", d.get("description", ""), ""]
    base = d.get(BASE_KEY)
    own = d["fields"]
    if base:
        base_names = {f["name"] for f in load_schema(base)["fields"]}
        out += [f"Extends `{base}`: its fields come first, then these.", ""]
        own = [f for f in own if f["name"] not in base_names]
    out += [
        "| Field | Type | Required | Constraints | Personal | Linkage | Meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for item in own:
        required = "yes" if item.get("constraints", {}).get("required") else ""
        linkage = "yes" if item.get(LINKAGE_KEY) else ""
        meaning = _cell(f"**{item['title']}.** {item['description']}")
        out.append(
            f"| `{item['name']}` | {item['type']} | {required} | {_constraints(item)} | "
            f"{_personal(item)} | {linkage} | {meaning} |"
        )
    out.append("")
    pk = d.get("primaryKey")
    out.append(f"Primary key: {', '.join(f'`{k}`' for k in pk)}." if pk else "Primary key: none.")
    out.append("")
    for spec in d.get(ROW_CHECKS_KEY, []):
        fields = ROW_CHECKS[spec["check"]].fields_of(spec)
        detail = ", ".join(f"`{f}`" for f in fields)
        extra = f" in {spec['in']}" if "in" in spec else ""
        out.append(f"- Row check `{spec['check']}` on {detail}{extra}.")
    if d.get(ROW_CHECKS_KEY):
        out.append("")
    for item in own:
        codes = item.get(CODES_KEY)
        if not codes:
            continue
        out += [f"Code list `{item['name']}`:", "", "| Code | Meaning |", "|---|---|"]
        out += [f"| `{code}` | {_cell(meaning)} |" for code, meaning in codes.items()]
        out.append("")
    sources = d.get("x-joinedup-sources")
    if sources:
        out += ["Sources: " + ", ".join(f"<{s}>" for s in sources) + ".", ""]
    return "\n".join(out)


def render_checks() -> str:
    """Markdown table of the custom check registry."""
    out = ["| Check | Kind | Applies to | Rule |", "|---|---|---|---|"]
    for check in FIELD_CHECKS.values():
        types = ", ".join(sorted(check.types))
        out.append(f"| `{check.name}` | field | {types} | {_cell(check.description)} |")
    for row_check in ROW_CHECKS.values():
        out.append(
            f"| `{row_check.name}` | row | fields named in the spec | "
            f"{_cell(row_check.description)} |"
        )
    return "\n".join(out) + "\n"


def render_reference() -> str:
    """The whole generated part of docs/standards.md (between the markers)."""
    parts = ["## Reference (generated)", "", "### Custom checks", "", render_checks()]
    order = ["person"] + [n for n in list_standards() if n != "person"]
    parts += [render_standard(name) for name in order]
    return "\n".join(parts).rstrip() + "\n"


def update_document(text: str) -> str:
    """``text`` with the generated reference replaced (markers must be present)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError("the document lacks the generated-reference markers")
    return text[: start + len(BEGIN)] + "\n" + render_reference() + text[end:]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m joinedup.standards.docs docs/standards.md", file=sys.stderr)
        return 2
    path = Path(args[0])
    path.write_text(update_document(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
