"""Approved releases as CKAN sees them: package, resource, organisation, licence and activity
dictionaries (the fields CKAN's own ``package_show`` returns and clients read), and
``package_search`` with ``q``/``fq`` (:mod:`joinedup.publish.solr`), ``sort`` and facets.

Ids are stable UUIDs (version 5, from the name), so a harvester that keys on ``id`` sees the
same dataset across releases; ``package_show`` and ``resource_show`` accept the name too."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from joinedup.publish.formats import OGL
from joinedup.publish.releases import ReleaseView
from joinedup.publish.solr import Fields, QueryError, parse_query, parse_sort

PUBLISHER = "joinedup regional data hub"
ORGANISATION = "joinedup-hub"
_NAMESPACE = uuid.UUID("6f1c1f3e-5b0b-5e49-9a59-1c8d2a7f0b11")
#: What ``fq``/``q`` may name: whole-value fields, and tokenised text fields.
SEARCH_FIELDS = Fields(
    strings=frozenset(
        {
            "id",
            "name",
            "tags",
            "organization",
            "owner_org",
            "res_format",
            "license_id",
            "groups",
            "type",
            "state",
            "version",
            "extras_frequency",
            "extras_kind",
            "res_name",
        }
    ),
    texts=frozenset({"title", "notes", "text", "res_description"}),
)
SORT_FIELDS = {
    "name": "name",
    "title_string": "title",
    "metadata_modified": "metadata_modified",
    "metadata_created": "metadata_created",
    "score": "score",
}
FACET_FIELDS = frozenset(
    {"tags", "organization", "res_format", "license_id", "groups", "extras_frequency"}
    | {"extras_kind"}
)
DEFAULT_SORT = "score desc, metadata_modified desc"


def stable_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def resource_id(view: ReleaseView) -> str:
    """The CKAN resource id of a release's CSV (and its datastore table): ``<name>-v<n>``."""
    return f"{view.publication}-v{view.version}"


def download_paths(view: ReleaseView) -> dict[str, str]:
    base = f"/open-data/{view.publication}/v{view.version}"
    return {"csv": f"{base}/data.csv", "datapackage": f"{base}/datapackage.json"}


def organization(dataset_count: int | None = None) -> dict[str, Any]:
    org: dict[str, Any] = {
        "id": stable_id("organization", ORGANISATION),
        "name": ORGANISATION,
        "title": PUBLISHER,
        "display_name": PUBLISHER,
        "description": "The regional data hub that publishes this open data.",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": "2026-01-01T00:00:00",
    }
    if dataset_count is not None:
        org["package_count"] = dataset_count
    return org


def licence() -> dict[str, Any]:
    return {
        "id": OGL["name"],
        "title": OGL["title"],
        "url": OGL["path"],
        "od_conformance": "approved",
        "osd_conformance": "not reviewed",
        "status": "active",
        "maintainer": "The National Archives",
        "family": "",
        "domain_content": True,
        "domain_data": True,
        "domain_software": False,
        "is_generic": False,
        "is_okd_compliant": True,
        "is_osi_compliant": False,
    }


def resources(view: ReleaseView, base_url: str) -> list[dict[str, Any]]:
    """The package's two resources: the CSV (in the datastore) and its data package."""
    paths = download_paths(view)
    package_id = stable_id("package", view.publication)
    modified = view.last_updated.isoformat()
    common = {
        "package_id": package_id,
        "state": "active",
        "created": view.created_at.isoformat(),
        "last_modified": modified,
        "metadata_modified": modified,
        "url_type": None,
        "resource_type": None,
    }
    package_json = view.descriptor
    return [
        {
            **common,
            "id": resource_id(view),
            "position": 0,
            "name": f"{view.title} (CSV)",
            "description": f"Version {view.version}: {view.row_count} rows.",
            "format": "CSV",
            "mimetype": "text/csv",
            "url": base_url + paths["csv"],
            "size": view.csv_bytes,
            "hash": f"sha256:{view.csv_sha256}",
            "datastore_active": True,
        },
        {
            **common,
            "id": f"{resource_id(view)}-datapackage",
            "position": 1,
            "name": "Frictionless data package (datapackage.json)",
            "description": "The table schema, licence and checksum of the CSV.",
            "format": "JSON",
            "mimetype": "application/json",
            "url": base_url + paths["datapackage"],
            "size": None,
            "hash": "",
            "datastore_active": False,
            "schema": package_json.get("profile", ""),
        },
    ]


