"""Release files: a CSV safe to open in a spreadsheet, and its Frictionless data package.

**Formula injection.** Numeric, boolean and date columns are written as values of their type,
so they can never hold a formula. In text columns, a value that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return (what spreadsheets read as a formula) gets a leading
``'``, as OWASP recommends. The data package says so in the resource's description.

**The data package** (``datapackage.json``) describes one CSV resource with its Table Schema,
its size and sha256 (so ``frictionless validate`` checks the bytes too), the licence (OGL
v3.0) and the disclosure control applied.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from joinedup.store.hashing import stream_sha256

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_NAME = "data.csv"
OGL = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}
_TEXT_TYPES = ("string", "any")


def safe_text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if kind in _TEXT_TYPES:
        return safe_text(str(value))
    return str(value)


def render_csv(table: pa.Table, fields: list[dict[str, Any]]) -> bytes:
    """The CSV of a release table (UTF-8, a header row, ``\\r\\n`` line ends per RFC 4180)."""
    kinds = {f["name"]: f.get("type", "string") for f in fields}
    names = [f["name"] for f in fields]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for batch in table.select(names).to_batches(max_chunksize=10_000):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for row in zip(*columns, strict=True):
            writer.writerow([_cell(v, kinds[n]) for v, n in zip(row, names, strict=True)])
    return out.getvalue().encode("utf-8")


def csv_digest(data: bytes) -> str:
    return stream_sha256(io.BytesIO(data))[0]


def data_package(
    *,
    name: str,
    title: str,
    description: str,
    version: int,
    keywords: list[str],
    fields: list[dict[str, Any]],
    primary_key: list[str],
    csv_sha256: str,
    csv_bytes: int,
    created: datetime,
    disclosure: dict[str, Any] | None,
    homepage: str | None = None,
) -> dict[str, Any]:
    """The Frictionless Data Package descriptor of one release."""
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = primary_key
    resource: dict[str, Any] = {
        "name": name,
        "path": CSV_NAME,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": csv_bytes,
        "hash": f"sha256:{csv_sha256}",
        "description": "Text values that a spreadsheet would read as a formula (starting "
        "with = + - @, a tab or a carriage return) carry a leading apostrophe.",
        "schema": schema,
    }
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": name,
        "title": title,
        "description": description,
        "version": f"{version}.0.0",
        "created": created.isoformat(),
        "keywords": keywords,
        "licenses": [OGL],
        "resources": [resource],
    }
    if homepage:
        package["homepage"] = homepage
    if disclosure is not None:
        package["x-joinedup-disclosure"] = disclosure
    return package


def open_fields(schema_fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A standard's fields as published: name, type, title, description (no constraints,
    which describe what a council sends rather than what the region publishes)."""
    keep = ("name", "type", "format", "title", "description")
    return [{k: f[k] for k in keep if k in f} for f in schema_fields]
