"""The DCAT-AP 3 catalogue validates against the official SHACL shapes (vendored in
``dcat_ap/``, with their licence) with pyshacl, as JSON-LD and as Turtle, and carries the
properties harvesters read: accessURL, contact point, themes, spatial and temporal coverage,
and EU file-type URIs."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from joinedup.publish.dcat import dcat_catalog, turtle
from joinedup.publish.releases import public_releases
from tests.regions import Region

pytestmark = pytest.mark.slow

SHAPES = Path(__file__).parent / "dcat_ap" / "dcat-ap-SHACL.ttl"
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
BASE = "https://hub.example.org"


@pytest.fixture(scope="module")
def catalogue(demo_home: Region) -> dict[str, object]:
    settings = demo_home.settings
    return dcat_catalog(settings, public_releases(settings), BASE)


@pytest.fixture(scope="module")
def client(demo_home: Region) -> Iterator[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from joinedup.web.app import create_app

    with TestClient(create_app(demo_home.settings)) as test_client:
        yield test_client


def _conforms(graph: Graph) -> tuple[bool, str]:
    """pyshacl with RDFS inference, as RDF means it (every IRI is an ``rdfs:Resource``, which
    the shapes ask of accessURL and downloadURL)."""
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, _, text = validate(graph, shacl_graph=shapes, inference="rdfs", advanced=True)
    return bool(conforms), str(text)


def conforms_to_dcat_ap(catalogue: dict[str, object]) -> tuple[bool, str]:
    """Whether a JSON-LD catalogue passes the DCAT-AP 3 shapes, and pyshacl's report."""
    return _conforms(Graph().parse(data=json.dumps(catalogue), format="json-ld"))


def test_the_catalogue_passes_the_dcat_ap_3_shapes(catalogue: dict[str, object]) -> None:
    import json

    graph = Graph().parse(data=json.dumps(catalogue), format="json-ld")
    conforms, report = _conforms(graph)
    assert conforms, report
    # and the Turtle serialisation is the same graph
    again = Graph().parse(data=turtle(catalogue), format="turtle")
    assert len(again) == len(graph)
    assert _conforms(again)[0]


def test_every_distribution_has_the_mandatory_and_recommended_properties(
    catalogue: dict[str, object],
) -> None:
    import json

    graph = Graph().parse(data=json.dumps(catalogue), format="json-ld")
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 3
    for dataset in datasets:
        assert graph.value(dataset, DCAT.contactPoint) is not None
        assert set(graph.objects(dataset, DCAT.theme))
        assert set(graph.objects(dataset, DCTERMS.spatial)), dataset
        period = graph.value(dataset, DCTERMS.temporal)
        assert graph.value(period, DCAT.startDate) <= graph.value(period, DCAT.endDate)
        for distribution in graph.objects(dataset, DCAT.distribution):
            assert graph.value(distribution, DCAT.accessURL) == dataset
            assert graph.value(distribution, DCTERMS.format) in (FILE_TYPE.CSV, FILE_TYPE.JSON)
    # the spend data covers the councils that sent it; London boroughs are E09…
    spend = URIRef(f"{BASE}/open-data/regional-spend-over-500")
    areas = {str(a).rsplit("/", 1)[1] for a in graph.objects(spend, DCTERMS.spatial)}
    assert areas and all(code.startswith("E09") for code in areas)


def test_a_catalogue_missing_a_mandatory_property_fails(catalogue: dict[str, object]) -> None:
    """The shapes really are applied: without an accessURL the catalogue does not conform."""
    import copy
    import json

    broken = copy.deepcopy(catalogue)
    del broken["dcat:dataset"][0]["dcat:distribution"][0]["dcat:accessURL"]  # type: ignore[index]
    conforms, report = _conforms(Graph().parse(data=json.dumps(broken), format="json-ld"))
    assert not conforms and "accessURL" in report


def test_the_catalogue_is_served_as_json_ld_and_turtle(client) -> None:
    jsonld = client.get("/open-data/catalog.jsonld")
    assert jsonld.status_code == 200 and jsonld.headers["content-type"] == "application/ld+json"
    ttl = client.get("/open-data/catalog.ttl")
    assert ttl.status_code == 200 and ttl.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=ttl.text, format="turtle")
    assert len(list(graph.subjects(RDF.type, DCAT.Dataset))) == 3
    assert client.head("/open-data/catalog.ttl").status_code == 200


def test_the_shapes_are_vendored_with_their_licence() -> None:
    """CC BY 4.0 (the DCAT-AP 3.0.0 release's licence): its full text beside the shapes, and
    the attribution in the README."""
    licence = (SHAPES.parent / "LICENSE-CC-BY-4.0.txt").read_text(encoding="utf-8")
    assert licence.startswith("Attribution 4.0 International")
    assert "Section 3 -- License Conditions." in licence
    readme = (SHAPES.parent / "README.md").read_text(encoding="utf-8")
    assert "LICENSE-CC-BY-4.0.txt" in readme
    assert "© 2023 European Union" in readme
