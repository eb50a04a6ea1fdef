"""The heavy stages on Spark ``local[2]`` give what they give on DuckDB (issue 19, ADR 0038).

On a copy of the demo region: every ingest mapping's validation (accepted and quarantined
rows, their reasons and types), the indicator rules' flags (byte for byte), and the
published aggregates after disclosure control. One Spark session serves the whole test
session (store/spark.py keeps it); skipped, with the reason, where Spark cannot run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Publication
from joinedup.config import Settings
from joinedup.demo import source_dir
from joinedup.governance.processing import ServiceActor
from joinedup.ingest.compile import compile_ingest_sql
from joinedup.ingest.mapping import load_mapping
from joinedup.ingest.readers import ReadOptions, read_source
from joinedup.insight.run import RunOptions, latest_insight_run, run_insight
from joinedup.publish.build import build_aggregate
from joinedup.publish.definitions import IndicatorAggregate, known_rule_ids, parse_definition
from joinedup.publish.inputs import PURPOSE, hub_code
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.engine import engine_table, spark_query
from joinedup.store.spark import spark_problem
from tests.regions import Region

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(spark_problem() is not None, reason=f"Spark: {spark_problem()}"),
]

MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "joinedup" / "ingest" / "mappings"
#: rules with a present and an absent source, a version in force and a household link
RULES = ("fsm-eligible-not-registered", "rent-arrears-with-children")


def on(settings: Settings, engine: str) -> Settings:
    return dataclasses.replace(settings, engine=engine, spark_master="local[2]")


@pytest.fixture(scope="module")
def region(private_demo: Region) -> Iterator[Region]:
    yield private_demo


def test_portable_forms_give_duckdb_values_on_spark(region: Region) -> None:
    values = [
        "Dr  Zoë O'Brien-Smith", "ŁUKASZ", "Flat 3, 12 High St, Brixton, London", "1/2/2024",
        "31-Jan-2024", "sw1a1aa", "", None, "+5.0", "a,b", "A1234567890123",
    ]  # fmt: skip
    sql = (
        "SELECT x, upper(strip_accents(x)) AS accents, "
        "regexp_full_match(x, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}') AS full, "
        "regexp_replace(x, '^(dr|mr)\\.?\\s+', '', 'i') AS title, "
        "regexp_replace(upper(x), '^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$', '\\1 \\2') "
        "AS postcode, CAST(try_strptime(x, '%d/%m/%Y') AS DATE) AS dmy, "
        "CAST(try_strptime(x, '%d-%b-%Y') AS DATE) AS dby, "
        "string_split(x, ',')[-1] AS last, string_split(x, ',')[2:] AS rest, "
        "array_to_string(string_split(x, ',')[1:-2], '|') AS middle, "
        "array_length(list_filter(string_split(x, ','), lambda s: s <> '')) AS parts "
        "FROM t ORDER BY x NULLS LAST"
    )
    table = pa.table({"x": pa.array(values, pa.string())})
    with duckdb_session(region.settings) as con:
        con.register("t", table)
        duck = con.sql(sql).to_arrow_table()
    spark = spark_query(on(region.settings, "spark"), {"t": table}, sql)
    assert spark.to_pylist() == duck.to_pylist()


def _sql(entry: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The file's validation query, with the period the demo's ingest gives it."""
    mapping = load_mapping(MAPPINGS / entry["mapping"])
    if mapping.needs_period:
        mapping = mapping.with_period(entry["period"] or manifest["period"]["end"])
    return compile_ingest_sql(mapping, "src", "2026-12-01")


def _checked(settings: Settings, path: Path, sql: str) -> dict[str, Any]:
    out = {}
    with duckdb_session(settings) as con:
        read_source(con, path, "src", ReadOptions(), tmp_dir=settings.tmp_dir)
        for engine in ("duckdb", "spark"):
            engine_table(on(settings, engine), con, engine, sql, ["src"])
            out[engine] = (
                con.sql(f"DESCRIBE {engine}").fetchall(),
                con.sql(f"SELECT * FROM {engine} ORDER BY _row").fetchall(),
            )
    return out


def test_every_mapping_accepts_and_quarantines_the_same_rows_on_spark(region: Region) -> None:
    folder = source_dir(region.settings)
    manifest = json.loads((folder / "manifest.json").read_text())
    seen: set[str] = set()  # one file per distinct query (councils share some layouts)
    standards: set[str] = set()
    quarantined = 0
    for entry in manifest["files"]:
        if not entry["rows"]:
            continue
        sql = _sql(entry, manifest)
        if sql in seen:
            continue
        seen.add(sql)
        standards.add(entry["standard"])
        result = _checked(region.settings, folder / entry["path"], sql)
        assert result["spark"] == result["duckdb"], entry["mapping"]
        rows = result["duckdb"][1]
        quarantined += sum(1 for r in rows if r[-1])
    # every standard the region's files follow (the region has nine)
    expected = {entry["standard"] for entry in manifest["files"] if entry["rows"]}
    assert standards == expected and len(standards) >= 9
    # and rows that fail: the demo's files are clean, so spoil one CSV's first three rows
    # (every value blank: required fields missing) and check both engines quarantine the same
    entry = next(e for e in manifest["files"] if e["rows"] and e["path"].endswith(".csv"))
    lines = (folder / entry["path"]).read_text(encoding="utf-8").splitlines()
    width = lines[0].count(",")
    spoiled = region.settings.tmp_dir / "spoiled.csv"
    spoiled.write_text("\n".join([lines[0], *["," * width] * 3, *lines[4:]]) + "\n")
    result = _checked(region.settings, spoiled, _sql(entry, manifest))
    assert result["spark"] == result["duckdb"], entry["mapping"]
    quarantined += sum(1 for r in result["duckdb"][1] if r[-1])
    assert quarantined >= 3


def _flags(settings: Settings, sha256: str) -> list[tuple[Any, ...]]:
    store = SnapshotStore(settings)
    wanted = ", ".join(f"'{r}'" for r in RULES)
    with duckdb_session(settings) as con:
        return con.sql(
            f"SELECT * FROM {store.sql_source(sha256)} WHERE rule_id IN ({wanted}) ORDER BY flag_id"
        ).fetchall()


def test_the_rules_flag_the_same_residents_on_spark(region: Region) -> None:
    before = latest_insight_run(region.settings)
    assert before is not None
    options = RunOptions(run_date=before.run_date, rule_ids=RULES)
    result = run_insight(on(region.settings, "spark"), options)
    after = latest_insight_run(region.settings)
    assert after is not None and after.id == result["run"] != before.id
    flags = _flags(region.settings, after.flags_sha256)
    assert flags and flags == _flags(region.settings, before.flags_sha256)


def test_the_published_aggregates_are_the_same_after_disclosure_control(region: Region) -> None:
    with session_scope(region.settings) as session:
        documents = {p.name: dict(p.definition) for p in session.scalars(select(Publication))}
    built = 0
    for name, document in documents.items():
        definition = parse_definition(document, name, known_rule_ids())
        if not isinstance(definition, IndicatorAggregate):
            continue
        actor = ServiceActor(hub_code(region.settings), PURPOSE, name=f"publish:{name}")
        tables = [
            build_aggregate(on(region.settings, e), definition, actor, lambda f, m: None).table
            for e in ("duckdb", "spark")
        ]
        assert tables[1].equals(tables[0]), name
        assert tables[0].num_rows > 0
        built += 1
    assert built >= 2
