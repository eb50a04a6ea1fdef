"""Jobs in words: what a kind of job does, and its parameters and result as labelled values.

The job page shows these instead of JSON: every key becomes a label (``refused_reads`` →
``Refused reads``), every value text a person reads (numbers with separators, ``Yes``/``No``,
lists joined, nested results as ``Label: value`` lines). Kinds not listed here get their name
made readable, so a new kind still reads as words.
"""

from __future__ import annotations

from typing import Any

KIND_TITLES = {
    "ingest": "Check and store an uploaded file",
    "ingest.region": "Load a whole synthetic region",
    "linkage.build": "Link residents' records",
    "linkage.update": "Update the resident index",
    "insight.run": "Run the indicator rules",
    "insight.areas": "Compute area trends and fairness",
    "areas.boundaries": "Load area boundaries",
    "publish.release": "Build an open data release",
    "publish.demo": "Build the demonstration releases",
    "rights.demo": "Set up the demonstration rights requests",
    "governance.demo": "Set up the demonstration agreements",
    "synth": "Make a synthetic region",
    "store.verify": "Check the stored snapshots",
    "backup": "Back up the hub",
}
#: Keys whose values are for machines only (shown nowhere on the page).
HIDDEN_KEYS = frozenset({"user_id", "delete_after", "actor", "sha256", "job_id"})
MAX_ITEMS = 12


def kind_title(kind: str) -> str:
    return KIND_TITLES.get(kind, kind.replace(".", ": ").replace("_", " ").capitalize())


def label(key: str) -> str:
    text = str(key).strip("_").replace("_", " ")
    return text[:1].upper() + text[1:]


def text(value: Any) -> str:
    """One value as words (nested mappings and lists flattened into short phrases)."""
    if value is None:
        return "None given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, dict):
        parts = [f"{label(k)}: {text(v)}" for k, v in value.items() if k not in HIDDEN_KEYS]
        return "; ".join(parts[:MAX_ITEMS]) + ("; …" if len(parts) > MAX_ITEMS else "") or "None"
    if isinstance(value, list | tuple):
        if not value:
            return "None"
        items = [_item(v) for v in value[:MAX_ITEMS]]
        more = f" and {len(value) - MAX_ITEMS:,} more" if len(value) > MAX_ITEMS else ""
        return ", ".join(items) + more
    return str(value)


def _item(value: Any) -> str:
    """A list item: a mapping by its name (a rule, a file), else in full."""
    if isinstance(value, dict):
        for key in ("name", "title", "id"):
            if value.get(key):
                return str(value[key])
    return text(value)


def rows(values: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``(label, text)`` per key, in the order given, machine-only keys left out."""
    return [(label(k), text(v)) for k, v in (values or {}).items() if k not in HIDDEN_KEYS]
