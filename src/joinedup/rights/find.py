"""Find the person: score a DPO's identifying details against every linked record with the
latest run's Splink model, and return the resident(s) they match, with all their joined
records across organisations, and the near-miss candidates below the match threshold.

The details entered are normalised as ingest normalises them and prepared as linkage prepares
records, then scored against the run's prepared records with Splink 5's ``predict_between``
(the same blocking rules and trained parameters as the index; term frequencies from all
records). Comparing the details with the stored prepared records is further processing of
those records by the hub for the subject-access purpose: each dataset is decided and audited
(:func:`joinedup.governance.processing.authorise_reuse`) and a refused dataset is left out.
What the DPO then sees of each record is read through :func:`joinedup.governance.access.
read_records` as the DPO (decided, audited). The search itself is audited as
``rights.find`` with the candidate record keys and resident ids; the details typed are never
written to the log.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from joinedup.catalog.db import session_scope
from joinedup.config import Settings
from joinedup.governance.access import Actor
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.processing import DatasetRef, ServiceActor, authorise_reuse
from joinedup.linkage import model as m
from joinedup.linkage.chain import records_source
from joinedup.linkage.explain import RecordView, RunInfo, fill_values, get_run, load_model
from joinedup.linkage.names import register_variants
from joinedup.linkage.prepare import LINKAGE_FIELDS, prepare_sql
from joinedup.linkage.standalone import FileMapping, records_sql
from joinedup.rights.common import (
    SAR_PURPOSE,
    RightsError,
    audit,
    check_dpo,
    organisation_code,
)
from joinedup.store import SnapshotStore, duckdb_session

#: Candidate records scoring at least this probability (and below the run's threshold) are
#: shown as near misses, so that a record the model was unsure of is never silently missed.
NEAR_MISS_PROBABILITY = 0.01
MAX_NEAR_MISSES = 50
QUERY_KEY = "rights/query/0"
#: The details a DPO may enter, with their length limits.
QUERY_FIELDS: dict[str, int] = {
    "given_name": 80,
    "middle_names": 120,
    "family_name": 80,
    "date_of_birth": 10,
    "postcode": 10,
    "address_line_1": 120,
    "nhs_number": 12,
    "ni_number": 12,
    "upn": 13,
    "other_id": 60,
}
#: How each detail is named to people (forms and error messages).
QUERY_LABELS: dict[str, str] = {
    "given_name": "Given name",
    "middle_names": "Middle names",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode",
    "address_line_1": "First line of address",
    "nhs_number": "NHS number",
    "ni_number": "National Insurance number",
    "upn": "Unique Pupil Number",
    "other_id": "Another identifier",
}
IDENTIFIERS = ("nhs_number", "ni_number", "upn", "other_id")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class PersonQuery:
    """Identifying details of the person asking (as the resident gave them)."""

    values: dict[str, str]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> PersonQuery:
        """Check the details: a name and date of birth, or an identifier (errors name the
        field)."""
        values: dict[str, str] = {}
        for name, limit in QUERY_FIELDS.items():
            value = str(raw.get(name) or "").strip()
            if len(value) > limit:
                raise RightsError(
                    f"{QUERY_LABELS[name]} must be {limit} characters or fewer", field=name
                )
            if value:
                values[name] = value
        unknown = sorted(k for k, v in raw.items() if v and k not in QUERY_FIELDS)
        if unknown:
            raise RightsError(f"unknown detail(s): {', '.join(unknown)}", field=unknown[0])
        dob = values.get("date_of_birth")
        if dob is not None:
            if not DATE.match(dob):
                raise RightsError(
                    "Date of birth must be a date such as 1984-03-27", field="date_of_birth"
                )
            try:
                born = date.fromisoformat(dob)
            except ValueError:
                raise RightsError(
                    "Date of birth must be a real date", field="date_of_birth"
                ) from None
            if born > date.today():
                raise RightsError("Date of birth must be in the past", field="date_of_birth")
        named = {"given_name", "family_name", "date_of_birth"} <= values.keys()
        if not named and not any(i in values for i in IDENTIFIERS):
            raise RightsError(
                "Enter the given name, family name and date of birth, or an identifier",
                field="given_name",
            )
        return cls(values)


@dataclass
class Candidate:
    """A record the details were compared with, its score and its resident."""

    record: RecordView
    match_probability: float | None  # None: joined to the resident, not scored directly
    match_weight: float | None

    @property
    def matches(self) -> bool:
        return self.match_probability is not None


@dataclass
class ResidentMatch:
    resident_id: str
    household_id: str
    best_probability: float
    records: list[Candidate] = field(default_factory=list)

    @property
    def organisations(self) -> list[str]:
        return sorted({c.record.organisation for c in self.records})


@dataclass
class FindResult:
    run: RunInfo
    threshold: float
    residents: list[ResidentMatch]
    near_misses: list[Candidate]
    datasets_refused: list[str]
    seconds: float


def _linker_with_tf(con: duckdb.DuckDBPyConnection, settings: dict[str, Any]) -> Any:
    linker = m.make_linker(con, ["rights_records"], settings)
    for column in linker._settings_obj._term_frequency_columns:
        linker.table_management.compute_tf_table(column.unquote().name)
    return linker


def _prepare_query(con: duckdb.DuckDBPyConnection, query: PersonQuery, rid: int) -> None:
    """``rights_query``: the details as one prepared record (the columns of the records)."""
    names = list(query.values)
    con.register(
        "__query_raw",
        pa.table({"qid": [QUERY_KEY], **{n: [query.values[n]] for n in names}}),
    )
    mapping = FileMapping(path=None, id_column="qid", fields={n: n for n in names})  # type: ignore[arg-type]
    con.execute(f"CREATE TEMP TABLE __query_in AS {records_sql('__query_raw', mapping)}")
    columns = [r[0] for r in con.execute("DESCRIBE __query_in").fetchall()]
    con.execute("CREATE TEMP TABLE rights_query AS SELECT * FROM rights_records LIMIT 0")
    wanted = {r[0] for r in con.execute("DESCRIBE rights_query").fetchall()}
    con.execute(f"CREATE TEMP TABLE __query_prep AS {prepare_sql('__query_in', columns)}")
    have = [r[0] for r in con.execute("DESCRIBE __query_prep").fetchall()]
    keep = ", ".join(c for c in have if c in wanted and c != "rid")
    con.execute(
        f"INSERT INTO rights_query BY NAME SELECT {rid}::BIGINT AS rid, {keep} FROM __query_prep"
    )
    con.unregister("__query_raw")


def _allowed_datasets(settings: Settings, actor: Actor, run: Any) -> tuple[set[str], list[str]]:
    refs = [DatasetRef(i["organisation"], i["dataset"], int(i["version"])) for i in run.inputs]
    service = ServiceActor(
        organisation=organisation_code(settings, actor.organisation_id),
        purpose=SAR_PURPOSE,
        name="rights.find",
    )
    reads = authorise_reuse(
        settings,
        service,
        refs,
        list(LINKAGE_FIELDS),
        derived_from=f"linkage_run/{run.id}/records",
    )
    allowed = {f"{r.organisation}/{r.dataset}" for r in reads if r.allowed}
    refused = [f"{r.organisation}/{r.dataset}" for r in reads if not r.allowed]
    return allowed, refused


def _score(
    settings: Settings, run: Any, query: PersonQuery, allowed: set[str]
) -> list[dict[str, Any]]:
    """Every candidate record at or above the near-miss floor, with its resident."""
    store = SnapshotStore(settings)
    model = load_model(settings, get_run(settings, run.id))
    with duckdb_session(settings) as con:
        register_variants(con)
        con.register("__allowed", pa.table({"k": pa.array(sorted(allowed), pa.string())}))
        con.execute(
            f"""CREATE TEMP TABLE rights_records AS
            SELECT (row_number() OVER (ORDER BY record_key) - 1)::BIGINT AS rid, *
            FROM {records_source(settings, run)}
            WHERE organisation || '/' || dataset IN (SELECT k FROM __allowed)"""
        )
        n = int(con.execute("SELECT count(*) FROM rights_records").fetchall()[0][0])
        _prepare_query(con, query, n)
        linker = _linker_with_tf(con, model.settings)
        db_api = linker._db_api
        left = db_api.register("rights_records", table_name="__jd_rights_records")
        right = db_api.register("rights_query", table_name="__jd_rights_query")
        pairs = linker.inference.predict_between(
            left,
            right,
            threshold_match_probability=NEAR_MISS_PROBABILITY,
            warning_mode="never",
        )
        con.execute(
            f"""CREATE TEMP TABLE __scored AS
            SELECT CASE WHEN rid_l = {n} THEN rid_r ELSE rid_l END AS rid,
                   max(match_probability) AS match_probability, max(match_weight) AS match_weight
            FROM {pairs.physical_name} GROUP BY 1"""
        )
        pairs.drop_table_from_database_and_remove_from_cache()
        cursor = con.execute(
            f"""SELECT i.record_key, i.organisation, i.dataset, i.version, i.source_record_id,
                   i.resident_id, i.household_id, i.rows, s.match_probability, s.match_weight
            FROM __scored s JOIN rights_records r USING (rid)
            JOIN {store.sql_source(run.index_sha256)} i ON i.record_key = r.record_key
            ORDER BY s.match_probability DESC, i.record_key"""
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _view(row: dict[str, Any]) -> RecordView:
    return RecordView(
        record_key=str(row["record_key"]),
        organisation=str(row["organisation"]),
        dataset=str(row["dataset"]),
        version=int(row["version"]),
        source_record_id=str(row["source_record_id"]),
        resident_id=str(row["resident_id"]),
        household_id=str(row["household_id"]),
        rows=int(row["rows"] or 1),
    )


def resident_records(settings: Settings, run: RunInfo, resident_ids: list[str]) -> list[RecordView]:
    """Every record the index joins to these residents (no values)."""
    if not resident_ids:
        return []
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        con.register("__wanted", pa.table({"v": pa.array(resident_ids, pa.string())}))
        cursor = con.execute(
            f"SELECT * FROM {source} WHERE resident_id IN (SELECT v FROM __wanted) "
            "ORDER BY organisation, dataset, record_key"
        )
        names = [d[0] for d in cursor.description]
        return [_view(dict(zip(names, r, strict=True))) for r in cursor.fetchall()]


def find_person(settings: Settings, actor: Actor, query: PersonQuery) -> FindResult:
    """The residents the details match, all their records, and the near misses (audited)."""
    check_dpo(actor)
    started = time.perf_counter()
    run = get_run(settings)
    with session_scope(settings) as session:
        from joinedup.catalog.models import LinkageRun

        stored = session.get(LinkageRun, run.id)
        assert stored is not None
        session.expunge(stored)
    if stored.records_sha256 is None:
        raise RightsError("the resident index was built before records were kept: rebuild it")
    allowed, refused = _allowed_datasets(settings, actor, stored)
    rows = _score(settings, stored, query, allowed)
    threshold = run.threshold
    best: dict[str, float] = {}
    for row in rows:
        if row["match_probability"] >= threshold:
            rid = str(row["resident_id"])
            best[rid] = max(best.get(rid, 0.0), float(row["match_probability"]))
    scores = {str(r["record_key"]): r for r in rows}
    residents: list[ResidentMatch] = []
    for record in resident_records(settings, run, sorted(best)):
        match = next((r for r in residents if r.resident_id == record.resident_id), None)
        if match is None:
            match = ResidentMatch(record.resident_id, record.household_id, best[record.resident_id])
            residents.append(match)
        score = scores.get(record.record_key)
        match.records.append(
            Candidate(
                record,
                float(score["match_probability"]) if score else None,
                float(score["match_weight"]) if score else None,
            )
        )
    residents.sort(key=lambda r: (-r.best_probability, r.resident_id))
    near = [
        Candidate(_view(r), float(r["match_probability"]), float(r["match_weight"]))
        for r in rows
        if r["match_probability"] < threshold and str(r["resident_id"]) not in best
    ][:MAX_NEAR_MISSES]
    shown = [c.record for r in residents for c in r.records] + [c.record for c in near]
    with session_scope(settings) as session:
        audit(
            session,
            actor,
            AuditAction.RIGHTS_FIND,
            "person_search",
            f"linkage_run/{run.id}",
            records=[r.record_key for r in shown],
            details={
                "details_given": sorted(query.values),
                "residents": [r.resident_id for r in residents],
                "near_misses": len(near),
                "datasets_refused": refused,
            },
        )
    fill_values(settings, actor, shown)
    return FindResult(
        run=run,
        threshold=threshold,
        residents=residents,
        near_misses=near,
        datasets_refused=refused,
        seconds=round(time.perf_counter() - started, 3),
    )
