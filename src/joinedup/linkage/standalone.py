"""``joinedup match`` and ``joinedup dedupe``: link an analyst's own files with the same model.

These commands read files the analyst already holds, on their own machine; they do not read
the hub's data, so they do not pass through the hub's policy decision or audit log.

Columns are mapped to ``person`` fields by header (the ingest's suggestion: ``Forename``,
``first_name``, ``DOB``, ``Post Code``, ``NHS No`` ...), and ``--map COL=FIELD`` overrides.
Values are normalised with the ingest's SQL (:mod:`joinedup.ingest.normalise`), dates are
read as ISO, dd/mm/yyyy or yyyymmdd. The model is trained on the data given (no labels).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from joinedup.errors import JoinedupError
from joinedup.ingest.normalise import normalise_sql
from joinedup.ingest.readers import read_source
from joinedup.ingest.suggest import Suggestion, suggest_mapping
from joinedup.linkage import model as m
from joinedup.linkage.cluster import cluster_predictions, has_households, link_threshold
from joinedup.linkage.names import register_variants
from joinedup.linkage.prepare import COMPARED_FIELDS, LINKAGE_FIELDS, prepare_sql
from joinedup.store.sql import ident

Progress = Callable[[float, str], None]

#: The person fields a column may be mapped to with ``--map``.
FIELDS = COMPARED_FIELDS
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y", "%d.%m.%Y")
SEX_CODES = {
    "M": "M",
    "MALE": "M",
    "1": "M",
    "F": "F",
    "FEMALE": "F",
    "2": "F",
}


class StandaloneError(JoinedupError, ValueError):
    """A problem with the files or options given (shown to the analyst as it is)."""


@dataclass
class FileMapping:
    """How one file's columns map to person fields, and its id column."""

    path: Path
    id_column: str | None
    fields: dict[str, str] = field(default_factory=dict)  # person field -> column

    def describe(self) -> str:
        pairs = ", ".join(f"{c} -> {f}" for f, c in self.fields.items())
        return f"{self.path.name}: id {self.id_column or '(row number)'}; {pairs}"


def parse_maps(values: list[str] | None) -> dict[str, str]:
    """``COL=FIELD`` options as {field: column}."""
    out: dict[str, str] = {}
    for value in values or []:
        column, sep, target = value.rpartition("=")
        if not sep or not column or not target:
            raise StandaloneError(f"--map needs COL=FIELD, got {value!r}")
        target = target.strip()
        if target not in FIELDS:
            raise StandaloneError(f"unknown field {target!r}; fields: {', '.join(FIELDS)}")
        out[target] = column.strip()
    return out


def map_columns(
    columns: list[str],
    sample: dict[str, list[str]],
    overrides: dict[str, str],
    id_column: str | None,
    path: Path,
) -> FileMapping:
    """Map headers to person fields (the ingest's header matching), then apply overrides."""
    for column in [*overrides.values(), *([id_column] if id_column else [])]:
        if column not in columns:
            raise StandaloneError(f"{path.name}: no column {column!r}; columns: {columns}")
    # with the id named and every other column mapped, nothing the suggestion finds is kept
    # (it reads every column's values against every field: about a second)
    mapped = set(overrides.values()) | {id_column}
    suggestions: list[Suggestion] = []
    by_header: list[Suggestion] = []
    if id_column is None or set(columns) - mapped:
        _, suggestions = suggest_mapping("person", columns, sample)
        _, by_header = suggest_mapping("person", columns, {})
    fields: dict[str, str] = {}
    for s in suggestions:
        if s.column is not None and s.field in FIELDS:
            fields[s.field] = s.column
    # a header that names a field is enough when the values alone are not convincing (dates
    # in several formats in one column, say)
    for s in by_header:
        taken = s.field in fields or s.column in fields.values()
        if s.column and s.field in FIELDS and not taken:
            fields[s.field] = s.column
    if id_column is None:
        id_column = next(
            (s.column for s in suggestions if s.field == "source_record_id" and s.column), None
        )
    used_by_override = set(overrides.values())
    fields = {f: c for f, c in fields.items() if c not in used_by_override}
    fields.update(overrides)
    if id_column in fields.values() and id_column not in overrides.values():
        fields = {f: c for f, c in fields.items() if c != id_column}
    if not any(f in fields for f in ("given_name", "family_name", "date_of_birth")):
        raise StandaloneError(
            f"{path.name}: no name or date of birth column was recognised; "
            "name them with --map COL=FIELD"
        )
    return FileMapping(path, id_column, fields)


