"""An insight run: evaluate every indicator rule over the linked view, write the flags.

For each rule and each council, the council acts as a service (``ServiceActor``: the council,
the rule's purpose, named ``insight:<rule id>``) and reads what each of the rule's sources
needs through :func:`joinedup.governance.processing.read_for_processing`: its own datasets
as controller, other organisations' only where an active agreement shares those fields for
that purpose; residents who objected to the purpose are left out; every read is audited.
The rows are joined to the latest resident index (resident, household, household size), the
rule is compiled to DuckDB SQL and run, and each flag is owned by the council that raised it.

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
from joinedup.governance.processing import DatasetRef, ServiceActor, read_for_processing
from joinedup.ingest.sql import ident, lit
from joinedup.insight.compile import Context, compile_rule
from joinedup.insight.rules import ANY_PERSON, Rule, Source, load_rules
from joinedup.standards import field_names, is_person_standard, load_schema
from joinedup.store import SnapshotStore, duckdb_session

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

    for organisation, dataset, record_id, name in disputed_fields(settings):
        if name in columns:
            con.execute(
                f"UPDATE {ident(raw)} SET {ident(name)} = NULL WHERE _organisation = ? "
                "AND _dataset = ? AND source_record_id = ?",
                [organisation, dataset, record_id],
            )


def _load_source(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    rule: Rule,
    src: Source,
    actor: ServiceActor,
    inputs: list[dict[str, Any]],
    table: str,
    resolver: Callable[[frozenset[str]], set[tuple[str, str, str]]],
    today: date,
) -> list[dict[str, Any]]:
    """Read one source through the gateway into ``table`` joined to the index."""
    refs = _refs(src, inputs, actor.organisation)
    reads: list[dict[str, Any]] = []
    raw = f"{table}__raw"
    if refs:
        result = read_for_processing(
            settings,
            actor,
            refs,
            _fields_for(src),
            resolve_residents=resolver,
            today=today,
        )
        reads = [
            {
                "dataset": f"{d.organisation}/{d.dataset}/{d.version}",
                "allowed": d.allowed,
                "reason": d.reason,
                "rows": d.rows,
                "excluded_by_objection": d.excluded,
            }
            for d in result.datasets
        ]
        arrow = result.table
    else:
        arrow = pa.table({})
    if "_organisation" not in arrow.column_names:
        con.execute(f"CREATE OR REPLACE TABLE {ident(raw)} AS {_empty_source_sql(src)}")
    else:
        arrow = arrow.append_column("_row", pa.array(range(arrow.num_rows), pa.int64()))
        con.register("__arrow_rows", arrow)
        con.execute(f"CREATE OR REPLACE TABLE {ident(raw)} AS SELECT * FROM __arrow_rows")
        con.unregister("__arrow_rows")
    columns = {r[0] for r in con.execute(f"DESCRIBE {ident(raw)}").fetchall()}
    if rule.exclude_disputed:
        _drop_disputed(settings, con, raw, columns)
    standards = {d["standard"] for d in inputs} if src.standard == ANY_PERSON else {src.standard}
    for f in src.fields:  # a field no dataset carried (a refused or empty read)
        if f not in columns:
            con.execute(f"ALTER TABLE {ident(raw)} ADD COLUMN {ident(f)} VARCHAR")
    keep = ", ".join(f"t.{ident(f)}" for f in dict.fromkeys(["source_record_id", *src.fields]))
    con.execute(
        f"""CREATE OR REPLACE TABLE {ident(table)} AS
        SELECT {keep}, i.resident_id, i.household_id, hh.residents AS household_residents,
               t._organisation, t._dataset, t._version, {_date_sql(standards, columns)} AS _date,
               t._row
        FROM {ident(raw)} t
        JOIN __index i ON i.organisation = t._organisation AND i.dataset = t._dataset
                      AND i.source_record_id = t.source_record_id
        JOIN __households hh ON hh.household_id = i.household_id"""
    )
    con.execute(f"DROP TABLE {ident(raw)}")
    return reads


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
        con.execute(
            "CREATE TABLE __index AS SELECT organisation, dataset, source_record_id, resident_id, "
            f"household_id FROM {store.sql_source(linkage.index_sha256)}"
        )
        con.execute(
            "CREATE TABLE __households AS SELECT household_id, count(DISTINCT resident_id) "
            "AS residents FROM __index GROUP BY household_id"
        )
        con.execute(
            "CREATE TABLE __flags (rule_id VARCHAR, rule_name VARCHAR, purpose VARCHAR, "
            "severity VARCHAR, severity_rank INTEGER, organisation VARCHAR, resident_id VARCHAR, "
            "household_id VARCHAR, as_at DATE, rule_version VARCHAR, records STRUCT(alias "
            "VARCHAR, organisation VARCHAR, dataset VARCHAR, version INTEGER, source_record_id "
            'VARCHAR, date DATE)[], "values" STRUCT(kind VARCHAR, alias VARCHAR, field VARCHAR, '
            "organisation VARCHAR, dataset VARCHAR, needs VARCHAR[], value VARCHAR)[])"
        )
        steps = max(1, len(rules) * len(councils))
        done = 0
        for rule in rules:
            rule_start = time.perf_counter()
            per_org: dict[str, int] = {}
            for code, gss in councils:
                report(0.05 + 0.85 * done / steps, f"{rule.name}: {code}")
                done += 1
                actor = ServiceActor(code, rule.purpose, name=f"insight:{rule.id}", job_id=job_id)
                tables: dict[str, str] = {}
                for alias, src in rule.sources.items():
                    table = f"src_{alias}"
                    reads = _load_source(
                        settings, con, rule, src, actor, linkage.inputs, table, resolver, run_date
                    )
                    refused.extend(
                        {"rule": rule.id, "organisation": code, "source": alias, **r}
                        for r in reads
                        if not r["allowed"]
                    )
                    tables[alias] = table
                sql = compile_rule(rule, tables, Context(run_date, gss, code))
                before = con.execute("SELECT count(*) FROM __flags").fetchall()[0][0]
                con.execute(
                    f"""INSERT INTO __flags
                    SELECT {lit(rule.id)}, {lit(rule.name)}, {lit(rule.purpose)},
                           {lit(rule.severity)}, {rule.severity_rank}, {lit(code)},
                           resident_id, household_id, as_at, rule_version, records, "values"
                    FROM ({sql})"""
                )
                after = con.execute("SELECT count(*) FROM __flags").fetchall()[0][0]
                per_org[code] = int(after - before)
                for alias in tables.values():
                    con.execute(f"DROP TABLE {ident(alias)}")
            summaries.append(
                {
                    "id": rule.id,
                    "name": rule.name,
                    "purpose": rule.purpose,
                    "severity": rule.severity,
                    "versions": [v.version for v in rule.versions],
                    "version_in_force": (v.version if (v := rule.version_at(run_date)) else None),
                    "flags": sum(per_org.values()),
                    "flags_by_organisation": per_org,
                    "seconds": round(time.perf_counter() - rule_start, 2),
                    "file": rule.file,
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
