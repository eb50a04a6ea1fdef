"""Residents' objections to processing, per purpose, and their effect on what is processed.

An objection names the resident by resident id or by one of their source records. It applies to
one purpose, or (``purpose`` None) to every purpose that allows objection. Purposes that do not
allow objection (safeguarding, fraud, legal obligations) are not affected: recording such an
objection is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from joinedup.catalog.models import LinkageRun, Objection, Organisation, Purpose, User
from joinedup.catalog.types import utcnow
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_by
from joinedup.governance.audit_actions import AuditAction
from joinedup.store import SnapshotStore, duckdb_session


class ObjectionError(JoinedupError, ValueError):
    """An objection that cannot be recorded as asked (422, with the ``field`` at fault), or
    withdrawn in its current state (409)."""

    capitalised = True


@dataclass(frozen=True)
class ObjectionSubject:
    resident_id: str | None = None
    organisation: str | None = None
    dataset: str | None = None
    source_record_id: str | None = None

    def describe(self) -> str:
        if self.resident_id:
            return f"resident {self.resident_id}"
        return f"record {self.organisation}/{self.dataset}/{self.source_record_id}"


def record_objection(
    session: Session, subject: ObjectionSubject, purpose: str | None, user: User, note: str = ""
) -> Objection:
    """Record an objection (audited in the same transaction)."""
    by_record = subject.organisation and subject.dataset and subject.source_record_id
    if not subject.resident_id and not by_record:
        raise ObjectionError(
            "name the resident by resident id or by one source record", field="resident_id"
        )
    purpose_row = None
    if purpose is not None:
        purpose_row = session.scalars(select(Purpose).where(Purpose.code == purpose)).first()
        if purpose_row is None:
            raise ObjectionError(f"no registered purpose {purpose!r}", field="purpose")
        if not purpose_row.objection_allowed:
            raise ObjectionError(
                f"residents cannot object to {purpose_row.name}: "
                "its lawful basis does not allow it",
                field="purpose",
            )
    org_id = None
    if subject.organisation:
        org = session.scalars(
            select(Organisation).where(Organisation.code == subject.organisation)
        ).first()
        if org is None:
            raise ObjectionError(f"no organisation {subject.organisation!r}", field="organisation")
        org_id = org.id
    objection = Objection(
        resident_id=subject.resident_id,
        organisation_id=org_id,
        dataset=subject.dataset,
        source_record_id=subject.source_record_id,
        purpose_id=purpose_row.id if purpose_row else None,
        note=note[:500],
        recorded_by_id=user.id,
    )
    session.add(objection)
    session.flush()
    append_by(
        session,
        user,
        AuditAction.OBJECTION_RECORD,
        purpose=purpose,
        target_type="objection",
        target_id=str(objection.id),
        records=[subject.describe()],
    )
    return objection


def withdraw_objection(session: Session, objection: Objection, user: User) -> None:
    if objection.withdrawn_at is not None:
        raise ObjectionError("the objection is already withdrawn", status=409)
    objection.withdrawn_at = utcnow()
    objection.withdrawn_by_id = user.id
    append_by(
        session,
        user,
        AuditAction.OBJECTION_WITHDRAW,
        target_type="objection",
        target_id=str(objection.id),
    )


@dataclass(frozen=True)
class Exclusions:
    """Who is excluded from processing for one purpose."""

    purpose: str
    resident_ids: frozenset[str]
    records: frozenset[tuple[str, str, str]]  # (organisation code, dataset, source record id)

    def excludes_record(self, organisation: str, dataset: str, source_record_id: str) -> bool:
        return (organisation, dataset, source_record_id) in self.records


def exclusions_for(session: Session, purpose: str) -> Exclusions:
    """Live objections that apply to ``purpose`` (none if the purpose allows no objection)."""
    # one statement: the purpose (a row even with no objection) with each live objection
    # that applies to it, if it allows objection
    applies = and_(
        Purpose.objection_allowed.is_(True),
        Objection.withdrawn_at.is_(None),
        or_(Objection.purpose_id.is_(None), Objection.purpose_id == Purpose.id),
    )
    found = session.execute(
        select(Purpose.id, Objection, Organisation.code)
        .select_from(Purpose)
        .outerjoin(Objection, applies)
        .outerjoin(Organisation, Objection.organisation_id == Organisation.id)
        .where(Purpose.code == purpose)
    ).all()
    if not found:
        raise ObjectionError(f"no registered purpose {purpose!r}", field="purpose")
    rows = [(o, code) for _, o, code in found if o is not None]
    residents = frozenset(o.resident_id for o, _ in rows if o.resident_id)
    records = frozenset(
        (code, o.dataset, o.source_record_id)
        for o, code in rows
        if code and o.dataset and o.source_record_id
    )
    return Exclusions(purpose, residents, records)


def objecting_residents(settings: Settings, session: Session, purpose: str) -> frozenset[str]:
    """The residents excluded from ``purpose``: :func:`objectors`' residents, without looking
    up all their records (what a flag, which names its resident, needs)."""
    named = exclusions_for(session, purpose)
    if not named.records:
        return named.resident_ids
    return named.resident_ids | _record_residents(settings, session, named.records)


def resident_records(
    settings: Settings, session: Session, resident_ids: frozenset[str]
) -> set[tuple[str, str, str]]:
    """The records (organisation, dataset, source record id) of ``resident_ids`` in the
    latest resident index (none before the first linkage run)."""
    run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc()).limit(1)).first()
    if run is None or not resident_ids:
        return set()
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    with duckdb_session(settings) as con:
        con.register("__objectors", pa.table({"id": pa.array(sorted(resident_ids))}))
        rows = con.execute(
            f"SELECT organisation, dataset, source_record_id FROM {source} "
            "WHERE resident_id IN (SELECT id FROM __objectors)"
        ).fetchall()
    return {(str(o), str(d), str(r)) for o, d, r in rows}


def _record_residents(
    settings: Settings, session: Session, records: frozenset[tuple[str, str, str]]
) -> set[str]:
    """The residents the latest index gives ``records`` (each an objection's named record)."""
    run = session.scalars(select(LinkageRun).order_by(LinkageRun.id.desc()).limit(1)).first()
    if run is None or not records:
        return set()
    source = SnapshotStore(settings).sql_source(run.index_sha256)
    named = sorted(records)
    table = pa.table(
        {
            "organisation": pa.array([o for o, _, _ in named]),
            "dataset": pa.array([d for _, d, _ in named]),
            "source_record_id": pa.array([r for _, _, r in named]),
        }
    )
    with duckdb_session(settings) as con:
        con.register("__objected", table)
        rows = con.execute(
            f"SELECT DISTINCT i.resident_id FROM {source} i JOIN __objected o "
            "ON i.organisation = o.organisation AND i.dataset = o.dataset "
            "AND i.source_record_id = o.source_record_id"
        ).fetchall()
    return {str(r[0]) for r in rows}


def objectors(settings: Settings, session: Session, purpose: str) -> Exclusions:
    """Everyone excluded from ``purpose``, whichever way their objection names them.

    An objection names a resident, by resident id or by one of their records; either way it
    covers the resident and every record of theirs. With the latest resident index, a record
    named resolves to its resident and a resident to all their records, so both kinds of
    objection leave out the same records and the same flags."""
    named = exclusions_for(session, purpose)
    if not named.resident_ids and not named.records:
        return named
    residents = set(named.resident_ids) | _record_residents(settings, session, named.records)
    records = set(named.records) | resident_records(settings, session, frozenset(residents))
    return Exclusions(purpose, frozenset(residents), frozenset(records))
