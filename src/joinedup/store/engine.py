"""Run a heavy query on the chosen engine: DuckDB in process, or Spark (ADR 0038).

The stages keep one DuckDB connection as their workspace: the governed reads land there
(decided, objectors left out, audited, in :mod:`joinedup.governance`), and the small
bookkeeping queries and the snapshot writes run there. :func:`engine_table` runs one heavy
query of a stage (ingest validation, an indicator rule, the publication's placing of flags)
over named tables of that workspace and leaves its result there as a table:

* ``duckdb``: ``CREATE TABLE <name> AS <query>`` on the connection;
* ``spark``: the input tables, exactly the rows and columns already in the workspace (so
  only what the gateway allowed), go to Spark as Arrow; the query, transpiled to Spark SQL
  (:func:`joinedup.store.dialect.spark_sql`), runs there and its rows come back as Arrow.

Either way the stage writes the same snapshots from the same table.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import duckdb
import pyarrow as pa

from joinedup.config import Settings
from joinedup.store.dialect import spark_sql
from joinedup.store.sql import ident

#: Spark's temporary views are global to its session: one query at a time in this process.
_spark_lock = threading.Lock()


def engine_table(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    name: str,
    sql: str,
    inputs: Sequence[str],
    *,
    temp: bool = False,
) -> None:
    """Create table ``name`` on ``con`` from ``sql`` (DuckDB SQL over the tables or views
    ``inputs`` of ``con``), computed by ``settings.engine``."""
    kind = "TEMP TABLE" if temp else "TABLE"
    if settings.engine != "spark":
        con.execute(f"CREATE {kind} {ident(name)} AS {sql}")
        return
    tables = {t: con.sql(f"SELECT * FROM {ident(t)}").to_arrow_table() for t in inputs}
    result = spark_query(settings, tables, sql)
    view = f"__engine_{name}"
    con.register(view, result)
    try:
        con.execute(f"CREATE {kind} {ident(name)} AS SELECT * FROM {ident(view)}")
    finally:
        con.unregister(view)


def spark_query(settings: Settings, tables: dict[str, pa.Table], sql: str) -> pa.Table:
    """The rows of ``sql`` (DuckDB SQL over ``tables``) computed by Spark, as Arrow."""
    from joinedup.store.spark import spark_session

    spark = spark_session(settings)
    with _spark_lock:
        try:
            for table_name, table in tables.items():
                spark.createDataFrame(_spark_ready(table)).createOrReplaceTempView(table_name)
            return spark.sql(spark_sql(sql)).toArrow()
        finally:
            for table_name in tables:
                spark.catalog.dropTempView(table_name)


def _spark_ready(table: pa.Table) -> pa.Table:
    """DuckDB's Arrow as Spark reads it: string views as strings."""
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_string_view(f.type) else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table
