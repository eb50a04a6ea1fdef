"""Assemble the linkage input: the person records of the latest version of every person-standard
dataset, read through the governance gateway for services, one record per source person.

**One record per (organisation, dataset, source_record_id).** ``source_record_id`` identifies a
person in a source system (docs/standards.md), so rows sharing it within one dataset version
(monthly lists, termly census rows, one row per service or claim assessment) are the same person
by definition and linking them again would only multiply pairs. The record keeps the attributes
of the most recent row (by the standard's own date or period, then the row's position in the
file); ``rows`` says how many rows it stands for. The key is
``<organisation>/<dataset>/<source_record_id>``, unique across the region.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation, OrganisationType
from joinedup.config import Settings
from joinedup.errors import Missing
from joinedup.governance.processing import (
    DatasetRead,
    DatasetRef,
    ResidentResolver,
    ServiceActor,
    read_for_processing,
)
from joinedup.linkage.prepare import LINKAGE_FIELDS
from joinedup.standards import is_person_standard
from joinedup.store.sql import ident

PURPOSE = "linkage"

#: The column that says how recent a row is, per standard (then the row's position).
RECENCY: dict[str, str] = {
    "school_census": "census_date",
    "council_tax": "period",
    "tenancy": "period",
    "electoral_register": "register_date",
    "referral": "referral_date",
    "adult_social_care": "service_start_date",
    "childrens_social_care": "episode_start_date",
    "benefit_claim": "claim_start_date",
}


#: Roles only an adult holds, by standard: the minimum age at the record's date (its recency
#: column). Council tax liability and tenancies need 18; the register holds attainers from 16.
MIN_AGE: dict[str, int] = {"council_tax": 18, "tenancy": 18, "electoral_register": 16}

#: Roles whose entries below the adult age carry the date they reach it, by standard: the
#: field and that age. The register prints an attainer's date of attaining 18, so an elector
#: without one is 18 on the register's date, and an attainer was born 18 years before theirs.
#: (with a year's leeway for a slip in the other record's date). Only where the dataset
#: supplies the field (some entry has it); otherwise :data:`MIN_AGE`.
ATTAINER: dict[str, tuple[str, int]] = {"electoral_register": ("attainer_date", 18)}


class Listing(NamedTuple):
    """The fields that, with the organisation and dataset, identify one *listing* of a
    source: a list in which the source names each person once. ``required`` must all be
    present for a record to have a listing; ``optional`` are read as empty when missing."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


#: Listings by standard. Two records of one listing are two people (a hard cannot-link,
#: :data:`joinedup.linkage.comparisons.SAME_LISTING`). One assessment of a benefit claim (the
#: claim and the assessment's period: a claim can be reassessed from the same day) lists the
#: claimant, partner and dependants once each, so twins on one claim are two people however
#: alike their records read. The current assessment has no end date. One publication of an
#: electoral register (its date) lists each elector once: a father and son of one name at one
#: address, both on it, are two electors. (A record keeps its latest row, so an elector who
#: moved and was given a new number keeps the old number's older date: no constraint.)
LISTING: dict[str, Listing] = {
    "benefit_claim": Listing(("household_ref", "assessment_start_date"), ("assessment_end_date",)),
    "electoral_register": Listing(("register_date",)),
}


def recency_order(standard: str) -> str:
    column = RECENCY.get(standard)
    return f"{ident(column)} ASC NULLS FIRST, _source_row" if column else "_source_row"


def fields_for(standard: str) -> list[str]:
    column = RECENCY.get(standard)
    extra = [column] if column else []
    if standard in ATTAINER:
        extra.append(ATTAINER[standard][0])
    listing = LISTING.get(standard)
    extra += [f for f in (listing.fields if listing else ()) if f not in (*LINKAGE_FIELDS, *extra)]
    return [*LINKAGE_FIELDS, *extra]


@dataclass
class LinkageInput:
    """The assembled records (a DuckDB table in ``con``) and what went into them."""

    table: str
    records: int
    rows: int
    datasets: list[DatasetRead] = field(default_factory=list)

    @property
    def versions(self) -> list[dict[str, Any]]:
        """The dataset versions linked (for the training record and the run)."""
        return [
            {
                "organisation": d.organisation,
                "dataset": d.dataset,
                "version": d.version,
                "standard": d.standard,
                "rows": d.rows,
                "excluded_by_objection": d.excluded,
            }
            for d in self.datasets
            if d.allowed
        ]

    @property
    def refused(self) -> list[dict[str, str]]:
        return [
            {"dataset": f"{d.organisation}/{d.dataset}", "reason": d.reason}
            for d in self.datasets
            if not d.allowed
        ]

    def fingerprint(self) -> str:
        """A digest of the versions linked: equal inputs give equal fingerprints."""
        text = ";".join(f"{v['organisation']}/{v['dataset']}/{v['version']}" for v in self.versions)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def person_datasets(settings: Settings) -> list[DatasetRef]:
    """Every dataset of a person standard that has at least one version (latest is read)."""
    with session_scope(settings) as session:
        rows = session.execute(
            select(Organisation.code, Dataset.name, Dataset.standard)
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .where(Dataset.id.in_(select(DatasetVersion.dataset_id)))
            .order_by(Organisation.code, Dataset.name)
        ).all()
    return [DatasetRef(org, name) for org, name, standard in rows if is_person_standard(standard)]


