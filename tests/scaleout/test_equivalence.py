"""The same region through DuckDB and Spark ``local[2]`` gives the same results (issue 19,
ADR 0038): the equivalence test of ``make test``.

One module, so that pytest-xdist (``--dist loadscope``) runs it on one worker with one JVM: the
session's Spark (``conftest.py``) serves every test, and every test reads copies of one small
region (``LINKED``, built once and cached by :mod:`tests.regions`; the linkage review tests
share it).

* Ingest: every mapping's validation query (accepted and quarantined rows, their reasons and
  types), one file per distinct query.
* Insight: the indicator rules' flags, byte for byte.
* Publication: the published aggregates after disclosure control.
* Linkage: the resident index built on each engine from a copy of the region; the clusters
  agree on at least 99.9% of records (u and EM's iterations run in DuckDB for both, ADR 0046;
  Spark blocks and compares the pairs, so weights may differ in the last digits; clusters
  must not), the governed read is the same (the same audit events, made before Spark saw a
  row), and the model Spark trained is a DuckDB model file. Each comparison level's SQL, emitted in
  Spark's dialect, gives the same answer as DuckDB's on real pairs of prepared records.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
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
from joinedup.linkage.on_spark import spark_sql
from joinedup.linkage.runs import latest_run
from joinedup.publish.build import build_aggregate
from joinedup.publish.definitions import IndicatorAggregate, known_rule_ids, parse_definition
from joinedup.publish.inputs import PURPOSE, hub_code
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.engine import engine_table, spark_query
from tests.regions import LINKED, Region, copy_region
from tests.scaleout.builds import duckdb_build, spark_build
from tests.scaleout.conftest import on_spark

#: A Spark build of the region runs some 800 small Spark stages (EM iterations, sampling,
#: scoring): minutes of CPU, beyond the suite's 600 s limit on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("spark"), pytest.mark.timeout(1800)]

MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "joinedup" / "ingest" / "mappings"
#: rules with a present and an absent source, a version in force and a household link
RULES = ("fsm-eligible-not-registered", "rent-arrears-with-children")
AGREEMENT = 0.999


def on(settings: Settings, engine: str) -> Settings:
    return on_spark(settings) if engine == "spark" else settings


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Region:
    """The copy the ingest, insight and publication tests read (the insight test adds a run)."""
    return copy_region(LINKED, tmp_path_factory.mktemp("eq-stages") / "home")


# --- ingest, insight and publication ----------------------------------------------------------


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
    spark = spark_query(on_spark(region.settings), {"t": table}, sql)
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
    result = run_insight(on_spark(region.settings), options)
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


# --- linkage ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One copy of the linked region built on each engine (the DuckDB build cached with the
    region: :mod:`tests.scaleout.builds`)."""
    return {
        "duckdb": duckdb_build(tmp_path_factory.mktemp("eq-duckdb") / "home"),
        "spark": spark_build(tmp_path_factory.mktemp("eq-spark") / "home", on_spark),
    }


def test_linkage_clusters_agree_on_duckdb_and_spark(builds: dict[str, Any]) -> None:
    duck, spark = builds["duckdb"]["clusters"], builds["spark"]["clusters"]
    assert set(duck) == set(spark) and len(duck) > 1000
    agree = sum(duck[r] == spark[r] for r in duck) / len(duck)
    assert agree >= AGREEMENT, f"clusters agree on {agree:.4%} of records"
    assert builds["spark"]["summary"]["records"] == builds["duckdb"]["summary"]["records"]


def test_spark_reads_through_the_same_governed_read(builds: dict[str, Any]) -> None:
    """The decision and audit happen in the control plane, once per dataset, on both engines."""
    duck, spark = builds["duckdb"]["audit"], builds["spark"]["audit"]
    assert duck == spark
    assert sum(duck.values()) > 0


def test_a_model_trained_on_spark_is_a_duckdb_model(builds: dict[str, Any]) -> None:
    duck = builds["duckdb"]["model"]["splink_settings"]
    spark = builds["spark"]["model"]["splink_settings"]
    assert builds["spark"]["model"]["training"]["engine"] == "spark"
    assert spark.get("sql_dialect", "duckdb") == "duckdb"
    conditions = [
        [lv["sql_condition"] for lv in c["comparison_levels"]] for c in spark["comparisons"]
    ]
    assert conditions == [
        [lv["sql_condition"] for lv in c["comparison_levels"]] for c in duck["comparisons"]
    ]
    assert (
        spark["blocking_rules_to_generate_predictions"]
        == duck["blocking_rules_to_generate_predictions"]
    )


def test_every_level_means_the_same_in_spark_sql(builds: dict[str, Any], spark: Any) -> None:
    """Each level of the scoring model, on pairs of the region's prepared records (pairs
    that share a postcode or family name, so that most levels are reached): DuckDB's SQL
    and the Spark SQL emitted from it give the same truth value on every pair."""
    settings = builds["duckdb"]["settings"]
    run = latest_run(settings)
    assert run is not None and run.records_sha256
    records = SnapshotStore(settings).sql_source(run.records_sha256)
    con = duckdb.connect()
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {records}").fetchall()]
    pick = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in columns)
    con.execute(
        f"""CREATE TABLE pairs AS SELECT row_number() OVER () AS pair, {pick}
        FROM {records} l JOIN {records} r
          ON (l.postcode = r.postcode OR l.family_compact = r.family_compact)
         AND l.record_key < r.record_key
        USING SAMPLE reservoir(3000 ROWS) REPEATABLE (19)"""
    )
    # the scoring model as stored: household-context, conflict and namesakes levels included
    model = json.loads((settings.home / run.model_path).read_text())["splink_settings"]
    levels = [
        (c["output_column_name"], i, lv["sql_condition"])
        for c in model["comparisons"]
        for i, lv in enumerate(c["comparison_levels"])
        if lv["sql_condition"] != "ELSE"
    ]
    select_duck = ", ".join(
        f"coalesce(({sql}), FALSE) AS c{n}" for n, (_, _, sql) in enumerate(levels)
    )
    select_spark = ", ".join(
        f"coalesce(({spark_sql(sql)}), FALSE) AS c{n}" for n, (_, _, sql) in enumerate(levels)
    )
    from splink import SparkAPI

    SparkAPI(spark_session=spark)  # registers Splink's similarity functions in the session
    path = settings.tmp_dir / "pairs.parquet"
    con.execute(f"COPY pairs TO '{path}' (FORMAT parquet)")
    on_duck = {
        row[0]: row[1:] for row in con.execute(f"SELECT pair, {select_duck} FROM pairs").fetchall()
    }
    spark.read.parquet(str(path)).createOrReplaceTempView("jd_pairs")
    on_spark_rows = {
        row[0]: tuple(row[1:])
        for row in spark.sql(f"SELECT pair, {select_spark} FROM jd_pairs").collect()
    }
    assert len(on_duck) > 1000 and set(on_duck) == set(on_spark_rows)
    differ = Counter(
        f"{levels[n][0]} level {levels[n][1]}"
        for pair, values in on_duck.items()
        for n, value in enumerate(values)
        if value != on_spark_rows[pair][n]
    )
    assert not differ, differ
    reached = {n for values in on_duck.values() for n, v in enumerate(values) if v}
    assert len(reached) > len(levels) // 2  # the pairs exercise most levels
