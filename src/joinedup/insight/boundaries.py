"""Area boundaries: load ONS (or the synthetic region's) GeoJSON, validate it, store it.

`joinedup areas load-boundaries FILE.geojson --level lsoa|ward|lad` reads a FeatureCollection
in longitude/latitude (WGS84; ONS publishes each boundary set in that edition), finds the
code and name properties ONS uses (``LSOA21CD``/``LSOA21NM``, ``WD24CD``/``WD24NM``,
``LAD24CD``/``LAD24NM``, and the other years' editions), checks every feature and stores the
features as a data-plane snapshot (code, name, geometry) with an ``area_boundary`` row. The
latest load of a level is the one the dashboard draws. Input is treated as hostile: size,
feature and coordinate limits, nesting depth, non-finite or out-of-range numbers, unclosed
rings and duplicate codes are errors that name the feature; nothing is stored unless the
whole file is good. Use ONS's generalised editions (BGC/BSC): full-resolution files are
large and a choropleth does not need them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import AreaBoundary
from joinedup.config import Settings
from joinedup.errors import InvalidInput
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.insight.areas import check_level
from joinedup.store import SnapshotStore, duckdb_session

MAX_BYTES = 100 * 1024 * 1024
MAX_FEATURES = 100_000
MAX_POSITIONS = 5_000_000
#: Property names by level, as ONS spells them (any edition year).
CODE_PROPERTY = {
    "lsoa": re.compile(r"^LSOA\d\dCD$", re.IGNORECASE),
    "ward": re.compile(r"^WD\d\dCD$", re.IGNORECASE),
    "lad": re.compile(r"^(LAD|LTLA|UTLA|CTYUA)\d\dCD$", re.IGNORECASE),
}
#: GSS code prefixes by level (England, Wales, Scotland, Northern Ireland).
CODE_PATTERN = {
    "lsoa": re.compile(r"^(E01|W01|S01|95)\d{6}$"),
    "ward": re.compile(r"^(E05|W05|S13|N08)\d{6}$"),
    "lad": re.compile(r"^(E06|E07|E08|E09|W06|S12|N09)\d{6}$"),
}


class BoundaryError(InvalidInput):
    """A boundary file that cannot be loaded; the message names the file and feature."""


@dataclass(frozen=True)
class BoundarySet:
    level: str
    code_property: str
    name_property: str | None
    codes: list[str]
    names: list[str | None]
    geometries: list[str]


def _fail(name: str, where: str, message: str) -> BoundaryError:
    return BoundaryError(f"{name}: {where}: {message}" if where else f"{name}: {message}")


def _properties(
    name: str, level: str, props: dict[str, Any], code_property: str | None
) -> tuple[str, str | None]:
    if code_property:
        if code_property not in props:
            raise _fail(name, "features[0].properties", f"no property {code_property!r}")
        code = code_property
    else:
        found = [k for k in props if CODE_PROPERTY[level].match(k)]
        if not found:
            raise _fail(
                name,
                "features[0].properties",
                f"no {level} code property such as "
                f"{ {'lsoa': 'LSOA21CD', 'ward': 'WD24CD', 'lad': 'LAD24CD'}[level] } "
                f"(found {', '.join(sorted(props)[:8]) or 'none'}); give --code-property",
            )
        code = sorted(found)[-1]  # the latest edition when a file carries several
    label = code[:-2] + ("NM" if code[-2:] == "CD" else "nm")
    return code, label if label in props else None


def _check_positions(name: str, where: str, rings: Any, counter: list[int]) -> None:
    if not isinstance(rings, list) or not rings:
        raise _fail(name, where, "a polygon is a non-empty list of rings")
    for r, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise _fail(name, f"{where}[{r}]", "a ring needs at least 4 positions")
        for p, pos in enumerate(ring):
            if (
                not isinstance(pos, list)
                or len(pos) < 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
            ):
                raise _fail(name, f"{where}[{r}][{p}]", "a position is [longitude, latitude]")
            x, y = pos[0], pos[1]
            if not (math.isfinite(x) and math.isfinite(y)):
                raise _fail(name, f"{where}[{r}][{p}]", "coordinates must be finite numbers")
            if not (-180 <= x <= 180 and -90 <= y <= 90):
                raise _fail(
                    name,
                    f"{where}[{r}][{p}]",
                    f"({x}, {y}) is not longitude/latitude: load the WGS84 (EPSG:4326) "
                    "edition of the boundaries, not British National Grid",
                )
        if ring[0][:2] != ring[-1][:2]:
            raise _fail(name, f"{where}[{r}]", "a ring must end where it starts")
        counter[0] += len(ring)
        if counter[0] > MAX_POSITIONS:
            raise _fail(
                name, "", f"more than {MAX_POSITIONS:,} positions: use a generalised edition"
            )


def parse_boundaries(
    data: bytes, name: str, level: str, code_property: str | None = None
) -> BoundarySet:
    """Validate a GeoJSON FeatureCollection of one level; raise :class:`BoundaryError`."""
    check_level(level)
    if len(data) > MAX_BYTES:
        raise _fail(name, "", f"larger than {MAX_BYTES // 2**20} MB: use a generalised edition")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _fail(name, "", "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _fail(
            name, f"line {exc.lineno} column {exc.colno}", f"not JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise _fail(name, "", "nested too deeply to be GeoJSON") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise _fail(name, "type", "not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise _fail(name, "features", "no features")
    if len(features) > MAX_FEATURES:
        raise _fail(name, "features", f"more than {MAX_FEATURES:,} features")
    first = features[0].get("properties") if isinstance(features[0], dict) else None
    if not isinstance(first, dict):
        raise _fail(name, "features[0].properties", "a feature needs properties")
    code_prop, name_prop = _properties(name, level, first, code_property)
    codes: list[str] = []
    names: list[str | None] = []
    geometries: list[str] = []
    seen: set[str] = set()
    counter = [0]
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _fail(name, where, "not a GeoJSON Feature")
        props = feature.get("properties")
        geometry = feature.get("geometry")
        if not isinstance(props, dict):
            raise _fail(name, f"{where}.properties", "a feature needs properties")
        code = props.get(code_prop)
        if not isinstance(code, str) or not CODE_PATTERN[level].match(code.strip()):
            raise _fail(name, f"{where}.properties.{code_prop}", f"not a {level} GSS code")
        code = code.strip()
        if code in seen:
            raise _fail(name, f"{where}.properties.{code_prop}", f"{code} appears twice")
        seen.add(code)
        label = props.get(name_prop) if name_prop else None
        if label is not None and (not isinstance(label, str) or len(label) > 200):
            raise _fail(name, f"{where}.properties.{name_prop}", "a name is text of 200 or fewer")
        if not isinstance(geometry, dict) or geometry.get("type") not in (
            "Polygon",
            "MultiPolygon",
        ):
            raise _fail(name, f"{where}.geometry", "a boundary is a Polygon or MultiPolygon")
        coords = geometry.get("coordinates")
        if geometry["type"] == "Polygon":
            _check_positions(name, f"{where}.geometry.coordinates", coords, counter)
        else:
            if not isinstance(coords, list) or not coords:
                raise _fail(name, f"{where}.geometry.coordinates", "no polygons")
            for k, polygon in enumerate(coords):
                _check_positions(name, f"{where}.geometry.coordinates[{k}]", polygon, counter)
        codes.append(code)
        names.append(label)
        geometries.append(
            json.dumps({"type": geometry["type"], "coordinates": coords}, separators=(",", ":"))
        )
    return BoundarySet(level, code_prop, name_prop, codes, names, geometries)


def load_boundaries(
    settings: Settings,
    path: Path,
    level: str,
    actor: str,
    code_property: str | None = None,
) -> dict[str, Any]:
    """Validate and store a boundary file as the level's current boundaries (audited)."""
    path = Path(path)
    if not path.is_file():
        raise BoundaryError(f"{path.name}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise _fail(
            path.name, "", f"larger than {MAX_BYTES // 2**20} MB: use a generalised edition"
        )
    data = path.read_bytes()
    parsed = parse_boundaries(data, path.name, level, code_property)
    table = pa.table(
        {
            "code": pa.array(parsed.codes, pa.string()),
            "name": pa.array(parsed.names, pa.string()),
            "geometry": pa.array(parsed.geometries, pa.string()),
        }
    )
    store = SnapshotStore(settings)
    with session_scope(settings) as session, store.writer(session) as writer:
        snapshot = writer.write_table(table)
        row = AreaBoundary(
            level=level,
            snapshot_sha256=snapshot.sha256,
            features=len(parsed.codes),
            source_filename=path.name[:255],
            source_sha256=hashlib.sha256(data).hexdigest(),
            code_property=parsed.code_property,
            name_property=parsed.name_property,
            loaded_by=actor,
        )
        session.add(row)
        session.flush()
        append_event(
            session,
            actor=actor,
            action=AuditAction.BOUNDARIES_LOAD,
            target_type="area_boundary",
            target_id=str(row.id),
            details={"level": level, "features": len(parsed.codes), "file": path.name[:255]},
        )
        session.commit()
        return {"id": row.id, "level": level, "features": len(parsed.codes), "file": path.name}


