"""Flags by area and month: the ``insight.areas`` job (trends, and the fairness check's rates).

**How the monthly series is made.** The rules are evaluated again *as at the end of each
month* over the data the hub held for that month, per council and purpose exactly as an
insight run does (:mod:`joinedup.insight.run`: one governed read per council and purpose of
every version in the window, objectors left out, every version read audited), each rule
judged for every month of the window in one query (``compile_rule(..., per_month=True)``):

* of each dataset the index was built from, the version *in force* at the month is the latest
  whose period is no later than the month (a termly census, a monthly arrears list); a dataset
  with no version that early is read from its earliest version (a current-records extract
  taken later, such as the benefit claims);
* in every case, rows dated after the month's end (their own date: census date, a claim
  assessment's start, period…) are dropped, so a claim or reassessment made later is not known
  yet;
* ``run_date`` is the month's last day, so conditions such as "episode still open" or "a
  referral in the last six months" are judged then.

What cannot be reconstructed is a value an extract only holds as it is now (a tenancy's
latest balance, an undated claim assessment), and people whose records have all left the latest
versions (the resident index is built from those). Each month's row carries ``data_month``:
the month of the newest record of the rule's subject that the evaluation saw (a termly census
gives January for February to April), so that an impact estimate can use each piece of data
once.

**Where a flag is.** The address the flagging council itself holds for the resident (its
latest record with a UPRN, of the resident, or else of the household), placed in an LSOA,
ward and local authority by the address gazetteer. The population (the rate's denominator)
is every resident the council holds a record of that month, placed the same way, plus any
flagged resident it knows only through the household. Sex and age come from the same own
records. Residents the council cannot place count in its local authority and not in an LSOA
or ward (reported as ``unplaced``).
"""

from __future__ import annotations

import calendar
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
from joinedup.catalog.models import Dataset, DatasetVersion, InsightAreaRun, Organisation
from joinedup.config import Settings
from joinedup.governance.batch import BatchRead, ReadRequest
from joinedup.governance.processing import ServiceActor
from joinedup.insight.areas import hierarchy_sql, load_gazetteer
from joinedup.insight.compile import Context, compile_rule
from joinedup.insight.fairness import FAIRNESS_SQL
from joinedup.insight.rules import ANY_PERSON, Rule, Source, load_rules
from joinedup.insight.run import (
    _councils,
    _fields_for,
    _refs,
    drop_source,
    latest_linkage_run,
    load_index,
    read_shared,
    rule_sources,
    source_requests,
    source_table,
)
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.engine import engine_table
from joinedup.store.sql import ident, lit

Progress = Callable[[float, str], None]

#: The own person records that place a resident and give their sex and age.
PEOPLE = Source(
    alias="people",
    standard=ANY_PERSON,
    organisations="own",
    fields=("uprn", "sex", "date_of_birth"),
)
#: Age bands of the fairness check (lower bounds, years).
AGE_BANDS = (
    (0, "0-4"),
    (5, "5-10"),
    (11, "11-15"),
    (16, "16-17"),
    (18, "18-24"),
    (25, "25-44"),
    (45, "45-64"),
    (65, "65-74"),
    (75, "75+"),
)


@dataclass(frozen=True)
class AreaOptions:
    rule_paths: tuple[Path, ...] = ()
    rule_ids: tuple[str, ...] = ()
    months: int = 24  # the latest months of data, at most


