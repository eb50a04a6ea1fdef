"""An insight run: evaluate every indicator rule over the linked view, write the flags.

For each council and each purpose of the rules, the council acts as a service
(``ServiceActor``: the council, the purpose, named ``insight``) and reads what every source of
the purpose's rules needs **once**, through :func:`joinedup.governance.batch.read_batch`:
each source's fields are decided by the one policy decision (its own datasets as controller,
other organisations' only where an active agreement shares those fields for that purpose),
residents who objected to the purpose are left out, and every dataset version read is
audited. Each version is joined once to the latest resident index (resident, household,
household size); each rule's sources are views of their own fields over the versions they
were allowed (:func:`source_table`), the rule is compiled to DuckDB SQL and run in the same
connection, and each flag is owned by the council that raised it. See ADR 0015.

Outputs: one flags snapshot (Parquet, personal data) and one ``insight_run`` row, all or
nothing. A flag's id is stable per rule, organisation and resident; its *fingerprint* digests
the rule version, the records that fired and the values that mattered, so that a flag acted
on stays quiet until its data changes (see :mod:`joinedup.insight.flags`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import InsightRun, LinkageRun, Organisation, OrganisationType
from joinedup.config import Settings
from joinedup.governance.batch import BatchRead, ReadRequest, read_batch
from joinedup.governance.processing import DatasetRef, ServiceActor
from joinedup.insight.compile import Context, compile_rule
from joinedup.insight.rules import ANY_PERSON, Rule, Source, load_rules
from joinedup.standards import field_names, is_person_standard, load_schema
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.engine import engine_table
from joinedup.store.sql import ident, lit

Progress = Callable[[float, str], None]

#: The date a source row is about, per standard (a flag's records show it): the first of the
#: fields that is filled (a benefit claim's row is one assessment: its start, else the claim's).
RECORD_DATE: dict[str, tuple[tuple[str, ...], str]] = {
    "school_census": (("census_date",), "{c}"),
    "council_tax": (("period",), "try_strptime({c} || '-01', '%Y-%m-%d')::DATE"),
    "tenancy": (("period",), "try_strptime({c} || '-01', '%Y-%m-%d')::DATE"),
    "electoral_register": (("register_date",), "{c}"),
    "referral": (("referral_date",), "{c}"),
    "adult_social_care": (("service_start_date",), "{c}"),
    "childrens_social_care": (("episode_start_date",), "{c}"),
    "benefit_claim": (("assessment_start_date", "claim_start_date"), "{c}"),
}
_DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "year": "INTEGER",
}

FLAG_COLUMNS = (
    "flag_id, rule_id, rule_name, rule_version, purpose, severity, severity_rank, organisation, "
    'resident_id, household_id, as_at, fingerprint, records, "values"'
)


class InsightError(RuntimeError):
    """An insight run that cannot start (no resident index, no rules)."""


@dataclass(frozen=True)
class RunOptions:
    run_date: date | None = None
    rule_paths: tuple[Path, ...] = ()
    rule_ids: tuple[str, ...] = ()


def latest_linkage_run(settings: Settings) -> LinkageRun:
    with session_scope(settings) as session:
        run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc()).limit(1)).first()
        if run is None:
            raise InsightError("no resident index yet: run `joinedup linkage build` first")
        session.expunge(run)
        return run


def _councils(settings: Settings) -> list[tuple[str, str | None]]:
    with session_scope(settings) as session:
        rows = session.execute(
            select(Organisation.code, Organisation.gss_code)
            .where(Organisation.type == OrganisationType.COUNCIL.value)
            .order_by(Organisation.code)
        ).all()
    return [(str(c), g) for c, g in rows]


def _standards_of(src: Source) -> set[str]:
    if src.standard == ANY_PERSON:
        return {"person"}
    return {src.standard}


def _refs(src: Source, inputs: list[dict[str, Any]], actor: str) -> list[DatasetRef]:
    """The linked dataset versions a source reads (the versions the index was built from)."""
    out = []
    for item in inputs:
        standard = item["standard"]
        if src.standard != ANY_PERSON and standard != src.standard:
            continue
        if src.standard == ANY_PERSON and not is_person_standard(standard):
            continue
        if src.organisations == "own" and item["organisation"] != actor:
            continue
        out.append(DatasetRef(item["organisation"], item["dataset"], int(item["version"])))
    return out


def _fields_for(src: Source) -> Callable[[str], list[str]]:
    def fields(standard: str) -> list[str]:
        wanted = list(src.fields)
        for date_field in RECORD_DATE.get(standard, ((), ""))[0]:
            if date_field in field_names(standard) and date_field not in wanted:
                wanted.append(date_field)
        return wanted

    return fields


def _empty_source_sql(src: Source) -> str:
    standard = "person" if src.standard == ANY_PERSON else src.standard
    types = {
        f["name"]: _DUCK_TYPES.get(f.get("type", "string"), "VARCHAR")
        for f in load_schema(standard)["fields"]
    }
    cols = [f"NULL::{types.get(f, 'VARCHAR')} AS {ident(f)}" for f in src.fields]
    cols += [
        "NULL::VARCHAR AS source_record_id",
        "NULL::VARCHAR AS _organisation",
        "NULL::VARCHAR AS _dataset",
        "NULL::INTEGER AS _version",
        "NULL::VARCHAR AS _standard",
        "NULL::BIGINT AS _row",
    ]
    return f"SELECT {', '.join(cols)} WHERE FALSE"


def _date_sql(standards: set[str], columns: set[str]) -> str:
    cases = []
    for standard in sorted(standards):
        fields, template = RECORD_DATE.get(standard, ((), ""))
        exprs = [template.format(c=f"t.{ident(c)}") for c in fields if c in columns]
        if exprs:
            expr = ", ".join(f"CAST({e} AS DATE)" for e in exprs)
            cases.append(f"WHEN t._standard = {lit(standard)} THEN coalesce({expr})")
    return f"CASE {' '.join(cases)} END" if cases else "NULL::DATE"


def _drop_disputed(
    settings: Settings, con: duckdb.DuckDBPyConnection, raw: str, columns: set[str]
) -> None:
    """Set the fields residents dispute to NULL (a rule with ``exclude_disputed``)."""
    from joinedup.rights.disputes import disputed_fields

    disputes = [d for d in disputed_fields(settings) if d[3] in columns]
    if not disputes:
        return
    names = ("organisation", "dataset", "record_id", "name")
    con.register("__disputes", pa.table(dict(zip(names, zip(*disputes, strict=True), strict=True))))
    for name in sorted({d[3] for d in disputes}):
        con.execute(
            f"UPDATE {ident(raw)} SET {ident(name)} = NULL FROM __disputes d "
            f"WHERE d.name = {lit(name)} AND {ident(raw)}._organisation = d.organisation "
            f"AND {ident(raw)}._dataset = d.dataset "
            f"AND {ident(raw)}.source_record_id = d.record_id"
        )
    con.unregister("__disputes")


def source_requests(
    rules: list[Rule], code: str, inputs: list[dict[str, Any]]
) -> list[ReadRequest]:
    """What each source of ``rules`` reads as council ``code`` (named ``<rule id>.<alias>``)."""
    return [
        ReadRequest(f"{rule.id}.{alias}", tuple(_refs(src, inputs, code)), _fields_for(src))
        for rule in rules
        for alias, src in rule.sources.items()
    ]


def read_shared(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    actor: ServiceActor,
    requests: list[ReadRequest],
    resolver: Callable[[frozenset[str]], set[tuple[str, str, str]]],
    today: date,
) -> BatchRead:
    """Read every version the requests need once through the gateway (decided, objectors
    left out, audited: :func:`joinedup.governance.batch.read_batch`), each joined once to
    the resident index (``__index``, ``__households``)."""
    batch = read_batch(settings, actor, requests, con, resolve_residents=resolver, today=today)
    for t in batch.tables.values():
        organisation, dataset, _ = t.key
        # the index is sorted by dataset: the constant filter reads only this one's part
        con.execute(
            f"""CREATE OR REPLACE TABLE {ident(t.table)} AS
            SELECT v.*, i.resident_id, i.household_id, i.household_residents
            FROM {ident(t.table)} v
            JOIN (SELECT * FROM __linked WHERE organisation = {lit(organisation)}
                  AND dataset = {lit(dataset)}) i ON i.source_record_id = v.source_record_id"""
        )
    return batch


def load_index(con: duckdb.DuckDBPyConnection, store: SnapshotStore, index_sha256: str) -> None:
    """The resident index as ``__index`` (record → resident, household), the residents per
    household (``__households``) and both together sorted by dataset (``__linked``)."""
    con.execute(
        "CREATE TABLE __index AS SELECT organisation, dataset, source_record_id, resident_id, "
        f"household_id FROM {store.sql_source(index_sha256)}"
    )
    con.execute(
        "CREATE TABLE __households AS SELECT household_id, count(DISTINCT resident_id) "
        "AS residents FROM __index GROUP BY household_id"
    )
    con.execute(
        """CREATE TABLE __linked AS
        SELECT i.*, hh.residents AS household_residents
        FROM __index i JOIN __households hh USING (household_id)
        ORDER BY organisation, dataset, source_record_id"""
    )


def source_table(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    batch: BatchRead,
    name: str,
    src: Source,
    inputs: list[dict[str, Any]],
    table: str,
    exclude_disputed: bool,
) -> list[dict[str, Any]]:
    """Make ``table``, a view of the rows of one source (request ``name`` of ``batch``) with
    the index columns, provenance, ``_date`` and ``_row`` (file order; its order only is
    meant); returns its reads. :func:`drop_source` drops it."""
    reads = [
        {
            "dataset": f"{d.organisation}/{d.dataset}/{d.version}",
            "allowed": d.allowed,
            "reason": d.reason,
            "rows": d.rows,
            "excluded_by_objection": d.excluded,
        }
        for d in batch.reads.get(name, [])
    ]
    raw = f"{table}__raw"
    allowed = batch.allowed(name)
    linked = ", t.resident_id, t.household_id, t.household_residents"
    join = ""
    if allowed:
        columns = {"_organisation", "_dataset", "_version", "_standard", "_row"}
        parts = []
        for n, (key, cols) in enumerate(allowed):
            columns |= set(cols)
            parts.append(
                f"SELECT {', '.join(ident(c) for c in cols)}, _organisation, _dataset, "
                "_version, _standard, resident_id, household_id, household_residents, "
                f"({n}::BIGINT << 40) + _source_row::BIGINT AS _row "
                f"FROM {ident(batch.tables[key].table)}"
            )
        rows = "(" + " UNION ALL BY NAME ".join(parts) + ")"
        if exclude_disputed:  # a private copy whose disputed values are set to NULL
            con.execute(f"CREATE OR REPLACE TABLE {ident(raw)} AS SELECT * FROM {rows}")
            _drop_disputed(settings, con, raw, columns)
            rows = ident(raw)
    else:
        con.execute(f"CREATE OR REPLACE TABLE {ident(raw)} AS {_empty_source_sql(src)}")
        columns = {r[0] for r in con.execute(f"DESCRIBE {ident(raw)}").fetchall()}
        for f in src.fields:  # a field no dataset carried
            if f not in columns:
                con.execute(f"ALTER TABLE {ident(raw)} ADD COLUMN {ident(f)} VARCHAR")
        rows = ident(raw)
        linked = ", i.resident_id, i.household_id, hh.residents AS household_residents"
        join = """JOIN __index i ON i.organisation = t._organisation AND i.dataset = t._dataset
                      AND i.source_record_id = t.source_record_id
        JOIN __households hh ON hh.household_id = i.household_id"""
    standards = {d["standard"] for d in inputs} if src.standard == ANY_PERSON else {src.standard}
    keep = ", ".join(f"t.{ident(f)}" for f in dict.fromkeys(["source_record_id", *src.fields]))
    con.execute(
        f"""CREATE OR REPLACE VIEW {ident(table)} AS
        SELECT {keep}{linked},
               t._organisation, t._dataset, t._version, {_date_sql(standards, columns)} AS _date,
               t._row
        FROM {rows} t {join}"""
    )
    return reads


def rule_sources(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    batch: BatchRead,
    rule: Rule,
    code: str,
    inputs: list[dict[str, Any]],
    prefix: str,
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Every source of ``rule`` as a view ``<prefix><alias>`` over council ``code``'s
    shared read; returns the views by alias and the refused reads."""
    tables: dict[str, str] = {}
    refused: list[dict[str, Any]] = []
    for alias, src in rule.sources.items():
        tables[alias] = f"{prefix}{alias}"
        reads = source_table(
            settings,
            con,
            batch,
            f"{rule.id}.{alias}",
            src,
            inputs,
            tables[alias],
            rule.exclude_disputed,
        )
        refused += [
            {"rule": rule.id, "organisation": code, "source": alias, **r}
            for r in reads
            if not r["allowed"]
        ]
    return tables, refused