def _date_sql(expr: str) -> str:
    tries = ", ".join(f"try_strptime({expr}, '{fmt}')::DATE" for fmt in DATE_FORMATS)
    iso_prefix = (
        f"CASE WHEN regexp_matches({expr}, '^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]') "
        f"THEN try_strptime(substr({expr}, 1, 10), '%Y-%m-%d')::DATE END"
    )
    return f"coalesce({tries}, {iso_prefix})"


def records_sql(raw: str, mapping: FileMapping) -> str:
    """SELECT turning the raw text table into a linkage input (record_key + person fields)."""
    selects = []
    for name in LINKAGE_FIELDS:
        column = mapping.fields.get(name)
        if column is None:
            continue
        text = f"nullif(trim(CAST({ident(column)} AS VARCHAR)), '')"
        if name == "date_of_birth":
            expr = _date_sql(text)
        elif name == "sex":
            whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SEX_CODES.items())
            expr = f"CASE upper({text}) {whens} END"
        elif name == "uprn":
            expr = f"TRY_CAST(regexp_replace({text}, '\\.0+$', '') AS BIGINT)"
        else:
            expr = normalise_sql(name, text)
        selects.append(f"{expr} AS {ident(name)}")
    key = (
        f"CAST({ident(mapping.id_column)} AS VARCHAR)"
        if mapping.id_column
        else "CAST(_row AS VARCHAR)"
    )
    return f"SELECT {key} AS record_key, {', '.join(selects)} FROM {raw}"


def _load(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    overrides: dict[str, str],
    id_column: str | None,
    tmp: Path,
) -> FileMapping:
    if not path.is_file():
        raise StandaloneError(f"{path}: no such file")
    info = read_source(con, path, f"{table}_raw", tmp_dir=tmp)
    sampled = con.execute(f"SELECT * EXCLUDE (_row) FROM {table}_raw LIMIT 500")
    names = [d[0] for d in sampled.description or ()]
    rows = sampled.fetchall()
    sample = {c: [r[i] for r in rows if r[i]] for i, c in enumerate(names)}
    sample = {c: sample.get(c, []) for c in info.columns}
    mapping = map_columns(info.columns, sample, overrides, id_column, path)
    con.execute(f"CREATE TABLE {table}_in AS {records_sql(f'{table}_raw', mapping)}")
    dupes = con.execute(
        f"SELECT record_key FROM {table}_in GROUP BY record_key HAVING count(*) > 1 LIMIT 3"
    ).fetchall()
    if (
        dupes
        or con.execute(f"SELECT count(*) FROM {table}_in WHERE record_key IS NULL").fetchall()[0][0]
    ):
        shown = ", ".join(str(d[0]) for d in dupes)
        raise StandaloneError(
            f"{path.name}: the id column {mapping.id_column!r} is not a unique, complete id"
            + (f" (repeated: {shown})" if shown else "")
            + "; choose another with --id, or leave it out to number the rows"
        )
    columns = [r[0] for r in con.execute(f"DESCRIBE {table}_in").fetchall()]
    con.execute(f"CREATE TABLE {table} AS {prepare_sql(f'{table}_in', columns)}")
    return mapping


#: Random pairs sampled for u in the standalone commands. The "exact" levels' u come from the
#: values' frequencies (:func:`joinedup.linkage.u_from_values.exact_u`), so sampling only has to see
#: the levels that are not rare (typos, similar names, postcode areas): 300,000 pairs show a
#: level of u = 1e-4 thirty times, and take about 1.5 s to compare instead of 10.
U_PAIRS = 1e5


def _options(pairs: float) -> m.TrainingOptions:
    return m.TrainingOptions(u_max_pairs=max(min(U_PAIRS, pairs), 1.0))


@dataclass
class StandaloneResult:
    mappings: list[FileMapping]
    records: int
    written: int
    model: m.LinkageModel