def month_end(month: str) -> date:
    year, mon = (int(x) for x in month.split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def _month_range(first: str, last: str) -> list[str]:
    y, m = (int(x) for x in first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _versions(settings: Settings, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every version (up to the linked one) of the datasets the index was built from."""
    linked = {(i["organisation"], i["dataset"]): int(i["version"]) for i in inputs}
    with session_scope(settings) as session:
        rows = session.execute(
            select(
                Organisation.code,
                Dataset.name,
                Dataset.standard,
                DatasetVersion.version,
                DatasetVersion.period,
            )
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
        ).all()
    return [
        {"organisation": o, "dataset": d, "standard": s, "version": int(v), "period": p}
        for o, d, s, v, p in rows
        if (o, d) in linked and int(v) <= linked[(o, d)]
    ]


def _in_force(versions: list[dict[str, Any]], months: list[str]) -> pa.Table:
    """(month, organisation, dataset, version): the version of each dataset in force."""
    by_dataset: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for v in versions:
        by_dataset.setdefault((v["organisation"], v["dataset"]), []).append(v)
    rows: dict[str, list[Any]] = {"month": [], "organisation": [], "dataset": [], "version": []}
    for month in months:
        for (org, ds), vs in by_dataset.items():
            dated = [v for v in vs if v["period"] and v["period"] <= month]
            chosen = (
                max(dated, key=lambda v: v["version"])
                if dated
                else min(vs, key=lambda v: v["version"])
            )
            for key, value in zip(rows, (month, org, ds, chosen["version"]), strict=True):
                rows[key].append(value)
    return pa.table(rows)


def _window(versions: list[dict[str, Any]], months: int) -> list[str]:
    periods = sorted({v["period"] for v in versions if v["period"]})
    if not periods:
        return []
    last = periods[-1]
    y, m = (int(x) for x in last.split("-"))
    index = y * 12 + m - 1 - (max(1, months) - 1)
    first = max(periods[0], f"{index // 12:04d}-{index % 12 + 1:02d}")
    return _month_range(first, last)


def _month_view(con: duckdb.DuckDBPyConnection, all_table: str, view: str) -> None:
    """The rows in force at each month of the window, with the month (``__month``) and its
    last day (``__run_date``): a row is there once for every month it is in force."""
    con.execute(
        f"""CREATE OR REPLACE VIEW {ident(view)} AS
        SELECT a.*, f.month AS __month, m.month_end AS __run_date FROM {ident(all_table)} a
        JOIN __in_force f ON f.organisation = a._organisation
                         AND f.dataset = a._dataset AND f.version = a._version
        JOIN __months m ON m.month = f.month
        WHERE a._date IS NULL OR a._date <= m.month_end"""
    )


def _age_band_sql(dob: str, at: str) -> str:
    birthday_not_yet = f"strftime({at}, '%m%d') < strftime({dob}, '%m%d')"
    age = f"date_diff('year', {dob}, {at}) - CASE WHEN {birthday_not_yet} THEN 1 ELSE 0 END"
    cases = " ".join(f"WHEN ({age}) >= {low} THEN {lit(name)}" for low, name in reversed(AGE_BANDS))
    return f"CASE WHEN {dob} IS NULL THEN 'unknown' {cases} ELSE 'unknown' END"


def _place_people(con: duckdb.DuckDBPyConnection, people: str, code: str, purpose: str) -> None:
    """Add one council's residents known each month (placed, with sex and age band), and
    its households' addresses (``__household_place``). A resident's values, household and
    a household's address are those of the latest record that has them (ties: file order).
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW __people_month AS
        SELECT a.*, f.month, m.month_end, struct_pack(d := a._date, r := a._row) AS _latest
        FROM {ident(people)} a
        JOIN __in_force f ON f.organisation = a._organisation AND f.dataset = a._dataset
                         AND f.version = a._version
        JOIN __months m ON m.month = f.month
        WHERE a._date IS NULL OR a._date <= m.month_end"""
    )
    con.execute(
        f"""INSERT INTO __household_place
        SELECT {lit(purpose)}, {lit(code)}, month, household_id,
               arg_max(CAST(uprn AS VARCHAR), _latest) AS uprn
        FROM __people_month WHERE uprn IS NOT NULL GROUP BY month, household_id"""
    )
    con.execute(
        f"""INSERT INTO __population
        WITH res AS (
            SELECT month, any_value(month_end) AS month_end, resident_id,
                   arg_max(household_id, _latest) AS household_id,
                   arg_max(CAST(uprn AS VARCHAR), _latest) FILTER (WHERE uprn IS NOT NULL)
                       AS uprn,
                   arg_max(sex, _latest) FILTER (WHERE sex IS NOT NULL) AS sex,
                   arg_max(date_of_birth, _latest) FILTER (WHERE date_of_birth IS NOT NULL)
                       AS dob
            FROM __people_month GROUP BY month, resident_id
        )
        SELECT {lit(purpose)}, {lit(code)}, res.month, res.resident_id, res.household_id,
               coalesce(res.uprn, hh.uprn), coalesce(res.sex, 'unknown'),
               {_age_band_sql("res.dob", "res.month_end")}
        FROM res LEFT JOIN __household_place hh
          ON hh.purpose = {lit(purpose)} AND hh.organisation = {lit(code)}
         AND hh.month = res.month AND hh.household_id = res.household_id"""
    )
    con.execute("DROP VIEW __people_month")


def _flag_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE __mflags (rule_id VARCHAR, purpose VARCHAR, organisation VARCHAR, "
        "month VARCHAR, resident_id VARCHAR, household_id VARCHAR)"
    )
    con.execute(
        "CREATE TABLE __data_month (rule_id VARCHAR, organisation VARCHAR, month VARCHAR, "
        "data_month VARCHAR)"
    )
    con.execute(
        "CREATE TABLE __household_place (purpose VARCHAR, organisation VARCHAR, "
        "month VARCHAR, household_id VARCHAR, uprn VARCHAR)"
    )
    con.execute(
        "CREATE TABLE __population (purpose VARCHAR, organisation VARCHAR, month VARCHAR, "
        "resident_id VARCHAR, household_id VARCHAR, uprn VARCHAR, sex VARCHAR, "
        "age_band VARCHAR)"
    )


def _evaluate_rule(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    batch: BatchRead,
    rule: Rule,
    code: str,
    gss: str | None,
    versions: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Take a rule's sources from the council's shared read (every version in force in the
    window) and judge the rule as at every month's end in one query; returns the refused
    reads."""
    sources, refused = rule_sources(settings, con, batch, rule, code, versions, "all_")
    tables = {alias: f"src_{alias}" for alias in sources}
    for alias, table in sources.items():
        _month_view(con, table, tables[alias])
    sql = compile_rule(rule, tables, Context(date.today(), gss, code), per_month=True)
    # the rule runs on the chosen engine over the sources' governed rows, month by month
    engine_table(settings, con, "__rule_flags", sql, list(tables.values()))
    con.execute(
        f"""INSERT INTO __mflags SELECT DISTINCT {lit(rule.id)}, {lit(rule.purpose)},
               {lit(code)}, month, resident_id, household_id FROM __rule_flags"""
    )
    con.execute("DROP TABLE __rule_flags")
    con.execute(
        f"""INSERT INTO __data_month SELECT {lit(rule.id)}, {lit(code)}, m.month,
               strftime(max(s._date), '%Y-%m')
        FROM __months m LEFT JOIN {ident(tables[rule.subject])} s ON s.__month = m.month
        GROUP BY m.month"""
    )
    for alias in rule.sources:
        con.execute(f"DROP VIEW IF EXISTS {ident(tables[alias])}")
        drop_source(con, f"all_{alias}")
    return refused


def _evaluate_councils(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    rules: list[Rule],
    councils: list[tuple[str, str | None]],
    versions: list[dict[str, Any]],
    months: list[str],
    resolver: Callable[[frozenset[str]], set[tuple[str, str, str]]],
    job_id: str | None,
    report: Progress,
) -> list[dict[str, Any]]:
    """Per council and purpose: one shared governed read of every version in the window that
    the residents known to the council (``people``) and the purpose's rules need; then the
    population and each rule's monthly flags. Returns the refused reads (council, people
    then rules, source order)."""
    purposes = sorted({r.purpose for r in rules})
    steps, done = max(1, len(councils) * (len(rules) + len(purposes))), 0
    refused: list[dict[str, Any]] = []
    for code, gss in councils:
        people: list[dict[str, Any]] = []
        by_rule: dict[str, list[dict[str, Any]]] = {}
        for purpose in purposes:
            report(0.9 * done / steps, f"Residents known to {code} ({purpose})")
            done += 1
            these = [r for r in rules if r.purpose == purpose]
            actor = ServiceActor(code, purpose, name="insight-areas", job_id=job_id)
            requests = [
                ReadRequest("people", tuple(_refs(PEOPLE, versions, code)), _fields_for(PEOPLE)),
                *source_requests(these, code, versions),
            ]
            batch = read_shared(settings, con, actor, requests, resolver, date.today())
            # the population's fields are disputed-aware as the first rule is
            reads = source_table(
                settings,
                con,
                batch,
                "people",
                PEOPLE,
                versions,
                "__people",
                rules[0].exclude_disputed,
            )
            people += [
                {"organisation": code, "source": "people", **r} for r in reads if not r["allowed"]
            ]
            _place_people(con, "__people", code, purpose)
            drop_source(con, "__people")
            for rule in these:
                report(0.9 * done / steps, f"{rule.name}: {code}, {len(months)} months")
                done += 1
                by_rule[rule.id] = _evaluate_rule(settings, con, batch, rule, code, gss, versions)
            batch.drop(con)
        refused += people + [x for r in rules for x in by_rule[r.id]]
    return refused


TRENDS_SQL = """
WITH placed AS (
    SELECT f.rule_id, f.month, f.resident_id, f.organisation,
           g.lsoa, g.ward, coalesce(g.lad, c.gss) AS lad
    FROM __mflags f
    LEFT JOIN __population p USING (purpose, organisation, month, resident_id)
    LEFT JOIN __gazetteer g ON g.uprn = p.uprn
    LEFT JOIN __councils c ON c.code = f.organisation
),
pop AS (
    SELECT p.purpose, p.month, p.resident_id, g.lsoa, g.ward, coalesce(g.lad, c.gss) AS lad
    FROM __population p
    LEFT JOIN __gazetteer g ON g.uprn = p.uprn
    LEFT JOIN __councils c ON c.code = p.organisation
),
flag_counts AS (
    SELECT rule_id, month, 'lsoa' AS level, lsoa AS code, count(DISTINCT resident_id) AS n
      FROM placed WHERE lsoa IS NOT NULL GROUP BY ALL
    UNION ALL SELECT rule_id, month, 'ward', ward, count(DISTINCT resident_id)
      FROM placed WHERE ward IS NOT NULL GROUP BY ALL
    UNION ALL SELECT rule_id, month, 'lad', lad, count(DISTINCT resident_id)
      FROM placed WHERE lad IS NOT NULL GROUP BY ALL
),
pop_counts AS (
    SELECT purpose, month, 'lsoa' AS level, lsoa AS code, count(DISTINCT resident_id) AS n
      FROM pop WHERE lsoa IS NOT NULL GROUP BY ALL
    UNION ALL SELECT purpose, month, 'ward', ward, count(DISTINCT resident_id)
      FROM pop WHERE ward IS NOT NULL GROUP BY ALL
    UNION ALL SELECT purpose, month, 'lad', lad, count(DISTINCT resident_id)
      FROM pop WHERE lad IS NOT NULL GROUP BY ALL
),
areas AS (SELECT DISTINCT level, code, ward, lad FROM (HIERARCHY)
          UNION SELECT DISTINCT 'lad', gss, NULL, gss FROM __councils WHERE gss IS NOT NULL),
dm AS (SELECT rule_id, month, max(data_month) AS data_month FROM __data_month GROUP BY ALL)
SELECT r.rule_id, m.month, a.level, a.code AS area_code,
       CASE a.level WHEN 'lsoa' THEN a.ward END AS parent_ward, a.lad AS parent_lad,
       coalesce(fc.n, 0)::BIGINT AS flags, coalesce(pc.n, 0)::BIGINT AS residents,
       CASE WHEN coalesce(pc.n, 0) > 0 THEN round(1000.0 * coalesce(fc.n, 0) / pc.n, 3)
       END AS rate_per_1000,
       dm.data_month
FROM __rules r CROSS JOIN __months m CROSS JOIN areas a
LEFT JOIN flag_counts fc ON fc.rule_id = r.rule_id AND fc.month = m.month
                        AND fc.level = a.level AND fc.code = a.code
LEFT JOIN pop_counts pc ON pc.purpose = r.purpose AND pc.month = m.month
                       AND pc.level = a.level AND pc.code = a.code
LEFT JOIN dm ON dm.rule_id = r.rule_id AND dm.month = m.month
ORDER BY r.rule_id, a.level, a.code, m.month
"""


def run_areas(
    settings: Settings,
    options: AreaOptions | None = None,
    progress: Progress | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    """Evaluate the rules month by month, aggregate by area, write trends and fairness."""
    from joinedup.insight.run import InsightError
    from joinedup.linkage.build import resident_resolver  # read-only use of the index

    options = options or AreaOptions()
    report = progress or (lambda f, m: None)
    rules = load_rules(list(options.rule_paths) or None)
    if options.rule_ids:
        unknown = set(options.rule_ids) - {r.id for r in rules}
        if unknown:
            raise InsightError(f"no rule {', '.join(sorted(unknown))}")
        rules = [r for r in rules if r.id in options.rule_ids]
    linkage = latest_linkage_run(settings)
    councils = _councils(settings)
    versions = _versions(settings, linkage.inputs)
    months = _window(versions, options.months)
    if not months:
        raise InsightError("the linked datasets have no dated versions: no months to count")
    store = SnapshotStore(settings)
    resolver = resident_resolver(settings)
    started = time.perf_counter()
    refused: list[dict[str, Any]] = []
    with duckdb_session(settings) as con:
        load_index(con, store, linkage.index_sha256)
        gazetteer = load_gazetteer(settings, con, "__gazetteer")
        in_force = _in_force(versions, months)
        used = set(
            zip(
                in_force["organisation"].to_pylist(),
                in_force["dataset"].to_pylist(),
                in_force["version"].to_pylist(),
                strict=True,
            )
        )
        # only the versions some month of the window uses are read
        versions = [v for v in versions if (v["organisation"], v["dataset"], v["version"]) in used]
        con.register("__in_force_rows", in_force)
        con.execute("CREATE TABLE __in_force AS SELECT * FROM __in_force_rows")
        con.unregister("__in_force_rows")
        con.execute(
            "CREATE TABLE __months AS SELECT * FROM (VALUES "
            + ", ".join(f"({lit(m)}, DATE {lit(month_end(m).isoformat())})" for m in months)
            + ") t(month, month_end)"
        )
        con.execute(
            "CREATE TABLE __councils AS SELECT * FROM (VALUES "
            + ", ".join(f"({lit(c)}, {lit(g) if g else 'NULL'})" for c, g in councils)
            + ") t(code, gss)"
        )
        con.execute(
            "CREATE TABLE __rules AS SELECT * FROM (VALUES "
            + ", ".join(f"({lit(r.id)}, {lit(r.purpose)})" for r in rules)
            + ") t(rule_id, purpose)"
        )
        _flag_tables(con)
        refused = _evaluate_councils(
            settings, con, rules, councils, versions, months, resolver, job_id, report
        )
        # flagged residents the council knows only through their household join the population
        con.execute(
            """INSERT INTO __population
            SELECT DISTINCT f.purpose, f.organisation, f.month, f.resident_id, f.household_id,
                   h.uprn, 'unknown', 'unknown'
            FROM __mflags f
            LEFT JOIN __household_place h USING (purpose, organisation, month, household_id)
            WHERE NOT EXISTS (SELECT 1 FROM __population p WHERE p.purpose = f.purpose
                              AND p.organisation = f.organisation AND p.month = f.month
                              AND p.resident_id = f.resident_id)"""
        )
        report(0.92, "Aggregating by area and month")
        trends_sql = TRENDS_SQL.replace("HIERARCHY", hierarchy_sql("__gazetteer"))
        fairness_sql = FAIRNESS_SQL.format(month=lit(months[-1]))
        unplaced = dict(
            con.execute(
                """SELECT f.rule_id, count(DISTINCT f.resident_id) FROM __mflags f
                LEFT JOIN __population p USING (purpose, organisation, month, resident_id)
                LEFT JOIN __gazetteer g ON g.uprn = p.uprn
                WHERE g.lsoa IS NULL AND f.month = ? GROUP BY ALL""",
                [months[-1]],
            ).fetchall()
        )
        totals = dict(
            con.execute(
                "SELECT rule_id, count(DISTINCT resident_id) FROM __mflags WHERE month = ? "
                "GROUP BY ALL",
                [months[-1]],
            ).fetchall()
        )
        summaries = [
            {
                "id": r.id,
                "name": r.name,
                "purpose": r.purpose,
                "flags_last_month": int(totals.get(r.id, 0)),
                "unplaced_last_month": int(unplaced.get(r.id, 0)),
            }
            for r in rules
        ]
        with session_scope(settings) as session, store.writer(session) as writer:
            trends = writer.write_query(con, trends_sql)
            fairness = writer.write_query(con, fairness_sql)
            row = InsightAreaRun(
                job_id=job_id,
                linkage_run_id=linkage.id,
                trends_sha256=trends.sha256,
                fairness_sha256=fairness.sha256,
                first_month=months[0],
                last_month=months[-1],
                rules=summaries,
                details={
                    "gazetteer": gazetteer.label,
                    "months": months,
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
    report(1.0, "Trends written")
    return {
        "area_run": run_id,
        "linkage_run": linkage.id,
        "months": [months[0], months[-1]],
        "rules": summaries,
        "refused_reads": len(refused),
        "seconds": round(time.perf_counter() - started, 2),
    }


def latest_area_run(settings: Settings) -> InsightAreaRun | None:
    with session_scope(settings) as session:
        run = session.scalars(
            select(InsightAreaRun).order_by(InsightAreaRun.id.desc()).limit(1)
        ).first()
        if run is not None:
            session.expunge(run)
        return run
