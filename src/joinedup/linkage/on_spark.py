"""Linkage's pair scoring on Spark (``JOINEDUP_ENGINE=spark``; ADR 0038).

The engine boundary: the governed read and the preparation of records stay where they are
(``linkage/inputs.py`` through ``governance/access.py``, then ``linkage/prepare.py`` in
DuckDB), so the policy decision, the objection filter and the audit event happen before
Spark sees a row, and Spark receives only the prepared projection of the allowed records.
Spark then does what grows faster than the records: blocking, comparing the pairs of EM's
sessions (counted into agreement patterns), and scoring every candidate pair, through
Splink's ``SparkAPI``. u's sample (a fixed 2 million pairs) and EM's iterations (over the
pattern counts) are bounded whatever the size: DuckDB runs them (ADR 0046). The scored pairs
come back as Parquet and everything after (calibration, clustering, stable ids, storage)
runs as on DuckDB.

The model's SQL is written once, in DuckDB's dialect (the model JSON holds it, and review,
explanation and incremental runs read it); :func:`spark_sql` emits Spark's dialect from it
with ``sqlglot``, naming similarity functions as Splink's Spark dialect does. Trained
parameters come back onto the DuckDB settings (:func:`with_parameters`), so a model trained
on Spark is the same file as one trained on DuckDB.
"""

from __future__ import annotations

import copy
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from splink.internals.dialects import SparkDialect
from sqlglot import exp

from joinedup.config import Settings
from joinedup.store.spark import spark_session

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import DataFrame, SparkSession
    from splink import Linker

_DIALECT = SparkDialect()
#: DuckDB functions whose Spark equivalents Splink's Spark dialect names (the similarity
#: functions come from Splink's jar, registered by ``SparkAPI``).
_RENAMED = {
    "JAROWINKLER_SIMILARITY": _DIALECT.jaro_winkler_function_name,
    "JARO_WINKLER_SIMILARITY": _DIALECT.jaro_winkler_function_name,
    "JARO_SIMILARITY": _DIALECT.jaro_function_name,
    "DAMERAU_LEVENSHTEIN": _DIALECT.damerau_levenshtein_function_name,
    "LEVENSHTEIN": _DIALECT.levenshtein_function_name,
    "PREFIX": "startswith",
    "SUFFIX": "endswith",
}


def _spark_node(node: exp.Expression) -> exp.Expression:
    """One node of a DuckDB expression as Spark reads it, where sqlglot's own translation is
    not Spark SQL (array overlap and containment, a list's length, Splink's UDF names)."""
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Length) and isinstance(node.this, (exp.Split, exp.Array)):
        return exp.ArraySize(this=node.this)
    name = (node.name if isinstance(node, exp.Anonymous) else node.key).upper()
    if isinstance(node, exp.Anonymous) and name == "LIST_HAS_ALL":
        whole, part = node.expressions
        # every element of ``part`` is in ``whole``
        return exp.EQ(
            this=exp.ArraySize(this=exp.Anonymous(this="array_except", expressions=[part, whole])),
            expression=exp.Literal.number(0),
        )
    if isinstance(node, exp.Func):
        sql_name = node.sql_name().upper() if not isinstance(node, exp.Anonymous) else name
        target = _RENAMED.get(sql_name)
        if target:
            return exp.Anonymous(this=target, expressions=_arguments(node))
    return node


def _arguments(node: exp.Func) -> list[exp.Expression]:
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    return [node.args[k] for k in node.arg_types if node.args.get(k) is not None]


def spark_sql(sql: str) -> str:
    """``sql`` (a DuckDB condition or blocking rule) in Spark's dialect."""
    if sql.strip().upper() == "ELSE":
        return sql
    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(_spark_node).sql(dialect="spark")