def hub_organisation(settings: Settings) -> str:
    """The code of the hub organisation (the linkage service acts for it)."""
    with session_scope(settings) as session:
        code = session.scalars(
            select(Organisation.code)
            .where(Organisation.type == OrganisationType.HUB.value)
            .order_by(Organisation.id)
        ).first()
    if code is None:
        raise Missing("no hub organisation is registered: `joinedup org add … --type hub`")
    return code


def assemble_records(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    table: str = "linkage_input",
    organisation: str | None = None,
    job_id: str | None = None,
    resolve_residents: ResidentResolver | None = None,
    today: date | None = None,
    datasets: list[DatasetRef] | None = None,
) -> LinkageInput:
    """Read every allowed person record and write table ``table`` in ``con``: ``record_key``,
    the linkage fields, and provenance (organisation, dataset, version, standard, rows)."""
    actor = ServiceActor(
        organisation=organisation or hub_organisation(settings),
        purpose=PURPOSE,
        name="linkage",
        job_id=job_id,
    )
    read = read_for_processing(
        settings,
        actor,
        datasets if datasets is not None else person_datasets(settings),
        fields_for,
        order_by=recency_order,
        resolve_residents=resolve_residents,
        today=today,
    )
    data = read.table
    if data.num_columns == 0:
        data = _empty()
    data = data.append_column("_position", pa.array(range(data.num_rows), pa.int64()))
    con.register("__linkage_read", data)
    fields = ", ".join(
        f"CAST({ident(f)} AS VARCHAR) AS {ident(f)}"
        for f in LINKAGE_FIELDS
        if f not in ("date_of_birth", "uprn")
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT _organisation || '/' || _dataset || '/' || source_record_id AS record_key,
               {fields},
               TRY_CAST(date_of_birth AS DATE) AS date_of_birth,
               TRY_CAST(uprn AS BIGINT) AS uprn,
               {_adult_by_sql(set(data.column_names))} AS adult_by,
               {_listing_sql(set(data.column_names))} AS listing,
               _organisation AS organisation, _dataset AS dataset, _version AS version,
               _standard AS standard, source_record_id,
               count(*) OVER (PARTITION BY _organisation, _dataset, source_record_id) AS rows
        FROM __linkage_read
        QUALIFY row_number() OVER (
            PARTITION BY _organisation, _dataset, source_record_id ORDER BY _position DESC
        ) = 1
        ORDER BY record_key
        """
    )
    con.unregister("__linkage_read")
    records = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return LinkageInput(table, int(records), data.num_rows, read.datasets)


def _adult_by_sql(columns: set[str]) -> str:
    """The latest birth date an adult-only role allows (NULL when the role has no minimum)."""
    whens = []
    for standard, age in sorted(MIN_AGE.items()):
        if RECENCY[standard] not in columns:
            continue
        column = ident(RECENCY[standard])
        when = f"TRY_CAST(CASE WHEN length(CAST({column} AS VARCHAR)) = 7 "
        when += (
            f"THEN CAST({column} AS VARCHAR) || '-01' ELSE CAST({column} AS VARCHAR) END AS DATE)"
        )
        adult_by = f"({when} - INTERVAL {age} YEAR)::DATE"
        if standard in ATTAINER and ATTAINER[standard][0] in columns:
            field, adult = ATTAINER[standard]
            reached = f"TRY_CAST({ident(field)} AS DATE)"
            supplied = f"count({reached}) OVER (PARTITION BY _organisation, _dataset) > 0"
            adult_by = (
                f"CASE WHEN {reached} IS NOT NULL "
                f"THEN ({reached} - INTERVAL {adult - 1} YEAR)::DATE "
                f"WHEN {supplied} THEN ({when} - INTERVAL {adult} YEAR)::DATE "
                f"ELSE {adult_by} END"
            )
        whens.append(f"WHEN '{standard}' THEN {adult_by}")
    return f"CASE _standard {' '.join(whens)} END" if whens else "CAST(NULL AS DATE)"


def _listing_sql(columns: set[str]) -> str:
    """The record's listing key (see :data:`LISTING`); NULL when a required part is missing."""
    whens = []
    for standard, listing in sorted(LISTING.items()):
        if not set(listing.fields) <= columns:
            continue
        parts = [f"CAST({ident(f)} AS VARCHAR)" for f in listing.required]
        parts += [f"coalesce(CAST({ident(f)} AS VARCHAR), '')" for f in listing.optional]
        key = " || '/' || ".join(["_organisation", "_dataset", *parts])
        whens.append(f"WHEN '{standard}' THEN {key}")
    return f"CASE _standard {' '.join(whens)} END" if whens else "CAST(NULL AS VARCHAR)"


def _empty() -> pa.Table:
    columns: dict[str, pa.Array] = {
        name: pa.array([], pa.string()) for name in ("source_record_id", *LINKAGE_FIELDS)
    }
    for name in ("_organisation", "_dataset", "_standard"):
        columns[name] = pa.array([], pa.string())
    columns["_version"] = pa.array([], pa.int32())
    return pa.table(columns)


ProgressFn = Callable[[float, str], None]
