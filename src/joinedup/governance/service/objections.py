"""Residents' objections (DPOs): the regional register, record and withdraw."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Objection,
    Organisation,
    OrganisationType,
    Purpose,
    Role,
    User,
)
from joinedup.config import Settings
from joinedup.errors import Refused
from joinedup.governance.objections import ObjectionSubject, record_objection, withdraw_objection
from joinedup.governance.service.common import (
    MAX_NOTE,
    Caller,
    current_user,
    org_codes,
    usernames,
)


class ObjectionIn(BaseModel):
    resident_id: str | None = Field(None, max_length=64)
    organisation: str | None = Field(None, max_length=64)
    dataset: str | None = Field(None, max_length=120)
    source_record_id: str | None = Field(None, max_length=120)
    purpose: str | None = Field(
        None, description="A purpose's code, or none for every purpose that allows objection"
    )
    note: str = Field("", max_length=MAX_NOTE)


class ObjectionOut(BaseModel):
    id: int
    subject: str
    resident_id: str | None
    organisation: str | None
    dataset: str | None
    source_record_id: str | None
    purpose: str | None = Field(description="None: every purpose that allows objection")
    purpose_name: str
    note: str
    recorded_by: str | None
    recorded_at: datetime
    withdrawn: bool
    withdrawn_by: str | None
    withdrawn_at: datetime | None


def _objection_out(
    o: Objection, orgs: dict[int, str], names: dict[int, str], purposes: dict[int, Purpose]
) -> ObjectionOut:
    org = orgs.get(o.organisation_id) if o.organisation_id else None
    subject = ObjectionSubject(o.resident_id, org, o.dataset, o.source_record_id).describe()
    purpose = purposes.get(o.purpose_id) if o.purpose_id else None
    return ObjectionOut(
        id=o.id,
        subject=subject,
        resident_id=o.resident_id,
        organisation=org,
        dataset=o.dataset,
        source_record_id=o.source_record_id,
        purpose=purpose.code if purpose else None,
        purpose_name=purpose.name if purpose else "Every purpose that allows objection",
        note=o.note,
        recorded_by=names.get(o.recorded_by_id) if o.recorded_by_id else None,
        recorded_at=o.recorded_at,
        withdrawn=o.withdrawn_at is not None,
        withdrawn_by=names.get(o.withdrawn_by_id) if o.withdrawn_by_id else None,
        withdrawn_at=o.withdrawn_at,
    )


def _require_objections_role(principal: Caller) -> None:
    if principal.role != Role.DPO:
        raise Refused(403, "Only data protection officers record and read objections")


def list_objections(settings: Settings, principal: Caller) -> list[ObjectionOut]:
    """Every objection in the region, newest first (a regional register: each one applies
    wherever the resident's records are processed)."""
    _require_objections_role(principal)
    with session_scope(settings) as session:
        current_user(session, principal)
        rows = session.scalars(select(Objection).order_by(Objection.id.desc())).all()
        names = usernames(
            session, {o.recorded_by_id for o in rows} | {o.withdrawn_by_id for o in rows}
        )
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        orgs = org_codes(session)
        return [_objection_out(o, orgs, names, purposes) for o in rows]


def add_objection(
    settings: Settings,
    principal: Caller,
    subject: ObjectionSubject,
    purpose: str | None,
    note: str,
) -> ObjectionOut:
    _require_objections_role(principal)
    if len(note) > MAX_NOTE:
        raise Refused(422, f"The note must be {MAX_NOTE} characters or fewer", "note")
    with session_scope(settings) as session:
        user = current_user(session, principal)
        objection = record_objection(session, subject, purpose, user, note)
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        return _objection_out(objection, org_codes(session), {user.id: user.username}, purposes)


def get_objection(settings: Settings, principal: Caller, objection_id: int) -> ObjectionOut:
    _require_objections_role(principal)
    with session_scope(settings) as session:
        current_user(session, principal)
        found = session.get(Objection, objection_id)
        if found is None:
            raise Refused(404, f"No objection {objection_id}")
        names = usernames(session, {found.recorded_by_id, found.withdrawn_by_id})
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        return _objection_out(found, org_codes(session), names, purposes)


def end_objection(settings: Settings, principal: Caller, objection_id: int) -> ObjectionOut:
    """Withdraw an objection: a DPO of the organisation that recorded it, or of the hub."""
    _require_objections_role(principal)
    with session_scope(settings) as session:
        user = current_user(session, principal)
        found = session.get(Objection, objection_id)
        if found is None:
            raise Refused(404, f"No objection {objection_id}")
        recorder = session.get(User, found.recorded_by_id) if found.recorded_by_id else None
        org = session.get(Organisation, user.organisation_id)
        is_hub = org is not None and org.type == OrganisationType.HUB
        if not is_hub and (recorder is None or recorder.organisation_id != user.organisation_id):
            raise Refused(
                403, "Only a DPO of the organisation that recorded it, or of the hub, withdraws it"
            )
        withdraw_objection(session, found, user)
        session.flush()
        names = usernames(session, {found.recorded_by_id, found.withdrawn_by_id})
        purposes = {p.id: p for p in session.scalars(select(Purpose))}
        return _objection_out(found, org_codes(session), names, purposes)
