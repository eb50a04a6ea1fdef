"""``datastore_search_sql``: one read-only SELECT over approved releases' tables.

The statement is parsed with sqlglot (PostgreSQL dialect, as CKAN's datastore speaks): exactly
one statement, a query (SELECT, possibly with WITH, UNION, INTERSECT or EXCEPT), and every table
it reads is either one of its own WITH names or an approved release's resource id
(``"<name>-v<version>"``). Table functions (``read_csv(…)``, ``read_parquet(…)``), schemas,
catalogues and anything that is not a query are refused. It then runs, translated to DuckDB,
in a fresh in-memory DuckDB holding only the tables it names, with external access switched
off and the configuration locked, one thread, a memory limit, a time limit
(:data:`TIME_LIMIT`, the query is interrupted) and a row limit (:data:`ROW_LIMIT`, then
``records_truncated``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from joinedup.config import Settings
from joinedup.store import SnapshotStore

ROW_LIMIT = 10_000
TIME_LIMIT = 10.0
MAX_SQL = 10_000
_DUCK_TYPES = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "DOUBLE": "float8",
    "BOOLEAN": "bool",
    "DATE": "date",
    "VARCHAR": "text",
    "TIMESTAMP": "timestamp",
}
_FORBIDDEN = (
    exp.DML,
    exp.DDL,
    exp.Command,
    exp.Pragma,
    exp.Set,
    exp.Transaction,
    exp.Into,
    exp.Lock,
)


#: DuckDB functions that reach outside the query's tables (files, settings, the catalogue);
#: refused by name in the parsed tree, and blocked again by the sandbox at run time.
_SYSTEM_FUNCTIONS: tuple[str, ...] = ("read_", "glob", "getenv", "current_setting", "duckdb_")
_SYSTEM_FUNCTIONS += ("pragma_", "sniff_", "parquet_", "which_secret", "load", "install", "query")
_SYSTEM_FUNCTIONS += ("iceberg_", "delta_")


class SqlRefused(ValueError):
    """A statement that may not run (the message says why)."""


@dataclass
class SqlResult:
    fields: list[dict[str, str]]
    records: list[dict[str, Any]]
    truncated: bool


def check_sql(sql: str, tables: set[str]) -> tuple[str, set[str]]:
    """The statement in DuckDB's dialect and the release tables it reads; raises
    :class:`SqlRefused` for anything but one read-only query over ``tables``."""
    if not sql.strip():
        raise SqlRefused("sql: Missing value")
    if len(sql) > MAX_SQL:
        raise SqlRefused(f"sql: at most {MAX_SQL} characters")
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else "cannot parse"
        raise SqlRefused(f"sql: not valid SQL: {str(first)[:200]}") from None
    except (SqlglotError, RecursionError):  # a token it cannot read; nesting too deep
        raise SqlRefused("sql: not valid SQL") from None
    if len(statements) != 1:
        raise SqlRefused("sql: exactly one statement, please")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise SqlRefused("sql: only a SELECT query may run")
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            raise SqlRefused(f"sql: {node.key.upper()} is not allowed: the datastore is read only")
        if isinstance(node, exp.Anonymous) and node.name.lower().startswith(_SYSTEM_FUNCTIONS):
            raise SqlRefused(f"sql: the function {node.name[:40]} is not allowed")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    used: set[str] = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise SqlRefused("sql: only published tables may be read (no table functions)")
        if table.args.get("db") or table.args.get("catalog"):
            raise SqlRefused(f"sql: no schema or catalogue names ({table.sql()[:80]})")
        name = table.name
        if name in ctes:
            continue
        if name not in tables:
            raise SqlRefused(f'sql: no published table "{name[:80]}"')
        used.add(name)
    return tree.sql(dialect="duckdb"), used


def run_sql(settings: Settings, sql: str, tables: dict[str, str]) -> SqlResult:
    """Run ``sql`` over the releases ``tables`` (resource id → table snapshot sha256)."""
    duck_sql, used = check_sql(sql, set(tables))
    store = SnapshotStore(settings)
    con = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": "512MB"})
    timer = threading.Timer(TIME_LIMIT, con.interrupt)
    try:
        for name in sorted(used):
            path = store.path_of(tables[name])
            con.execute(
                f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet(?)',  # name from allow-list
                [str(path)],
            )
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        timer.start()
        try:
            cursor = con.execute(duck_sql)
            rows = cursor.fetchmany(ROW_LIMIT + 1)
        except duckdb.InterruptException:
            raise SqlRefused(f"sql: the query took longer than {TIME_LIMIT:g} seconds") from None
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            raise SqlRefused(f"sql: {message[:300]}") from None
        described = cursor.description or []
    finally:
        timer.cancel()
        con.close()
    names = [d[0] for d in described]
    fields = [{"id": d[0], "type": _DUCK_TYPES.get(str(d[1]), "text")} for d in described]
    records = [
        {
            n: v.isoformat() if hasattr(v, "isoformat") else v
            for n, v in zip(names, row, strict=True)
        }
        for row in rows[:ROW_LIMIT]
    ]
    return SqlResult(fields=fields, records=records, truncated=len(rows) > ROW_LIMIT)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