def package(view: ReleaseView, base_url: str) -> dict[str, Any]:
    """A release as CKAN's ``package_show`` dictionary."""
    org = organization()
    listed = resources(view, base_url)
    return {
        "id": stable_id("package", view.publication),
        "name": view.publication,
        "title": view.title,
        "notes": view.description,
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": True,
        "version": str(view.version),
        "license_id": OGL["name"],
        "license_title": OGL["title"],
        "license_url": OGL["path"],
        "author": None,
        "author_email": None,
        "maintainer": PUBLISHER,
        "maintainer_email": None,
        "metadata_created": view.created_at.isoformat(),
        "metadata_modified": view.last_updated.isoformat(),
        "url": f"{base_url}/open-data/{view.publication}",
        "owner_org": org["id"],
        "organization": org,
        "groups": [],
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "tags": [
            {"id": stable_id("tag", k), "name": k, "display_name": k, "state": "active"}
            for k in view.keywords
        ],
        "num_tags": len(view.keywords),
        "extras": [
            {"key": "frequency", "value": view.frequency},
            {"key": "accrual_periodicity", "value": view.frequency_uri},
            {"key": "kind", "value": view.kind},
        ],
        "num_resources": len(listed),
        "resources": listed,
    }


def search_document(pkg: dict[str, Any]) -> dict[str, list[str]]:
    """The values a package is searched, filtered, faceted and sorted on."""
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    tags = [t["name"] for t in pkg["tags"]]
    res = pkg["resources"]
    text = [pkg["name"], pkg["title"], pkg["notes"], *tags, *(r["name"] for r in res)]
    return {
        "id": [pkg["id"]],
        "name": [pkg["name"]],
        "title": [pkg["title"]],
        "notes": [pkg["notes"]],
        "text": text,
        "tags": tags,
        "organization": [pkg["organization"]["name"]],
        "owner_org": [pkg["owner_org"]],
        "res_format": sorted({r["format"] for r in res}),
        "res_name": [r["name"] for r in res],
        "res_description": [r["description"] for r in res],
        "license_id": [pkg["license_id"]],
        "groups": [g["name"] for g in pkg["groups"]],
        "type": [pkg["type"]],
        "state": [pkg["state"]],
        "version": [pkg["version"]],
        "extras_frequency": [extras["frequency"]],
        "extras_kind": [extras["kind"]],
        "metadata_modified": [pkg["metadata_modified"]],
        "metadata_created": [pkg["metadata_created"]],
    }


@dataclass(frozen=True)
class Search:
    """``package_search``'s parameters, already checked for type and range."""

    q: str = ""
    fq: tuple[str, ...] = ()
    sort: str = DEFAULT_SORT
    rows: int = 10
    start: int = 0
    facet: bool = True
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50
    facet_mincount: int = 1


def search(packages: list[dict[str, Any]], params: Search) -> dict[str, Any]:
    """CKAN's ``package_search`` result over these packages. Raises
    :class:`~joinedup.publish.solr.QueryError` for a query, sort or facet it cannot do."""
    match = parse_query("" if params.q.strip() in ("", "*:*") else params.q, SEARCH_FIELDS)
    filters = [parse_query(f, SEARCH_FIELDS) for f in params.fq]
    order = parse_sort(params.sort, SORT_FIELDS)
    for name in params.facet_fields:
        if name not in FACET_FIELDS:
            raise QueryError(
                f"facet.field: cannot facet on {name[:40]!r} "
                f"(fields: {', '.join(sorted(FACET_FIELDS))})"
            )
    docs = [(p, search_document(p)) for p in packages]
    found = [(p, d) for p, d in docs if match(d) and all(f(d) for f in filters)]
    for key, descending in reversed(order):
        if key == "score":  # every match scores alike: keep the order so far
            continue
        found.sort(key=lambda pair, k=key: pair[1][k][0].lower(), reverse=descending)  # type: ignore[misc]
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    if params.facet:
        for name in params.facet_fields:
            counts = Counter(v for _, d in found for v in set(d[name]))
            items = [
                (value, count)
                for value, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
                if count >= params.facet_mincount
            ]
            if params.facet_limit >= 0:
                items = items[: params.facet_limit]
            facets[name] = dict(items)
            search_facets[name] = {
                "title": name,
                "items": [{"name": v, "display_name": v, "count": c} for v, c in items],
            }
    page = found[params.start : params.start + params.rows]
    return {
        "count": len(found),
        "results": [p for p, _ in page],
        "sort": params.sort,
        "facets": facets,
        "search_facets": search_facets,
    }


def activities(views: list[ReleaseView], base_url: str) -> list[dict[str, Any]]:
    """Each approved release as a CKAN activity (``new package`` for version 1, else
    ``changed package``), newest first. Only current releases are listed (one per dataset)."""
    out = []
    for view in views:
        pkg = package(view, base_url)
        out.append(
            {
                "id": stable_id("activity", resource_id(view)),
                "timestamp": view.last_updated.isoformat(),
                "user_id": pkg["owner_org"],
                "object_id": pkg["id"],
                "activity_type": "new package" if view.version == 1 else "changed package",
                "data": {"package": pkg},
            }
        )
    return sorted(out, key=lambda a: a["timestamp"], reverse=True)
