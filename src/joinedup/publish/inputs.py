"""What a release is built from, read the governed way.

* **Indicator flags** (personal data). The hub acts as a service under the publication's
  purpose (``statistics``): :func:`~joinedup.governance.processing.authorise_reuse` decides
  and audits the further use of the flags derived from each dataset version the flags cite;
  :func:`~joinedup.governance.processing.read_for_processing` reads the UPRN of the cited
  records (decided, objectors left out, audited). A flag counts only if every dataset it
  cites is allowed and every record it rests on was read, so refusals and objections drop
  the flag. Each resident is counted once per indicator; the ward comes from the first
  cited record whose UPRN is in the address gazetteer, the month from the latest cited
  record's date (else the flag's ``as_at``).
* **Non-personal datasets** (spend, the gazetteer): read from their latest versions; each
  read is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Dataset,
    DatasetVersion,
    Organisation,
)
from joinedup.config import Settings
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.processing import (
    DatasetRef,
    ServiceActor,
    authorise_reuse,
    read_for_processing,
)
from joinedup.standards import field_names
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.engine import engine_table
from joinedup.store.sql import ident, lit

PURPOSE = "statistics"


class InputError(RuntimeError):
    """A release cannot be built: a prerequisite is missing (the message says which)."""


@dataclass
class FlagUnits:
    """One row per (indicator, resident) counted, with ward and month; and what was left out."""

    units: list[tuple[str, str, str, str]]  # indicator, ward, month, resident_id
    ward_to_la: dict[str, str]
    insight_run: int
    flags_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)


def hub_code(settings: Settings) -> str:
    """The hub organisation's code (publications are made by the regional hub)."""
    from joinedup.linkage.inputs import hub_organisation

    try:
        return hub_organisation(settings)
    except LookupError as exc:
        raise InputError(str(exc)) from None


def latest_versions(settings: Settings, standard: str) -> list[dict[str, Any]]:
    """The latest version of every dataset of ``standard``: organisation, names, snapshot."""
    out: list[dict[str, Any]] = []
    with session_scope(settings) as session:
        rows = session.execute(
            select(Organisation, Dataset)
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .where(Dataset.standard == standard)
            .order_by(Organisation.code, Dataset.name)
        ).all()
        for org, ds in rows:
            version = session.scalars(
                select(DatasetVersion)
                .where(DatasetVersion.dataset_id == ds.id)
                .order_by(DatasetVersion.version.desc())
                .limit(1)
            ).first()
            if version is not None:
                out.append(
                    {
                        "organisation": org.code,
                        "organisation_name": org.name,
                        "dataset": ds.name,
                        "version": version.version,
                        "sha256": version.snapshot_sha256,
                    }
                )
    return out


