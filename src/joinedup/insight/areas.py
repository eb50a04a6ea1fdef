"""Areas: where an address is (LSOA, ward, local authority) and how the areas nest.

The codes come from the region's **address gazetteer** (the latest version of the hub's
dataset of the ``address`` standard: ``uprn → lsoa_code, ward_code, local_authority_code``).
The gazetteer holds addresses, not people, so it is read straight from its snapshot. Area
names come from the loaded boundaries (:mod:`joinedup.insight.boundaries`) when there are
any, else the code stands for itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.store import SnapshotStore

#: Area levels, smallest first, with the gazetteer column that holds their code.
LEVELS: dict[str, str] = {"lsoa": "lsoa_code", "ward": "ward_code", "lad": "local_authority_code"}
LEVEL_NAMES = {"lsoa": "LSOA", "ward": "Ward", "lad": "Local authority"}
LEVEL_PLURALS = {"lsoa": "LSOAs", "ward": "Wards", "lad": "Local authorities"}


class AreaError(JoinedupError, ValueError):
    """A request about areas that cannot be met (no gazetteer, unknown level or code)."""


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise AreaError(f"level is one of {', '.join(LEVELS)}, not {level!r}")
    return level


@dataclass(frozen=True)
class GazetteerRef:
    organisation: str
    dataset: str
    version: int
    sha256: str

    @property
    def label(self) -> str:
        return f"{self.organisation}/{self.dataset}/{self.version}"


def latest_gazetteer(settings: Settings) -> GazetteerRef:
    """The newest version of any dataset of the ``address`` standard."""
    with session_scope(settings) as session:
        row = session.execute(
            select(
                Organisation.code,
                Dataset.name,
                DatasetVersion.version,
                DatasetVersion.snapshot_sha256,
            )
            .join(Dataset, Dataset.organisation_id == Organisation.id)
            .join(DatasetVersion, DatasetVersion.dataset_id == Dataset.id)
            .where(Dataset.standard == "address")
            .order_by(DatasetVersion.created_at.desc(), DatasetVersion.id.desc())
            .limit(1)
        ).first()
    if row is None:
        raise AreaError("no address gazetteer ingested: area codes come from it")
    return GazetteerRef(str(row[0]), str(row[1]), int(row[2]), str(row[3]))


def load_gazetteer(settings: Settings, con: duckdb.DuckDBPyConnection, table: str) -> GazetteerRef:
    """Create ``table`` (uprn, lsoa, ward, lad) from the latest gazetteer."""
    ref = latest_gazetteer(settings)
    source = SnapshotStore(settings).sql_source(ref.sha256)
    con.execute(
        f"""CREATE OR REPLACE TABLE {table} AS
        SELECT DISTINCT ON (uprn) CAST(uprn AS VARCHAR) AS uprn, lsoa_code AS lsoa,
               ward_code AS ward, local_authority_code AS lad
        FROM {source} WHERE uprn IS NOT NULL"""
    )
    return ref


def hierarchy_sql(gazetteer_table: str) -> str:
    """Each LSOA and ward with the areas containing it, as the gazetteer nests them:
    ``level, code, ward, lad`` (a ward's own ``ward`` is itself)."""
    return f"""
        SELECT DISTINCT 'lsoa' AS level, lsoa AS code, ward, lad FROM {gazetteer_table}
          WHERE lsoa IS NOT NULL
        UNION ALL SELECT DISTINCT 'ward', ward, ward, lad FROM {gazetteer_table}
          WHERE ward IS NOT NULL
        UNION ALL SELECT DISTINCT 'lad', lad, NULL, lad FROM {gazetteer_table}
          WHERE lad IS NOT NULL"""
