"""What the public portal and its APIs show of approved releases: rows (searched, filtered,
paged), CKAN package dictionaries and the DCAT-AP catalogue. Only approved releases reach
these functions (see :mod:`joinedup.publish.releases`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joinedup.config import Settings
from joinedup.publish.formats import OGL
from joinedup.publish.releases import ReleaseView
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.sql import ident

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_QUERY = 200
MAX_OFFSET = 10_000_000
PUBLISHER = "joinedup regional data hub"
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
    total: int
    limit: int
    offset: int


def resource_id(view: ReleaseView) -> str:
    """The CKAN resource id of a release's CSV: ``<name>-v<version>``."""
    return f"{view.publication}-v{view.version}"


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


def search_rows(
    settings: Settings,
    view: ReleaseView,
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    q: str | None = None,
    filters: dict[str, list[str]] | None = None,
) -> Rows:
    """Rows of a release's table: every word of ``q`` in some text column (case-insensitive),
    each filter an exact match on the field's text; ``limit`` is capped at
    :data:`MAX_LIMIT` as CKAN caps it. Values are bound as parameters, never spliced."""
    if limit < 0 or offset < 0 or offset > MAX_OFFSET:
        raise SearchError("limit" if limit < 0 else "offset", "out of range")
    if q is not None and len(q) > MAX_QUERY:
        raise SearchError("q", f"at most {MAX_QUERY} characters")
    limit = min(limit, MAX_LIMIT)
    fields = view.fields
    names = [f["name"] for f in fields]
    text = [f["name"] for f in fields if f.get("type", "string") == "string"]
    where: list[str] = []
    params: list[Any] = []
    for word in (q or "").split():
        if text:
            where.append("(" + " OR ".join(f"{ident(c)} ILIKE ? ESCAPE '\\'" for c in text) + ")")
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [f"%{escaped}%"] * len(text)
    for name, values in (filters or {}).items():
        where.append(
            f"coalesce(lower(CAST({ident(name)} AS VARCHAR)), '') IN "
            f"({', '.join('?' for _ in values)})"
        )
        params += [v.lower() for v in values]
    condition = " AND ".join(where) or "TRUE"
    source = SnapshotStore(settings).sql_source(view.table_sha256)
    columns = ", ".join(ident(n) for n in names)
    with duckdb_session(settings) as con:
        total = con.execute(f"SELECT count(*) FROM {source} WHERE {condition}", params).fetchall()
        cursor = con.execute(
            f"SELECT {columns} FROM (SELECT *, row_number() OVER () AS _id FROM {source}) "
            f"WHERE {condition} ORDER BY _id LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
        rows = cursor.fetchall()
    records = []
    for row in rows:
        record = {}
        for name, value in zip(names, row, strict=True):
            record[name] = value.isoformat() if hasattr(value, "isoformat") else value
        records.append(record)
    return Rows(
        fields=[
            {"id": f["name"], "type": _CKAN_TYPES.get(f.get("type", ""), "text")} for f in fields
        ],
        records=records,
        total=int(total[0][0]),
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


def download_paths(view: ReleaseView) -> dict[str, str]:
    base = f"/open-data/{view.publication}/v{view.version}"
    return {"csv": f"{base}/data.csv", "datapackage": f"{base}/datapackage.json"}


def ckan_package(view: ReleaseView, base_url: str) -> dict[str, Any]:
    """A release as a CKAN package dictionary (the fields CKAN clients read)."""
    paths = download_paths(view)
    modified = view.last_updated.isoformat()
    return {
        "id": view.publication,
        "name": view.publication,
        "title": view.title,
        "notes": view.description,
        "type": "dataset",
        "state": "active",
        "private": False,
        "version": str(view.version),
        "license_id": OGL["name"],
        "license_title": OGL["title"],
        "license_url": OGL["path"],
        "metadata_created": view.created_at.isoformat(),
        "metadata_modified": modified,
        "url": f"{base_url}/open-data/{view.publication}",
        "organization": {"name": "joinedup-hub", "title": PUBLISHER},
        "tags": [{"name": k} for k in view.keywords],
        "num_tags": len(view.keywords),
        "extras": [
            {"key": "frequency", "value": view.frequency},
            {"key": "accrual_periodicity", "value": view.frequency_uri},
            {"key": "kind", "value": view.kind},
        ],
        "num_resources": 2,
        "resources": [
            {
                "id": resource_id(view),
                "package_id": view.publication,
                "name": f"{view.title} (CSV)",
                "format": "CSV",
                "mimetype": "text/csv",
                "url": base_url + paths["csv"],
                "size": view.csv_bytes,
                "hash": f"sha256:{view.csv_sha256}",
                "datastore_active": True,
                "last_modified": modified,
            },
            {
                "id": f"{resource_id(view)}-datapackage",
                "package_id": view.publication,
                "name": "Frictionless data package (datapackage.json)",
                "format": "JSON",
                "mimetype": "application/json",
                "url": base_url + paths["datapackage"],
                "datastore_active": False,
                "last_modified": modified,
            },
        ],
    }


DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def _dated(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:dateTime"}


def dcat_catalog(views: list[ReleaseView], base_url: str) -> dict[str, Any]:
    """The DCAT-AP catalogue (JSON-LD) of every current release."""
    datasets = []
    for view in views:
        paths = download_paths(view)
        page = f"{base_url}/open-data/{view.publication}"
        licence = {"@id": OGL["path"]}
        datasets.append(
            {
                "@id": page,
                "@type": "dcat:Dataset",
                "dct:identifier": view.publication,
                "dct:title": view.title,
                "dct:description": view.description,
                "dcat:keyword": view.keywords,
                "dct:license": licence,
                "dct:accrualPeriodicity": {"@id": view.frequency_uri},
                "dct:issued": _dated(view.created_at.isoformat()),
                "dct:modified": _dated(view.last_updated.isoformat()),
                "owl:versionInfo": str(view.version),
                "dcat:landingPage": {"@id": page},
                "dct:publisher": {"@type": "foaf:Agent", "foaf:name": PUBLISHER},
                "dcat:distribution": [
                    {
                        "@id": base_url + paths["csv"],
                        "@type": "dcat:Distribution",
                        "dct:title": "CSV",
                        "dcat:downloadURL": {"@id": base_url + paths["csv"]},
                        "dcat:mediaType": {
                            "@id": "https://www.iana.org/assignments/media-types/text/csv"
                        },
                        "dct:format": "CSV",
                        "dcat:byteSize": view.csv_bytes,
                        "dct:license": licence,
                    },
                    {
                        "@id": base_url + paths["datapackage"],
                        "@type": "dcat:Distribution",
                        "dct:title": "Frictionless data package",
                        "dcat:downloadURL": {"@id": base_url + paths["datapackage"]},
                        "dcat:mediaType": {
                            "@id": "https://www.iana.org/assignments/media-types/application/json"
                        },
                        "dct:conformsTo": {
                            "@id": "https://specs.frictionlessdata.io/data-package/"
                        },
                        "dct:license": licence,
                    },
                ],
            }
        )
    return {
        "@context": {**DCAT_CONTEXT, "owl": "http://www.w3.org/2002/07/owl#"},
        "@id": f"{base_url}/open-data/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": "joinedup open data",
        "dct:description": "Open data released by the regional hub: aggregates protected by "
        "statistical disclosure control, and councils' transparency data in open standards.",
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": PUBLISHER},
        "dct:license": {"@id": OGL["path"]},
        "dcat:dataset": datasets,
    }