def _evaluate_all(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    councils: list[tuple[str, str | None]],
    inputs: list[dict[str, Any]],
    resolver: Callable[[frozenset[str]], set[tuple[str, str, str]]],
    run_date: date,
    job_id: str | None,
    report: Progress,
) -> dict[str, tuple[dict[str, int], float, list[dict[str, Any]]]]:
    """Evaluate every rule for every council into ``__flags``. Each council reads what the
    rules of one purpose need once (:func:`read_shared`), and every rule of that purpose
    uses it. Per rule: flags per council (in council order), seconds spent evaluating
    (besides the shared reads), and the refused reads (rule, council, source order)."""
    counts: dict[tuple[str, str], int] = {}
    seconds: dict[str, float] = dict.fromkeys((r.id for r in rules), 0.0)
    refused: dict[tuple[str, str], list[dict[str, Any]]] = {}
    purposes = sorted({r.purpose for r in rules})
    steps, done = max(1, len(purposes) * len(councils)), 0
    for code, gss in councils:
        for purpose in purposes:
            report(0.05 + 0.85 * done / steps, f"{purpose}: {code}")
            done += 1
            these = [r for r in rules if r.purpose == purpose]
            actor = ServiceActor(code, purpose, name="insight", job_id=job_id)
            requests = source_requests(these, code, inputs)
            batch = read_shared(settings, con, actor, requests, resolver, run_date)
            for rule in these:
                rule_start = time.perf_counter()
                tables, refused[(rule.id, code)] = rule_sources(
                    settings, con, batch, rule, code, inputs, "src_"
                )
                sql = compile_rule(rule, tables, Context(run_date, gss, code))
                # the rule runs on the chosen engine over the sources' governed rows
                engine_table(settings, con, "__rule_flags", sql, list(tables.values()))
                counts[(rule.id, code)] = int(
                    con.execute(
                        f"""INSERT INTO __flags
                        SELECT {lit(rule.id)}, {lit(rule.name)}, {lit(rule.purpose)},
                               {lit(rule.severity)}, {rule.severity_rank}, {lit(code)},
                               resident_id, household_id, as_at, rule_version, records,
                               "values"
                        FROM __rule_flags"""
                    ).fetchall()[0][0]
                )
                con.execute("DROP TABLE __rule_flags")
                for table in tables.values():
                    drop_source(con, table)
                seconds[rule.id] += time.perf_counter() - rule_start
            batch.drop(con)
    return {
        r.id: (
            {c: counts[(r.id, c)] for c, _ in councils},
            seconds[r.id],
            [x for c, _ in councils for x in refused[(r.id, c)]],
        )
        for r in rules
    }