def spark_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of Splink settings with every level's SQL and blocking rule in Spark's
    dialect."""
    out = copy.deepcopy(settings)
    for comparison in out.get("comparisons", []):
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = spark_sql(level["sql_condition"])
    rules = out.get("blocking_rules_to_generate_predictions", [])
    out["blocking_rules_to_generate_predictions"] = [
        {**r, "blocking_rule": spark_sql(r["blocking_rule"])}
        if isinstance(r, dict)
        else spark_sql(r)
        for r in rules
    ]
    out["sql_dialect"] = "spark"
    return out


def with_parameters(trained: dict[str, Any], canonical: dict[str, Any]) -> dict[str, Any]:
    """``trained`` (settings saved from a Spark linker) with the SQL of ``canonical`` (the
    DuckDB settings it was made from): same comparisons and levels, in the same order."""
    out = copy.deepcopy(trained)
    pairs = zip(out["comparisons"], canonical["comparisons"], strict=True)
    for got, source in pairs:
        for level, original in zip(
            got["comparison_levels"], source["comparison_levels"], strict=True
        ):
            level["sql_condition"] = original["sql_condition"]
    # as Splink saves a DuckDB linker's rules: each names its dialect
    out["blocking_rules_to_generate_predictions"] = [
        {**r, "sql_dialect": "duckdb"} if isinstance(r, dict) else r
        for r in copy.deepcopy(canonical.get("blocking_rules_to_generate_predictions", []))
    ]
    out["sql_dialect"] = "duckdb"
    return out


@dataclass
class SparkLinkage:
    """One linkage run's use of Spark: its session, its exchange folder (Parquet handed
    between DuckDB and Spark, removed by :meth:`close`) and the tables already handed over."""

    spark: SparkSession
    folder: Path
    frames: dict[str, DataFrame] = field(default_factory=dict)
    #: Linkers made so far: each registers its inputs under its own names (Spark's temporary
    #: views outlive a linker; Splink refuses to register over one).
    linkers: int = 0

    @classmethod
    def open(cls, settings: Settings) -> SparkLinkage:
        spark = spark_session(settings)
        folder = settings.tmp_dir / "spark" / f"linkage-{uuid.uuid4().hex[:12]}"
        (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
        # Splink breaks long lineages by writing intermediate tables to the checkpoint folder
        spark.sparkContext.setCheckpointDir(str(folder / "checkpoints"))
        return cls(spark, folder)

    @property
    def lineage(self) -> str:
        """How Splink breaks its long lineages: on one machine (``local[N]``) by caching the
        intermediate tables in memory (spilling to disk; about a third of the fixed cost of a
        Parquet round trip per table, docs/benchmarks.md), on a cluster by writing them as
        Parquet to the checkpoint folder (executors may be lost; the files survive them)."""
        master = self.spark.sparkContext.master or ""
        return "persist" if master.startswith("local") else "parquet"

    def frame(self, con: duckdb.DuckDBPyConnection, table: str) -> DataFrame:
        """DuckDB ``table`` as a Spark DataFrame (written once as Parquet)."""
        if table not in self.frames:
            # Spark skips files whose names start with "_" or "." (``__jd_tf_full_name``)
            path = self.folder / f"t{len(self.frames)}-{table.lstrip('_.')}.parquet"
            con.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT parquet)")
            self.frames[table] = self.spark.read.parquet(str(path))
        return self.frames[table]

    def forget(self, table: str) -> None:
        """Hand ``table`` over again next time (DuckDB changed it)."""
        self.frames.pop(table, None)

    def handover(self, con: duckdb.DuckDBPyConnection) -> Callable[[str], DataFrame]:
        """A function handing a DuckDB table (made or remade since) to Spark."""

        def fresh(table: str) -> DataFrame:
            self.forget(table)
            return self.frame(con, table)

        return fresh

    def linker(
        self, con: duckdb.DuckDBPyConnection, tables: list[str], settings: dict[str, Any]
    ) -> Linker:
        """A Splink linker on Spark over DuckDB ``tables`` with DuckDB-dialect ``settings``."""
        from splink import Linker, SparkAPI

        db_api = SparkAPI(spark_session=self.spark, break_lineage_method=self.lineage)
        self.linkers += 1
        frames = [
            db_api.register(self.frame(con, t), table_name=f"__jd_input_{self.linkers}_{i}")
            for i, t in enumerate(tables)
        ]
        for frame, name in zip(frames, tables, strict=True):
            frame.dataset_display_name = name
        inputs: Any = frames[0] if len(frames) == 1 else frames
        return Linker(inputs, spark_settings(settings), log_level=None, validate_settings=False)

    def to_duckdb(self, con: duckdb.DuckDBPyConnection, frame: Any, table: str) -> None:
        """Splink's Spark result ``frame`` as DuckDB table ``table`` (through Parquet)."""
        path = self.folder / f"out-{table.lstrip('_')}-{uuid.uuid4().hex[:8]}"
        frame.as_spark_dataframe().write.mode("overwrite").parquet(str(path))
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet('{path}/*.parquet')"
        )
        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        """Drop the run's temporary views, cached tables and Parquet files (the session stays
        for the process)."""
        for name in self.spark.catalog.listTables():
            if name.isTemporary:
                self.spark.catalog.dropTempView(name.name)
        self.frames.clear()
        self.spark.catalog.clearCache()  # the tables Splink cached (``lineage``)
        shutil.rmtree(self.folder, ignore_errors=True)