def read_open_dataset(
    settings: Settings, standard: str, actor: ServiceActor, columns: list[str]
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """The latest version of each dataset of a non-personal standard, one table with the
    ``organisation`` and ``organisation_name`` first; every read audited."""
    versions = latest_versions(settings, standard)
    if not versions:
        raise InputError(f"no dataset of the standard {standard} has been ingested yet")
    store = SnapshotStore(settings)
    selects = []
    for v in versions:
        cols = ", ".join(ident(c) for c in columns)
        selects.append(
            f"SELECT {lit(v['organisation'])} AS organisation, "
            f"{lit(v['organisation_name'])} AS organisation_name, {cols}, _source_row "
            f"FROM {store.sql_source(v['sha256'])}"
        )
    sql = " UNION ALL BY NAME ".join(selects)
    with duckdb_session(settings) as con:
        table = con.sql(
            f"SELECT * EXCLUDE (_source_row) FROM ({sql}) ORDER BY organisation, _source_row"
        ).to_arrow_table()
    with session_scope(settings) as session:
        for v in versions:
            append_event(
                session,
                actor=actor.label,
                action=AuditAction.DATASET_READ,
                purpose=actor.purpose,
                decision="allow",
                reason=f"non-personal data ({standard}) read for publication",
                target_type="dataset_version",
                target_id=f"{v['organisation']}/{v['dataset']}/{v['version']}",
                details={"job": actor.job_id} if actor.job_id else {},
            )
    return table, [{k: v[k] for k in ("organisation", "dataset", "version")} for v in versions]


def _load_flags(con: Any, source: str, indicators: list[str]) -> None:
    """``__flags`` (the indicators' flags) and ``__records`` (one row per cited record)."""
    wanted = ", ".join(lit(i) for i in indicators)
    con.execute(
        "CREATE TABLE __flags AS SELECT flag_id, rule_id, organisation, resident_id, as_at, "
        f"records FROM {source} WHERE rule_id IN ({wanted})"
    )
    con.execute(
        "CREATE TABLE __records AS SELECT flag_id, pos, rec.organisation AS organisation, "
        "rec.dataset AS dataset, rec.version AS version, "
        "rec.source_record_id AS source_record_id, rec.date AS date FROM (SELECT flag_id, "
        "unnest(generate_series(1, len(records))) AS pos, unnest(records) AS rec FROM __flags)"
    )


#: The columns of the governed read that place a flag's records (with their types when absent).
READ_COLUMNS = {
    "source_record_id": pa.string(),
    "uprn": pa.int64(),
    "_organisation": pa.string(),
    "_dataset": pa.string(),
    "_version": pa.int64(),
}


def flag_units(
    settings: Settings, actor: ServiceActor, indicators: list[str], today: date | None = None
) -> FlagUnits:
    """The counted units of ``indicators`` from the latest insight run (see the module)."""
    from joinedup.insight.run import latest_insight_run
    from joinedup.linkage.runs import resident_resolver

    run = latest_insight_run(settings)
    if run is None:
        raise InputError("no insight run yet: run `joinedup insight run` first")
    store = SnapshotStore(settings)
    gazetteer, gazetteer_versions = read_open_dataset(
        settings, "address", actor, ["uprn", "ward_code", "local_authority_code"]
    )
    with duckdb_session(settings) as con:
        _load_flags(con, store.sql_source(run.flags_sha256), indicators)
        cited = con.execute(
            "SELECT DISTINCT organisation, dataset, version FROM __records ORDER BY ALL"
        ).fetchall()
        flags_read = int(con.execute("SELECT count(*) FROM __flags").fetchall()[0][0])
    refs = [DatasetRef(str(o), str(d), int(v)) for o, d, v in cited]
    reuse = authorise_reuse(
        settings,
        actor,
        refs,
        ["source_record_id"],
        derived_from=f"insight_run:{run.id} flags",
        today=today,
    )
    allowed = [r for r, d in zip(refs, reuse, strict=True) if d.allowed]
    read = read_for_processing(
        settings,
        actor,
        allowed,
        lambda standard: ["uprn"] if "uprn" in field_names(standard) else [],
        resolve_residents=resident_resolver(settings),
        today=today,
    )
    rows = read.table
    # a dataset without UPRNs reads none; no flags at all (a small region) read nothing
    for name, type_ in READ_COLUMNS.items():
        if name not in rows.column_names:
            rows = rows.append_column(name, pa.nulls(rows.num_rows, type_))
    with duckdb_session(settings) as con:
        _load_flags(con, store.sql_source(run.flags_sha256), indicators)
        con.register(
            "__read",
            rows.select(list(READ_COLUMNS)),
        )
        con.register("__gazetteer", gazetteer)
        # placing the flags' records runs on the chosen engine, over the governed read
        engine_table(
            settings,
            con,
            "__located",
            """SELECT f.flag_id, f.rule_id, f.organisation, f.resident_id, f.as_at,
                   count(*) AS cited, count(x.source_record_id) AS read,
                   arg_min(g.ward_code, CASE WHEN g.ward_code IS NULL THEN NULL ELSE r.pos END)
                     AS ward_code,
                   max(r.date) AS latest_date
            FROM __flags f
            JOIN __records r USING (flag_id)
            LEFT JOIN __read x ON x._organisation = r.organisation AND x._dataset = r.dataset
                 AND x._version = r.version AND x.source_record_id = r.source_record_id
            LEFT JOIN __gazetteer g ON g.uprn = TRY_CAST(x.uprn AS BIGINT)
            GROUP BY ALL""",
            ["__flags", "__records", "__read", "__gazetteer"],
        )
        dropped_unread = con.execute(
            "SELECT count(*) FROM __located WHERE read < cited"
        ).fetchall()[0][0]
        unlocated = con.execute(
            "SELECT count(*) FROM __located WHERE read = cited AND ward_code IS NULL"
        ).fetchall()[0][0]
        counted = con.execute(
            """SELECT rule_id, ward_code, strftime(coalesce(latest_date, as_at), '%Y-%m'),
                      resident_id
            FROM __located WHERE read = cited AND ward_code IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY rule_id, resident_id
                                       ORDER BY organisation, flag_id) = 1
            ORDER BY ALL"""
        ).fetchall()
        duplicates = con.execute(
            """SELECT count(*) - count(DISTINCT (rule_id, resident_id)) FROM __located
            WHERE read = cited AND ward_code IS NOT NULL"""
        ).fetchall()[0][0]
        wards = con.execute(
            "SELECT DISTINCT ward_code, local_authority_code FROM __gazetteer "
            "WHERE ward_code IS NOT NULL AND local_authority_code IS NOT NULL ORDER BY ALL"
        ).fetchall()
    return FlagUnits(
        units=[(str(a), str(b), str(c), str(d)) for a, b, c, d in counted],
        ward_to_la={str(w): str(la) for w, la in wards},
        insight_run=int(run.id),
        flags_read=flags_read,
        dropped={
            "refused_or_objected": int(dropped_unread),
            "no_ward": int(unlocated),
            "same_resident_again": int(duplicates),
        },
        datasets=[
            {
                "dataset": f"{d.organisation}/{d.dataset}/{d.version}",
                "allowed": d.allowed,
                "rows": d.rows,
                "excluded_by_objection": d.excluded,
            }
            for d in read.datasets
        ]
        + [
            {"dataset": f"{g['organisation']}/{g['dataset']}/{g['version']}", "allowed": True}
            for g in gazetteer_versions
        ],
    )
