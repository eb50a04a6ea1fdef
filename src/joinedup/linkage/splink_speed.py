"""Fixed costs that Splink pays again and again for joinedup's settings, paid once.

* **Exact-match analysis of levels.** Every EM session asks each comparison level whether it
  is an exact match (to find the levels its blocking rule fixes); Splink answers by parsing
  and simplifying the level's SQL with sqlglot, about 10 ms a level, so 40-odd levels cost
  about half a second a session, the same answers each time. The answer depends only on the
  level's SQL and dialect, so it is computed once per process (:func:`speed_up`), and the
  answers for joinedup's own training levels are shipped (``exact_levels.json``, written by
  ``python -m joinedup.linkage.splink_speed`` with Splink's own analysis, and checked
  against it by a test): about 0.4 s of a 5,000-record dedupe. They are used only with the
  Splink version that gave them.
* **Parsing each level's SQL when a linker is made.** Each linker (one for training, one
  for scoring) translates every level's SQL to DuckDB's dialect and parses it again to
  validate it; both depend only on the SQL and the dialects, so each is done once.
* **Small tables from Python rows.** Splink hands lists of rows (u counts) to
  ``pyarrow.Table.from_pylist``, whose first use imports pandas (about a second with a cold
  cache); :class:`FastDuckDBAPI` creates those tables in DuckDB from the rows instead.

Neither changes a result: the first caches a pure function of its inputs, the second builds
the same table (column names and DuckDB types) another way.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import duckdb
import splink
from splink import DuckDBAPI
from splink.internals import comparison_level_library
from splink.internals.comparison_level import ComparisonLevel

_EXACT: dict[tuple[str, str], bool] = {}
#: Splink's own analysis (taken before :func:`speed_up` wraps it)
_SPLINK_IS_EXACT = getattr(ComparisonLevel._is_exact_match, "fget", None)
EXACT_LEVELS = Path(__file__).with_name("exact_levels.json")
DIALECT = "duckdb"


@functools.cache
def speed_up() -> None:
    """Install the caches on Splink's ``ComparisonLevel`` and level library (once per
    process); a Splink without the functions they wrap is left as it is."""
    _cache_translation()
    _cache_validation()
    original = ComparisonLevel._is_exact_match
    if not isinstance(original, property) or original.fget is None:  # Splink changed: leave it
        return
    compute = original.fget
    _EXACT.update(shipped_exact())

    def cached(level: ComparisonLevel) -> bool:
        if level._is_else_level:
            return False
        key = (level.sql_condition, level.sqlglot_dialect)
        if key not in _EXACT:
            _EXACT[key] = bool(compute(level))
        return _EXACT[key]

    ComparisonLevel._is_exact_match = property(cached)


def shipped_exact() -> dict[tuple[str, str], bool]:
    """The shipped exact-match answers, by (level SQL, dialect); none from another Splink."""
    try:
        data = json.loads(EXACT_LEVELS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if data.get("splink") != splink.__version__:
        return {}
    return {(sql, DIALECT): bool(exact) for sql, exact in data["levels"].items()}


def exact_answers(sqls: list[str]) -> dict[str, bool]:
    """Splink's own answer, for each level SQL, to whether it is an exact match (DuckDB)."""
    from splink.internals.dialects import SplinkDialect

    if _SPLINK_IS_EXACT is None:
        return {}
    dialect = SplinkDialect.from_string(DIALECT)
    return {sql: bool(_SPLINK_IS_EXACT(ComparisonLevel(sql, dialect))) for sql in sqls}


def training_level_sqls() -> list[str]:
    """The SQL of every level of joinedup's training comparisons (the levels EM asks about)."""
    from joinedup.linkage.comparisons import comparisons

    return sorted(
        {
            level["sql_condition"]
            for comparison in comparisons(with_source=True)
            for level in comparison["comparison_levels"]
            if level["sql_condition"] != "ELSE"
        }
    )


def write_exact_levels(path: Path = EXACT_LEVELS) -> Path:
    """Write ``exact_levels.json`` from Splink's own analysis of the training levels."""
    answers = exact_answers(training_level_sqls())
    data = {"splink": splink.__version__, "dialect": DIALECT, "levels": answers}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


