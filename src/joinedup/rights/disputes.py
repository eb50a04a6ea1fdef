"""Rectification: a DPO records a resident's dispute of one source record (which fields, and
the resident's statement). While it is open the record shows as disputed wherever it appears
(the resident's explanation in linkage, a flag's records on the worklist, the subject access
export), indicator rules with ``exclude_disputed: true`` do not read the disputed fields, and
the source organisation's data owners are told in the app. A data owner (or a DPO) closes it
once the source is corrected or the dispute is answered.

Audit events and notifications name the record by its key and the fields by name only; the
resident's statement stays in the dispute row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Dataset,
    Organisation,
    RightsDispute,
    RightsNotification,
    Role,
    User,
)
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.governance.access import Actor
from joinedup.governance.audit_actions import AuditAction
from joinedup.linkage.explain import get_run
from joinedup.rights.common import RightsError, audit, check_dpo
from joinedup.standards import field_names
from joinedup.store import SnapshotStore, duckdb_session

if TYPE_CHECKING:
    from joinedup.rights.find import FindResult

MAX_STATEMENT = 2000
MAX_RESOLUTION = 500
OPEN, RESOLVED = "open", "resolved"


@dataclass(frozen=True)
class DisputeInfo:
    id: int
    record_key: str
    organisation: str
    dataset: str
    source_record_id: str
    resident_id: str | None
    fields: tuple[str, ...]
    statement: str
    status: str
    recorded_at: datetime
    resolved_at: datetime | None
    resolution: str

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "record_key": self.record_key,
            "organisation": self.organisation,
            "dataset": self.dataset,
            "source_record_id": self.source_record_id,
            "fields": list(self.fields),
            "statement": self.statement,
            "status": self.status,
            "recorded_at": self.recorded_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "resolution": self.resolution,
        }


def _info(row: RightsDispute, code: str) -> DisputeInfo:
    return DisputeInfo(
        id=row.id,
        record_key=f"{code}/{row.dataset}/{row.source_record_id}",
        organisation=code,
        dataset=row.dataset,
        source_record_id=row.source_record_id,
        resident_id=row.resident_id,
        fields=tuple(str(f) for f in row.fields),
        statement=row.statement,
        status=row.status,
        recorded_at=row.recorded_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
    )


def _resident_of(settings: Settings, record_key: str) -> str | None:
    run = get_run(settings)
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        found = con.execute(
            f"SELECT resident_id FROM {source} WHERE record_key = ? LIMIT 1", [record_key]
        ).fetchall()
    return str(found[0][0]) if found else None


def record_dispute(
    settings: Settings,
    actor: Actor,
    *,
    organisation: str,
    dataset: str,
    source_record_id: str,
    fields: list[str],
    statement: str,
) -> DisputeInfo:
    """Record a dispute of a linked record's fields; notify the source's data owners."""
    check_dpo(actor)
    statement = statement.strip()
    if not statement:
        raise RightsError("Enter the resident's statement", field="statement")
    if len(statement) > MAX_STATEMENT:
        raise RightsError(
            f"The statement must be {MAX_STATEMENT} characters or fewer", field="statement"
        )
    fields = list(dict.fromkeys(f.strip() for f in fields if f.strip()))
    if not fields:
        raise RightsError("Choose the field or fields the resident disputes", field="fields")
    record_key = f"{organisation}/{dataset}/{source_record_id}"
    with session_scope(settings) as session:
        org = session.scalars(select(Organisation).where(Organisation.code == organisation)).first()
        ds = (
            session.scalars(
                select(Dataset).where(Dataset.organisation_id == org.id, Dataset.name == dataset)
            ).first()
            if org
            else None
        )
        if org is None or ds is None:
            raise RightsError(f"There is no dataset {organisation}/{dataset}", 404, "dataset")
        known = set(field_names(ds.standard))
        unknown = [f for f in fields if f not in known or f == "source_record_id"]
        if unknown:
            raise RightsError(
                f"{ds.standard} records have no field {', '.join(unknown)}", field="fields"
            )
        resident = _resident_of(settings, record_key)
        if resident is None:
            raise RightsError(
                f"The record {record_key} is not in the resident index", 404, "source_record_id"
            )
        row = RightsDispute(
            organisation_id=org.id,
            dataset=dataset,
            source_record_id=source_record_id,
            resident_id=resident,
            fields=fields,
            statement=statement,
            status=OPEN,
            recorded_by_id=actor.user_id,
        )
        session.add(row)
        session.flush()
        owners = _owners(session, org.id)
        for owner in owners:
            session.add(
                RightsNotification(
                    user_id=owner.id,
                    kind="dispute",
                    message=(
                        f"A resident disputes {', '.join(fields)} on record {record_key}. "
                        "Check the record at source and correct it, or answer the dispute."
                    )[:500],
                    link=f"/rights/disputes/{row.id}",
                    dispute_id=row.id,
                )
            )
        audit(
            session,
            actor,
            AuditAction.RIGHTS_DISPUTE,
            "dispute",
            str(row.id),
            records=[record_key],
            details={
                "fields": fields,
                "resident": resident,
                "notified": len(owners),
                "statement_length": len(statement),
            },
        )
        session.commit()
        return _info(row, org.code)


def _owners(session: Session, organisation_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User).where(
                User.organisation_id == organisation_id,
                User.role == Role.DATA_OWNER.value,
                User.is_active.is_(True),
            )
        )
    )


def _load(session: Session, dispute_id: int) -> tuple[RightsDispute, str]:
    row = session.get(RightsDispute, dispute_id)
    if row is None:
        raise RightsError(f"There is no dispute {dispute_id}", 404)
    return row, row.organisation.code


def check_can_see(actor: Actor, organisation_id: int) -> None:
    """DPOs see every dispute; a data owner sees the disputes of their organisation's data."""
    if actor.role == Role.DPO.value:
        return
    if actor.role == Role.DATA_OWNER.value and actor.organisation_id == organisation_id:
        return
    raise RightsError("Only the DPO and the source organisation's data owners see disputes", 403)