def drop_source(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop a source made by :func:`source_table`."""
    con.execute(f"DROP VIEW IF EXISTS {ident(table)}")
    con.execute(f"DROP TABLE IF EXISTS {ident(table + '__raw')}")


def run_insight(
    settings: Settings,
    options: RunOptions | None = None,
    progress: Progress | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    """Evaluate the rules over the latest resident index; write the flags and the run row."""
    from joinedup.linkage.build import resident_resolver  # read-only use of the index

    options = options or RunOptions()
    report = progress or (lambda f, m: None)
    run_date = options.run_date or date.today()
    rules = load_rules(list(options.rule_paths) or None)
    if options.rule_ids:
        unknown = set(options.rule_ids) - {r.id for r in rules}
        if unknown:
            raise InsightError(f"no rule {', '.join(sorted(unknown))}")
        rules = [r for r in rules if r.id in options.rule_ids]
    if not rules:
        raise InsightError("no rules to run")
    linkage = latest_linkage_run(settings)
    councils = _councils(settings)
    store = SnapshotStore(settings)
    resolver = resident_resolver(settings)
    started = time.perf_counter()
    summaries: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    with duckdb_session(settings) as con:
        load_index(con, store, linkage.index_sha256)
        con.execute(
            "CREATE TABLE __flags (rule_id VARCHAR, rule_name VARCHAR, purpose VARCHAR, "
            "severity VARCHAR, severity_rank INTEGER, organisation VARCHAR, resident_id VARCHAR, "
            "household_id VARCHAR, as_at DATE, rule_version VARCHAR, records STRUCT(alias "
            "VARCHAR, organisation VARCHAR, dataset VARCHAR, version INTEGER, source_record_id "
            'VARCHAR, date DATE)[], "values" STRUCT(kind VARCHAR, alias VARCHAR, field VARCHAR, '
            "organisation VARCHAR, dataset VARCHAR, needs VARCHAR[], value VARCHAR)[])"
        )
        per_rule = _evaluate_all(
            settings, con, rules, councils, linkage.inputs, resolver, run_date, job_id, report
        )
        for rule in rules:
            counts, seconds, rule_refused = per_rule[rule.id]
            refused.extend(rule_refused)
            summaries.append(
                {
                    "id": rule.id,
                    "name": rule.name,
                    "purpose": rule.purpose,
                    "severity": rule.severity,
                    "versions": [v.version for v in rule.versions],
                    "version_in_force": (v.version if (v := rule.version_at(run_date)) else None),
                    "flags": sum(counts.values()),
                    "flags_by_organisation": counts,
                    "seconds": round(seconds, 2),
                    "file": rule.file,
                    "reason": rule.reason,
                    "standards": {a: src.standard for a, src in rule.sources.items()},
                }
            )
        report(0.92, "Writing the flags")
        flags_sql = """
            SELECT 'f-' || left(sha256(rule_id || '|' || organisation || '|' || resident_id), 16)
                     AS flag_id,
                   rule_id, rule_name, rule_version, purpose, severity, severity_rank,
                   organisation, resident_id, household_id, as_at,
                   left(sha256(CAST(to_json(struct_pack(
                       v := rule_version,
                       r := list_sort(list_transform(records, lambda x:
                             x.organisation || '/' || x.dataset || '/' || x.source_record_id)),
                       d := list_filter("values", lambda x: x.kind = 'reason')
                   )) AS VARCHAR)), 32) AS fingerprint,
                   records, "values"
            FROM __flags
            ORDER BY organisation, severity_rank DESC, as_at DESC NULLS LAST, rule_id, resident_id
        """
        previous = latest_insight_run(settings) if options.rule_ids else None
        if previous is not None:
            # a run of some rules keeps the latest flags of the others, so the worklist
            # never loses a rule because another was re-run
            ran = ", ".join(lit(r.id) for r in rules)
            flags_sql = (
                f"SELECT * FROM ({flags_sql}) UNION ALL BY NAME "
                f"SELECT * FROM {store.sql_source(previous.flags_sha256)} "
                f"WHERE rule_id NOT IN ({ran})"
            )
            summaries += [
                {**r, "carried_over_from_run": r.get("carried_over_from_run", previous.id)}
                for r in previous.rules
                if r["id"] not in {x.id for x in rules}
            ]
        total = int(con.execute(f"SELECT count(*) FROM ({flags_sql})").fetchall()[0][0])
        with session_scope(settings) as session, store.writer(session) as writer:
            snapshot = writer.write_query(con, flags_sql)
            row = InsightRun(
                job_id=job_id,
                linkage_run_id=linkage.id,
                flags_sha256=snapshot.sha256,
                run_date=run_date,
                flags=total,
                rules=summaries,
                details={
                    "refused_reads": refused[:200],
                    "refused_read_count": len(refused),
                    "organisations": [c for c, _ in councils],
                    "seconds": round(time.perf_counter() - started, 2),
                },
            )
            session.add(row)
            session.flush()
            run_id = int(row.id)
            session.commit()
    report(1.0, "Flags written")
    return {
        "run": run_id,
        "linkage_run": linkage.id,
        "run_date": run_date.isoformat(),
        "flags": total,
        "rules": summaries,
        "refused_reads": len(refused),
        "seconds": round(time.perf_counter() - started, 2),
    }


def latest_insight_run(settings: Settings) -> InsightRun | None:
    with session_scope(settings) as session:
        run = session.scalars(select(InsightRun).order_by(InsightRun.id.desc()).limit(1)).first()
        if run is not None:
            session.expunge(run)
        return run
