"""What the public portal and its APIs show of approved releases: rows (searched, filtered,
paged, sorted, as CKAN's ``datastore_search`` does) and the chart's figures. Only approved
releases reach these functions (see :mod:`joinedup.publish.releases`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joinedup.config import Settings
from joinedup.publish.releases import ReleaseView
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.sql import ident

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_QUERY = 200
MAX_OFFSET = 10_000_000
_CKAN_TYPES = {"string": "text", "integer": "int", "number": "numeric", "boolean": "bool"}


class SearchError(ValueError):
    """A search the datastore cannot run (unknown field, bad filter); the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Rows:
    fields: list[dict[str, Any]]
    records: list[dict[str, Any]]
    total: int | None
    limit: int
    offset: int


def parse_resource_id(value: str) -> tuple[str, int] | None:
    name, sep, version = value.rpartition("-v")
    if not sep or not version.isdigit() or len(version) > 9 or not name:
        return None
    return name, int(version)


def parse_filters(raw: str | dict[str, Any] | None, fields: list[str]) -> dict[str, list[str]]:
    """CKAN ``filters``: a JSON object of field → value (or list of values)."""
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        if len(raw) > 4000:
            raise SearchError("filters", "too long")
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SearchError("filters", "not a JSON object") from None
    if not isinstance(raw, dict):
        raise SearchError("filters", "not a JSON object")
    out: dict[str, list[str]] = {}
    for name, value in raw.items():
        if name not in fields:
            raise SearchError("filters", f"unknown field {str(name)[:60]!r}")
        values = value if isinstance(value, list) else [value]
        if not values or len(values) > 100 or any(isinstance(v, dict | list) for v in values):
            raise SearchError("filters", f"{name}: a value or a list of up to 100 values")
        out[name] = [
            "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in values
        ]
    return out


def ckan_fields(view: ReleaseView) -> list[dict[str, Any]]:
    """The datastore's fields of a release: ``_id`` (the row's number) first, as in CKAN."""
    return [{"id": "_id", "type": "int"}] + [
        {"id": f["name"], "type": _CKAN_TYPES.get(f.get("type", ""), "text")} for f in view.fields
    ]


def _checked(names: list[str] | None, known: list[str], what: str) -> list[str]:
    for name in names or []:
        if name not in known:
            raise SearchError(what, f"unknown field {name[:60]!r}")
    return list(names or [])


def _where(
    q: str | dict[str, str] | None, filters: dict[str, list[str]] | None, text: list[str]
) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    searches = q.items() if isinstance(q, dict) else [(None, q or "")]
    for column, words in searches:
        columns = [column] if column else text
        for word in words.split():
            if columns:
                where.append(
                    "(" + " OR ".join(f"{ident(c)} ILIKE ? ESCAPE '\\'" for c in columns) + ")"
                )
                escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params += [f"%{escaped}%"] * len(columns)
    for name, values in (filters or {}).items():
        where.append(
            f"coalesce(lower(CAST({ident(name)} AS VARCHAR)), '') IN "
            f"({', '.join('?' for _ in values)})"
        )
        params += [v.lower() for v in values]
    return " AND ".join(where) or "TRUE", params


def search_rows(
    settings: Settings,
    view: ReleaseView,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    q: str | dict[str, str] | None = None,
    filters: dict[str, list[str]] | None = None,
    fields: list[str] | None = None,
    sort: list[tuple[str, bool]] | None = None,
    distinct: bool = False,
    include_total: bool = True,
    with_id: bool = False,
) -> Rows:
    """Rows of a release's table, as CKAN's ``datastore_search`` finds them.

    ``q``: every word in some text column (or, as a mapping, in that column), case-insensitive;
    ``filters``: each an exact match on the field's text; ``fields``: the columns to return
    (``_id``, the row's number in the file, is one); ``sort``: ``(field, descending)`` pairs,
    then ``_id``; ``distinct``: distinct rows of the chosen fields. ``limit`` is capped at
    :data:`MAX_LIMIT` as CKAN caps it. Values are bound as parameters, never spliced."""
    if limit < 0 or offset < 0 or offset > MAX_OFFSET:
        raise SearchError("limit" if limit < 0 else "offset", "out of range")
    if isinstance(q, str) and len(q) > MAX_QUERY:
        raise SearchError("q", f"at most {MAX_QUERY} characters")
    limit = min(limit, MAX_LIMIT)
    names = [f["name"] for f in view.fields]
    known = ["_id", *names]
    wanted = _checked(fields, known, "fields") or (known if with_id else names)
    order = sort or []
    _checked([name for name, _ in order], known, "sort")
    if isinstance(q, dict):
        _checked(list(q), names, "q")
    text = [f["name"] for f in view.fields if f.get("type", "string") == "string"]
    condition, params = _where(q, filters, text)
    source = SnapshotStore(settings).sql_source(view.table_sha256)
    numbered = f"(SELECT row_number() OVER () AS _id, * FROM {source})"
    columns = ", ".join(ident(n) for n in wanted)
    keys = [f"{ident(n)} {'DESC' if d else 'ASC'} NULLS LAST" for n, d in order]
    if distinct:
        if any(name not in wanted for name, _ in order):
            raise SearchError("sort", "with distinct, sort only by the fields returned")
        inner = f"SELECT DISTINCT {columns} FROM {numbered} WHERE {condition}"
        keys += [ident(n) for n in wanted]
        select = f"SELECT * FROM ({inner})"
    else:
        inner = f"SELECT {columns} FROM {numbered} WHERE {condition}"
        keys.append("_id")
        select = f"SELECT {columns} FROM {numbered} WHERE {condition}"
    with duckdb_session(settings) as con:
        total = (
            con.execute(f"SELECT count(*) FROM ({inner})", params).fetchall()[0][0]
            if include_total
            else None
        )
        rows = con.execute(
            f"{select} ORDER BY {', '.join(keys)} LIMIT {int(limit)} OFFSET {int(offset)}", params
        ).fetchall()
    records = []
    for row in rows:
        records.append(
            {
                name: value.isoformat() if hasattr(value, "isoformat") else value
                for name, value in zip(wanted, row, strict=True)
            }
        )
    types = {f["id"]: f for f in ckan_fields(view)}
    return Rows(
        fields=[types[n] for n in wanted],
        records=records,
        total=None if total is None else int(total),
        limit=limit,
        offset=offset,
    )


def chart_figures(settings: Settings, view: ReleaseView) -> dict[str, Any] | None:
    """The figures a dataset's chart and its table show: for an aggregate, the published
    totals per local authority over all months, per indicator; for a dataset with a
    ``net_amount`` (spend), net spend per organisation."""
    names = {f["name"] for f in view.fields}
    source = SnapshotStore(settings).sql_source(view.table_sha256)
    if view.kind == "indicator-aggregate":
        sql = (
            f"SELECT indicator_name, area_code, count FROM {source} "
            "WHERE area_type = 'local_authority' AND month = 'all' ORDER BY ALL"
        )
        measure = "Residents (suppressed counts not shown)"
    elif {"net_amount", "organisation_name"} <= names:
        sql = (
            f"SELECT 'Net spend', organisation_name, round(sum(net_amount), 2) FROM {source} "
            "GROUP BY ALL ORDER BY ALL"
        )
        measure = "Net spend (£)"
    else:
        return None
    with duckdb_session(settings) as con:
        rows = con.execute(sql).fetchall()
    figures = [{"indicator": i, "area": a, "value": v} for i, a, v in rows]
    return {"figures": figures, "measure": measure}