def get_dispute(settings: Settings, actor: Actor, dispute_id: int) -> DisputeInfo:
    with session_scope(settings) as session:
        row, code = _load(session, dispute_id)
        check_can_see(actor, row.organisation_id)
        info = _info(row, code)
        audit(
            session,
            actor,
            AuditAction.RIGHTS_DISPUTE_VIEW,
            "dispute",
            str(row.id),
            [info.record_key],
        )
        return info


def list_disputes(settings: Settings, actor: Actor) -> list[DisputeInfo]:
    """Disputes the person may see, newest first (names records by key only)."""
    if actor.role not in (Role.DPO.value, Role.DATA_OWNER.value):
        raise RightsError("Only the DPO and data owners see disputes", 403)
    with session_scope(settings) as session:
        query = select(RightsDispute).order_by(RightsDispute.id.desc())
        if actor.role == Role.DATA_OWNER.value:
            query = query.where(RightsDispute.organisation_id == actor.organisation_id)
        return [_info(r, r.organisation.code) for r in session.scalars(query)]


def resolve_dispute(
    settings: Settings, actor: Actor, dispute_id: int, resolution: str
) -> DisputeInfo:
    """Close a dispute with what was done (the record was corrected, or why not)."""
    resolution = resolution.strip()
    if not resolution:
        raise RightsError("Say what was done about the dispute", field="resolution")
    if len(resolution) > MAX_RESOLUTION:
        raise RightsError(
            f"The resolution must be {MAX_RESOLUTION} characters or fewer", field="resolution"
        )
    with session_scope(settings) as session:
        row, code = _load(session, dispute_id)
        check_can_see(actor, row.organisation_id)
        if row.status != OPEN:
            raise RightsError("The dispute is already resolved", 409)
        row.status = RESOLVED
        row.resolved_at = utcnow()
        row.resolved_by_id = actor.user_id
        row.resolution = resolution
        info = _info(row, code)
        audit(
            session,
            actor,
            AuditAction.RIGHTS_DISPUTE_RESOLVE,
            "dispute",
            str(row.id),
            [info.record_key],
        )
        session.commit()
        return info


def disputes_for(
    settings: Settings, record_keys: list[str], only_open: bool = True
) -> dict[str, list[DisputeInfo]]:
    """Disputes of these records, by record key (for marking records as disputed)."""
    wanted = set(record_keys)
    out: dict[str, list[DisputeInfo]] = {}
    if not wanted:
        return out
    with session_scope(settings) as session:
        query = select(RightsDispute, Organisation.code).join(
            Organisation, RightsDispute.organisation_id == Organisation.id
        )
        if only_open:
            query = query.where(RightsDispute.status == OPEN)
        for row, code in session.execute(query):
            info = _info(row, code)
            if info.record_key in wanted:
                out.setdefault(info.record_key, []).append(info)
    return out


def disputed_fields(settings: Settings) -> list[tuple[str, str, str, str]]:
    """(organisation, dataset, source record id, field) of every open dispute, for rules
    that exclude disputed fields."""
    out: list[tuple[str, str, str, str]] = []
    with session_scope(settings) as session:
        rows = session.execute(
            select(RightsDispute, Organisation.code)
            .join(Organisation, RightsDispute.organisation_id == Organisation.id)
            .where(RightsDispute.status == OPEN)
        ).all()
        for row, code in rows:
            out.extend((code, row.dataset, row.source_record_id, str(f)) for f in row.fields)
    return out


def disputed_in(settings: Settings, result: FindResult) -> set[str]:
    """The record keys of a find's residents and near misses that have an open dispute."""
    keys = [c.record.record_key for r in result.residents for c in r.records]
    keys += [c.record.record_key for c in result.near_misses]
    return set(disputes_for(settings, keys))