#: Tables up to this many rows are created from SQL values; larger ones go through pyarrow.
MAX_ROWS = 10_000


def _cache_translation() -> None:
    translate = getattr(comparison_level_library, "_translate_sql_string", None)
    if callable(translate):
        comparison_level_library._translate_sql_string = functools.lru_cache(maxsize=4096)(
            translate
        )


def _cache_validation() -> None:
    validate = getattr(ComparisonLevel, "_validate_sql", None)
    if not callable(validate):
        return
    valid: set[tuple[str, str]] = set()

    def cached(level: ComparisonLevel) -> bool:
        key = (level.sql_condition, level.sqlglot_dialect)
        if key not in valid:
            validate(level)  # raises on SQL it cannot parse
            valid.add(key)
        return True

    ComparisonLevel._validate_sql = cached  # type: ignore[method-assign]


#: DuckDB's optimiser pass that computes an expression several branches share once for every
#: row. Splink's comparison vectors are CASE chains over the levels, where one level's
#: similarity (``jaro_winkler_similarity(given_name_l, given_name_r)``) comes again in a later
#: one; hoisted, it is computed for every pair, where the CASE computes it only for the pairs
#: no earlier level took (most pairs stop at "exact" or "missing"). Without it Splink's
#: queries give the same rows, and scoring FEBRL3's 88,000 pairs takes a third less time.
SHARED_EXPRESSIONS = "common_subexpressions"


class FastDuckDBAPI(DuckDBAPI):
    """Splink's DuckDB API, creating tables given as Python rows without pyarrow; with
    ``lazy_levels``, running Splink's queries without :data:`SHARED_EXPRESSIONS` (the
    connection's own setting is put back after each). That is measured only for the
    standalone commands; on the hub's build it made no difference measurable at the load it
    was tried at, and random pairs (u sampling), which fall through every level, may compute
    a shared similarity twice without the pass."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, lazy_levels: bool = False) -> None:
        super().__init__(con)
        self._lazy_levels = lazy_levels

    def _execute_sql_against_backend(self, final_sql: str) -> Any:
        con = self._con
        if not self._lazy_levels:
            return super()._execute_sql_against_backend(final_sql)
        try:
            before = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
            passes = [p for p in str(before or "").split(",") if p.strip()]
            wanted = ",".join(dict.fromkeys([*passes, SHARED_EXPRESSIONS]))
            con.execute(f"SET disabled_optimizers = '{wanted}'")
        except duckdb.Error:  # a DuckDB without the setting or the pass: Splink's query as it is
            return super()._execute_sql_against_backend(final_sql)
        try:
            return super()._execute_sql_against_backend(final_sql)
        finally:
            con.execute(f"SET disabled_optimizers = '{before or ''}'")

    def _table_registration(self, input: Any, table_name: str) -> None:
        rows = _as_rows(input)
        if rows is None or len(rows) > MAX_ROWS:
            super()._table_registration(input, table_name)
            return
        columns = list(rows[0])
        names = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        values = ", ".join(f"({marks})" for _ in rows)
        params = [row[c] for row in rows for c in columns]
        self._con.execute(
            f'CREATE OR REPLACE TABLE "{table_name}" AS '
            f"SELECT * FROM (VALUES {values}) AS t({names})",
            params,
        )


def _as_rows(input: Any) -> list[dict[str, Any]] | None:
    """``input`` as a list of rows with one set of keys, or None (not such a list)."""
    if isinstance(input, dict) and input and all(isinstance(v, list) for v in input.values()):
        lengths = {len(v) for v in input.values()}
        if len(lengths) != 1 or not lengths.pop():
            return None
        keys = list(input)
        return [dict(zip(keys, vals, strict=True)) for vals in zip(*input.values(), strict=True)]
    if not isinstance(input, (list, tuple)) or not input:
        return None
    if not all(isinstance(r, dict) for r in input):
        return None
    keys = list(input[0])
    if any(list(r) != keys for r in input):
        return None
    return list(input)


if __name__ == "__main__":
    print(write_exact_levels())