def dedupe(
    path: Path,
    out: Path,
    *,
    id_column: str | None = None,
    maps: list[str] | None = None,
    threshold: float = 0.9,
    progress: Progress | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> StandaloneResult:
    """Cluster the records of one file; write ``record_id,cluster_id``."""
    report = progress or (lambda f, msg: None)
    with _connection(con) as (db, tmp):
        report(0.02, "Reading the file")
        register_variants(db)
        mapping = _load(db, Path(path), "records", parse_maps(maps), id_column, tmp)
        n = db.execute("SELECT count(*) FROM records").fetchall()[0][0]
        if n < 2:
            raise StandaloneError(f"{Path(path).name}: fewer than two records")
        model, pairs, _ = m.train_and_score(
            db,
            "records",
            _options(n * (n - 1) / 2),
            lambda f, msg: report(0.05 + 4 * f, msg),
            with_source=False,
            loose_blocking=True,
            drop_absent=True,
            lazy_levels=True,
        )
        report(0.9, "Clustering")
        households = has_households(model.settings)
        cluster_predictions(
            db,
            "records",
            pairs,
            link_threshold(threshold, households),
            out="clusters",
            conflicts=households,
        )
        rows = db.execute(
            """SELECT c.record_key, min(c.record_key) OVER (PARTITION BY c.resident_id)
            FROM clusters c ORDER BY c.rid"""
        ).fetchall()
        _write_csv(out, ("record_id", "cluster_id"), rows)
        report(1.0, "Done")
        return StandaloneResult([mapping], int(n), len(rows), model)


def match(
    left: Path,
    right: Path,
    out: Path,
    *,
    id_left: str | None = None,
    id_right: str | None = None,
    map_left: list[str] | None = None,
    map_right: list[str] | None = None,
    threshold: float = 0.9,
    progress: Progress | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> StandaloneResult:
    """Link the records of two files; write ``left_id,right_id,match_probability`` for the
    pairs at or above ``threshold``."""
    report = progress or (lambda f, msg: None)
    with _connection(con) as (db, tmp):
        report(0.02, "Reading the files")
        register_variants(db)
        lmap = _load(db, Path(left), "left_records", parse_maps(map_left), id_left, tmp)
        rmap = _load(db, Path(right), "right_records", parse_maps(map_right), id_right, tmp)
        n = db.execute(
            "SELECT (SELECT count(*) FROM left_records) * (SELECT count(*) FROM right_records)"
        ).fetchall()[0][0]
        if not n:
            raise StandaloneError("one of the files has no records")
        model, pairs, _ = m.train_and_score(
            db,
            "left_records",
            _options(float(n)),
            lambda f, msg: report(0.05 + 4 * f, msg),
            link_type="link_only",
            tables=["left_records", "right_records"],
            with_source=False,
            loose_blocking=True,
            drop_absent=True,
            lazy_levels=True,
        )
        report(0.9, "Writing pairs")
        rows = db.execute(
            f"""
            WITH p AS (
                SELECT CASE WHEN source_dataset_l = 'left_records' THEN rid_l ELSE rid_r END AS lr,
                       CASE WHEN source_dataset_l = 'left_records' THEN rid_r ELSE rid_l END AS rr,
                       match_probability
                FROM {pairs} WHERE match_probability >= {float(threshold)}
            )
            SELECT l.record_key, r.record_key, round(p.match_probability, 6)
            FROM p JOIN left_records l ON l.rid = p.lr JOIN right_records r ON r.rid = p.rr
            ORDER BY p.match_probability DESC, l.record_key, r.record_key"""
        ).fetchall()
        _write_csv(out, ("left_id", "right_id", "match_probability"), rows)
        report(1.0, "Done")
        return StandaloneResult([lmap, rmap], int(n), len(rows), model)


def _write_csv(out: Path, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(out)


class _connection:
    """A private DuckDB connection and temporary folder (or the caller's connection)."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None) -> None:
        self._given = con
        self._tmp = tempfile.TemporaryDirectory(prefix="joinedup-link-")
        self._own: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> tuple[duckdb.DuckDBPyConnection, Path]:
        tmp = Path(self._tmp.name)
        if self._given is not None:
            return self._given, tmp
        self._own = duckdb.connect(
            ":memory:",
            config={"temp_directory": str(tmp / "spill"), "preserve_insertion_order": True},
        )
        self._own.execute("SET enable_progress_bar = false")
        return self._own, tmp

    def __exit__(self, *exc: object) -> None:
        if self._own is not None:
            self._own.close()
        self._tmp.cleanup()
