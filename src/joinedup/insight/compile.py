"""Compile an indicator rule to one DuckDB query over its source tables.

Each source alias becomes a CTE over the table of its rows (the runner reads them through the
governance gateway and joins the resident index, so every row has ``resident_id``,
``household_id``, ``household_residents`` and its provenance ``_organisation``, ``_dataset``,
``_version``, ``_date``, ``_row``): derived columns first, then the source's own conditions,
then ``latest_per`` (the last row in file order per key). Present sources are joined to the
subject by resident or household; absent sources become ``NOT EXISTS``. The version in force
at ``as_at`` adds its condition. One row per subject resident comes out, with the records that
fired (dataset, organisation, version, source record id, date) and the values that mattered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlglot
from sqlglot import expressions as exp

from joinedup.insight.rules import Rule, Source
from joinedup.store.sql import ident, lit


@dataclass(frozen=True)
class Context:
    """What the special names stand for in one evaluation."""

    run_date: date
    actor_gss: str | None
    actor_code: str
    #: per month (see :func:`compile_rule`): the column that holds each row's run date
    run_date_column: str | None = None


def _sql(text: str, ctx: Context, as_at: str | None) -> str:
    """An expression with the special names replaced, as DuckDB SQL."""
    tree = sqlglot.parse_one(text, read="duckdb")

    def swap(node: exp.Expression) -> Any:
        if isinstance(node, exp.Column) and not node.table:
            if node.name == "run_date" or (node.name == "as_at" and as_at is None):
                return sqlglot.parse_one(_run_date(ctx), read="duckdb")
            if node.name == "as_at":
                return sqlglot.parse_one(f"({as_at})", read="duckdb")
            if node.name == "actor_gss":
                return exp.Literal.string(ctx.actor_gss or "")
            if node.name == "actor_code":
                return exp.Literal.string(ctx.actor_code)
        return node

    return tree.transform(swap).sql(dialect="duckdb")


def _run_date(ctx: Context) -> str:
    return ctx.run_date_column or f"DATE '{ctx.run_date.isoformat()}'"


def _all(conditions: list[str]) -> str:
    return " AND ".join(f"({c})" for c in conditions) if conditions else "TRUE"


def _source_cte(src: Source, table: str, ctx: Context, per_month: bool) -> str:
    alias = ident(src.alias)
    if per_month:
        ctx = replace(ctx, run_date_column=f"{alias}.__run_date")
    derived = "".join(
        f", {_sql(text, ctx, None)} AS {ident(name)}" for name, text in src.derive.items()
    )
    inner = f"SELECT {alias}.*{derived} FROM {ident(table)} AS {alias}"
    conditions = [_sql(w, ctx, None) for w in src.where]
    body = f"SELECT {alias}.* FROM ({inner}) AS {alias} WHERE {_all(conditions)}"
    if src.latest_per:
        month = ["__month"] if per_month else []
        keys = ", ".join([*month, "_organisation", "_dataset", *(ident(k) for k in src.latest_per)])
        body += f" QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _row DESC) = 1"
    return f"{alias} AS ({body})"


def _link(src: Source, subject: str, per_month: bool) -> str:
    key = "resident_id" if src.link == "resident" else "household_id"
    a, s = ident(src.alias), ident(subject)
    month = f" AND {a}.__month = {s}.__month" if per_month else ""
    return f"{a}.{key} = {s}.{key}{month}"


def _record(alias: str) -> str:
    a = ident(alias)
    return (
        f"struct_pack(alias := {lit(alias)}, organisation := {a}._organisation, "
        f"dataset := {a}._dataset, version := {a}._version, "
        f"source_record_id := {a}.source_record_id, date := {a}._date)"
    )


def _value(rule: Rule, alias: str, column: str, kind: str) -> str:
    a = ident(alias)
    needs = rule.sources[alias].needs(column)
    needs_sql = "[" + ", ".join(lit(n) for n in needs) + "]::VARCHAR[]"
    return (
        f"struct_pack(kind := {lit(kind)}, alias := {lit(alias)}, field := {lit(column)}, "
        f"organisation := {a}._organisation, dataset := {a}._dataset, needs := {needs_sql}, "
        f"value := CAST({a}.{ident(column)} AS VARCHAR))"
    )


def compile_rule(
    rule: Rule, tables: dict[str, str], ctx: Context, *, per_month: bool = False
) -> str:
    """The query giving one row per flagged subject resident for ``rule``.

    ``tables`` names the table of each source alias. Output columns: ``resident_id``,
    ``household_id``, ``as_at`` (DATE), ``rule_version``, ``records`` (list of structs) and
    ``values`` (list of structs: kind reason|identity, alias, field, organisation, dataset,
    needs — the fields it is computed from — and the value as text).

    ``per_month``: each table holds the rows of many months (columns ``__month`` and
    ``__run_date``, the month's last day); the rule is judged for every month at once, as
    at that month's run date, and a ``month`` column comes out (one row per month and
    subject resident).
    """
    subject = rule.subject
    if per_month:
        ctx = replace(ctx, run_date_column=f"{ident(subject)}.__run_date")
    present = [a for a, s in rule.sources.items() if s.require == "present"]
    absent = [a for a, s in rule.sources.items() if s.require == "absent"]
    ctes = [_source_cte(rule.sources[a], tables[a], ctx, per_month) for a in rule.sources]
    as_at = _sql(rule.as_at, ctx, None)
    joins = []
    for alias in present:
        if alias == subject:
            continue
        src = rule.sources[alias]
        on = [_link(src, subject, per_month), *(_sql(w, ctx, as_at) for w in src.when)]
        joins.append(f"JOIN {ident(alias)} ON {_all(on)}")
    conditions = [_sql(w, ctx, as_at) for w in rule.where]
    for alias in absent:
        src = rule.sources[alias]
        inner = [_link(src, subject, per_month), *(_sql(w, ctx, as_at) for w in src.when)]
        conditions.append(f"NOT EXISTS (SELECT 1 FROM {ident(alias)} WHERE {_all(inner)})")
    if rule.versions:
        newest_first = list(reversed(rule.versions))
        version_case = (
            "CASE "
            + " ".join(
                f"WHEN ({as_at}) >= DATE '{v.effective_from.isoformat()}' THEN {lit(v.version)}"
                for v in newest_first
            )
            + " END"
        )
        condition_case = (
            "CASE "
            + " ".join(
                f"WHEN ({as_at}) >= DATE '{v.effective_from.isoformat()}' THEN "
                f"coalesce({_all([_sql(w, ctx, as_at) for w in v.where])}, FALSE)"
                for v in newest_first
            )
            + " ELSE FALSE END"
        )
        conditions.append(condition_case)
    else:
        version_case = "NULL::VARCHAR"
    records = "[" + ", ".join(_record(a) for a in present) + "]"
    values = [_value(rule, a, c, "reason") for a, c in rule.reasons]
    values += [_value(rule, a, c, "identity") for a, c in rule.identity]
    values_sql = "[" + ", ".join(values) + "]" if values else "[]"
    order = ", ".join(
        f"{ident(a)}._organisation, {ident(a)}._dataset, {ident(a)}.source_record_id"
        for a in present
    )
    s = ident(subject)
    month, by_month = (f"{s}.__month AS month, ", f"{s}.__month, ") if per_month else ("", "")
    return (
        "WITH "
        + ", ".join(ctes)
        + f""",
__combos AS (
  SELECT {month}{s}.resident_id AS resident_id, {s}.household_id AS household_id,
         CAST({as_at} AS DATE) AS as_at, {version_case} AS rule_version,
         {records} AS records, {values_sql} AS "values",
         row_number() OVER (
           PARTITION BY {by_month}{s}.resident_id
           ORDER BY CAST({as_at} AS DATE) DESC NULLS LAST, {order}
         ) AS __pick
  FROM {s} {" ".join(joins)}
  WHERE {s}.resident_id IS NOT NULL AND coalesce({_all(conditions)}, FALSE)
)
SELECT {"month, " if per_month else ""}resident_id, household_id, as_at, rule_version, records,
       "values"
FROM __combos WHERE __pick = 1"""
    )