def current_boundaries(settings: Settings) -> dict[str, AreaBoundary]:
    """The latest boundary load of each level."""
    out: dict[str, AreaBoundary] = {}
    with session_scope(settings) as session:
        for row in session.scalars(select(AreaBoundary).order_by(AreaBoundary.id)):
            session.expunge(row)
            out[row.level] = row
    return out


def area_names(settings: Settings) -> dict[str, str]:
    """Code → name over every level's current boundaries."""
    names: dict[str, str] = {}
    with duckdb_session(settings) as con:
        for row in current_boundaries(settings).values():
            source = SnapshotStore(settings).sql_source(row.snapshot_sha256)
            for code, name in con.execute(f"SELECT code, name FROM {source}").fetchall():
                if name:
                    names[str(code)] = str(name)
    return names


def _signed_area(ring: list[list[float]]) -> float:
    """Twice the planar signed area of a ring (positive: counter-clockwise)."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))


def for_d3(geometry: dict[str, Any]) -> dict[str, Any]:
    """The geometry with d3-geo's winding (Vega draws with d3): outer rings clockwise, holes
    counter-clockwise. GeoJSON (RFC 7946) asks for the opposite and files differ, so every
    ring is set, not trusted; a ring the wrong way round would paint the rest of the globe."""

    def polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
        out = []
        for i, ring in enumerate(rings):
            clockwise = _signed_area(ring) < 0
            want_clockwise = i == 0
            out.append(ring if clockwise == want_clockwise else ring[::-1])
        return out

    coords = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": polygon(coords)}
    return {"type": "MultiPolygon", "coordinates": [polygon(p) for p in coords]}


def feature_collection(
    settings: Settings, level: str, codes: set[str] | None = None
) -> dict[str, Any]:
    """The level's current boundaries as GeoJSON (``properties``: code, name), optionally only
    the areas in ``codes``, wound for d3-geo (:func:`for_d3`); empty when none are loaded."""
    row = current_boundaries(settings).get(check_level(level))
    features: list[dict[str, Any]] = []
    if row is not None:
        with duckdb_session(settings) as con:
            source = SnapshotStore(settings).sql_source(row.snapshot_sha256)
            for code, name, geometry in con.execute(
                f"SELECT code, name, geometry FROM {source} ORDER BY code"
            ).fetchall():
                if codes is None or code in codes:
                    features.append(
                        {
                            "type": "Feature",
                            "properties": {"code": code, "name": name or code},
                            "geometry": for_d3(json.loads(geometry)),
                        }
                    )
    return {"type": "FeatureCollection", "features": features}


def load_region_boundaries(settings: Settings, manifest_path: Path, actor: str) -> dict[str, Any]:
    """Load a synthetic region's generated boundaries (manifest key ``boundaries``)."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    paths = manifest.get("boundaries") or {}
    if not paths:
        raise BoundaryError(f"{Path(manifest_path).name}: the region lists no boundaries")
    loaded = [
        load_boundaries(settings, Path(manifest_path).parent / rel, level, actor)
        for level, rel in sorted(paths.items())
    ]
    return {"boundaries": loaded}
