"""Parquet, read by DuckDB with every column cast to text.

The footer magic is checked first (a file cut short loses its footer: ``truncated``). Columns
of nested types (struct, list, map, union) are rejected (``nested_column``) unless
``ReadOptions(nested="json")``, which keeps them as JSON text. Whole-number floating-point
values are written without ``.0`` (a UPRN that pandas stored as ``float64`` reads as
``100023336956``, not ``100023336956.0``); dates and timestamps read as ISO 8601. ``_row`` is the
row's 1-based position in the file.
"""

from __future__ import annotations

import duckdb

from joinedup.ingest.readers.context import ReadContext
from joinedup.ingest.readers.table import (
    check_headers,
    drop_table,
    finish,
    new_stage_name,
    q,
)

MAGIC = b"PAR1"
NESTED = ("STRUCT", "MAP", "UNION")


def _is_nested(kind: str) -> bool:
    return kind.startswith(NESTED) or kind.endswith("]")


def _text_expr(name: str, kind: str) -> str:
    col = q(name)
    if _is_nested(kind):
        return f"CAST(to_json({col}) AS VARCHAR)"
    if kind in ("DOUBLE", "FLOAT"):
        return (
            f"CASE WHEN isfinite({col}) AND {col} = trunc({col}) AND abs({col}) < 1e15 "
            f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END"
        )
    if kind.startswith("TIMESTAMP"):
        return f"replace(CAST({col} AS VARCHAR), ' ', 'T')"
    return f"CAST({col} AS VARCHAR)"


def read_parquet(ctx: ReadContext, table: str) -> tuple[list[str], int]:
    """Read a Parquet file into ``table``; returns (columns, rows)."""
    with ctx.path.open("rb") as fh:
        fh.seek(max(0, ctx.size - 4))
        tail = fh.read(4)
    if ctx.size < 12 or tail != MAGIC:
        raise ctx.error("truncated", "the Parquet file is cut short (its footer is missing)")
    con = ctx.con
    try:
        described = con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
            [str(ctx.path)],
        ).fetchall()
    except duckdb.Error:
        raise ctx.error("corrupt", "the Parquet metadata cannot be read") from None
    names = [str(n) for n, _ in described]
    header = check_headers(ctx, names, None)
    kinds = [str(k) for _, k in described]
    nested = [n for n, k in zip(names, kinds, strict=True) if _is_nested(k)]
    if nested and ctx.options.nested == "reject":
        raise ctx.error(
            "nested_column",
            f"the column '{nested[0]}' has a nested type; columns must hold single values",
            None,
            nested[0],
        )
    if nested:
        ctx.warn("nested", "nested values kept as JSON text in: " + ", ".join(nested))
    select = ", ".join(
        f"{_text_expr(n, k)} AS c{i}" for i, (n, k) in enumerate(zip(names, kinds, strict=True))
    )
    stage = new_stage_name()
    try:
        try:
            con.execute(
                f"CREATE TABLE {q(stage)} AS SELECT {select} FROM read_parquet(?)",
                [str(ctx.path)],
            )
        except duckdb.Error:
            raise ctx.error("corrupt", "the Parquet data cannot be read") from None
        rows = finish(ctx, stage, table, header, "rowid + 1")
    finally:
        drop_table(ctx, stage)
    return header.names, rows
