"""The DCAT-AP 3 catalogue of the current releases, as JSON-LD and (through rdflib) Turtle.

Every dataset has DCAT-AP's mandatory and recommended properties: title, description,
publisher (``foaf:Agent``), contact point (``vcard:Kind``), themes (EU data themes),
keywords, spatial coverage (the ONS statistical geographies of the local authorities found in
the table), temporal coverage (the first and last date or month in the table), licence (OGL
v3), frequency, and distributions with ``dcat:accessURL`` (mandatory), ``downloadURL``, the
EU file-type URI as ``dct:format``, the IANA media type, byte size and sha256 checksum. Every
referenced resource is typed with the class DCAT-AP expects (``dct:LicenseDocument``,
``dct:Frequency``, ``skos:Concept``…), so the official SHACL shapes validate it offline
(``tests/publish/test_dcat.py`` runs pyshacl)."""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from joinedup.config import Settings
from joinedup.publish.ckan import PUBLISHER, download_paths
from joinedup.publish.definitions import THEMES
from joinedup.publish.formats import OGL
from joinedup.publish.releases import ReleaseView
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.sql import ident

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "dcatap": "http://data.europa.eu/r5r/",
}
FILE_TYPES = "http://publications.europa.eu/resource/authority/file-type/"
THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
GEOGRAPHY = "http://statistics.data.gov.uk/id/statistical-geography/"
IANA = "https://www.iana.org/assignments/media-types/"
AVAILABLE = "http://publications.europa.eu/resource/authority/planned-availability/STABLE"
#: GSS codes of local authorities (county, unitary, district, metropolitan, London borough,
#: Welsh, Scottish and Northern Irish councils).
_LA_CODE = re.compile(r"^(E0[6-9]|W06|S12|N09)\d{6}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class Coverage:
    start: date | None
    end: date | None
    areas: list[str]


def coverage(settings: Settings, view: ReleaseView) -> Coverage:
    """The dates (date columns, or ``YYYY-MM`` month columns) and local authorities (GSS codes
    in any text column) a release's table covers."""
    source = SnapshotStore(settings).sql_source(view.table_sha256)
    starts: list[date] = []
    ends: list[date] = []
    areas: set[str] = set()
    with duckdb_session(settings) as con:
        for field in view.fields:
            column = ident(field["name"])
            kind = field.get("type", "string")
            if kind in ("date", "datetime"):
                sql = f"SELECT min({column}), max({column}) FROM {source}"
                low, high = con.execute(sql).fetchone() or (None, None)
                if low is not None:
                    starts.append(low if type(low) is date else low.date())
                    ends.append(high if type(high) is date else high.date())
            elif kind == "string":
                values = [
                    v
                    for (v,) in con.execute(
                        f"SELECT DISTINCT {column} FROM {source} WHERE {column} IS NOT NULL "
                        "LIMIT 5000"
                    ).fetchall()
                ]
                areas |= {v for v in values if _LA_CODE.match(v)}
                months = sorted(v for v in values if _MONTH.match(v))
                if months:
                    first = months[0].split("-")
                    year, month = (int(x) for x in months[-1].split("-"))
                    starts.append(date(int(first[0]), int(first[1]), 1))
                    ends.append(date(year, month, calendar.monthrange(year, month)[1]))
    return Coverage(min(starts, default=None), max(ends, default=None), sorted(areas))


def dated(value: str, kind: str = "dateTime") -> dict[str, str]:
    return {"@value": value, "@type": f"xsd:{kind}"}


def typed(iri: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"@id": iri, "@type": kind, **more}


def agent() -> dict[str, Any]:
    return {"@type": "foaf:Agent", "foaf:name": PUBLISHER}


def contact_point(url: str) -> dict[str, Any]:
    return {"@type": "vcard:Kind", "vcard:fn": PUBLISHER, "vcard:hasURL": {"@id": url}}


def _distribution(
    iri: str, title: str, file_type: str, media: str, view: ReleaseView, page: str
) -> dict[str, Any]:
    return {
        "@id": iri,
        "@type": "dcat:Distribution",
        "dct:title": title,
        "dcat:accessURL": {"@id": page},
        "dcat:downloadURL": {"@id": iri},
        "dct:format": typed(FILE_TYPES + file_type, "dct:MediaTypeOrExtent"),
        "dcat:mediaType": typed(IANA + media, "dct:MediaType"),
        "dct:license": typed(OGL["path"], "dct:LicenseDocument"),
        "dcatap:availability": typed(AVAILABLE, "skos:Concept", **{"skos:prefLabel": "stable"}),
        "dct:issued": dated(view.last_updated.isoformat()),
    }


def dataset(view: ReleaseView, base_url: str, covered: Coverage) -> dict[str, Any]:
    paths = download_paths(view)
    page = f"{base_url}/open-data/{view.publication}"
    csv = _distribution(base_url + paths["csv"], "CSV", "CSV", "text/csv", view, page)
    csv["dcat:byteSize"] = {"@value": str(view.csv_bytes), "@type": "xsd:nonNegativeInteger"}
    csv["spdx:checksum"] = {
        "@type": "spdx:Checksum",
        "spdx:algorithm": typed("spdx:checksumAlgorithm_sha256", "spdx:ChecksumAlgorithm"),
        "spdx:checksumValue": {"@value": view.csv_sha256, "@type": "xsd:hexBinary"},
    }
    package = _distribution(
        base_url + paths["datapackage"],
        "Frictionless data package",
        "JSON",
        "application/json",
        view,
        page,
    )
    package["dct:conformsTo"] = typed(
        "https://specs.frictionlessdata.io/data-package/", "dct:Standard"
    )
    out: dict[str, Any] = {
        "@id": page,
        "@type": "dcat:Dataset",
        "dct:identifier": view.publication,
        "dct:title": view.title,
        "dct:description": view.description,
        "dcat:keyword": view.keywords,
        "dcat:theme": [
            typed(THEME_BASE + code, "skos:Concept", **{"skos:prefLabel": THEMES[code]})
            for code in view.themes
        ],
        "dct:accrualPeriodicity": typed(view.frequency_uri, "dct:Frequency"),
        "dct:issued": dated(view.created_at.isoformat()),
        "dct:modified": dated(view.last_updated.isoformat()),
        "owl:versionInfo": str(view.version),
        "dcat:landingPage": typed(page, "foaf:Document"),
        "dct:publisher": agent(),
        "dcat:contactPoint": contact_point(f"{base_url}/open-data/developers"),
        "dcat:distribution": [csv, package],
    }
    if covered.areas:
        out["dct:spatial"] = [typed(GEOGRAPHY + code, "dct:Location") for code in covered.areas]
    if covered.start and covered.end:
        out["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": dated(covered.start.isoformat(), "date"),
            "dcat:endDate": dated(covered.end.isoformat(), "date"),
        }
    return out


def dcat_catalog(settings: Settings, views: list[ReleaseView], base_url: str) -> dict[str, Any]:
    """The DCAT-AP 3 catalogue (JSON-LD) of every current release."""
    return {
        "@context": CONTEXT,
        "@id": f"{base_url}/open-data/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": "joinedup open data",
        "dct:description": "Open data released by the regional hub: aggregates protected by "
        "statistical disclosure control, and councils' transparency data in open standards.",
        "dct:publisher": agent(),
        "dct:license": typed(OGL["path"], "dct:LicenseDocument"),
        "foaf:homepage": typed(f"{base_url}/open-data", "foaf:Document"),
        "dcat:dataset": [dataset(v, base_url, coverage(settings, v)) for v in views],
    }


def turtle(catalog: dict[str, Any]) -> str:
    """The catalogue as Turtle (the same graph as the JSON-LD)."""
    from rdflib import Graph

    graph = Graph()
    graph.parse(data=json.dumps(catalog), format="json-ld")
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    return graph.serialize(format="turtle")
