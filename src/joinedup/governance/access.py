"""The gateway for reading personal data: policy decision, objections, audit — then data.

Nothing else in joinedup reads personal data out of a dataset version for a person to see.
Each call decides with :func:`joinedup.governance.policy.decide`, writes the decision (allow or
deny, reason, purpose, which records) to the audit log, and only then returns rows. Records of
residents who objected to the purpose are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Dataset, DatasetVersion, Organisation, User
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.objections import objectors
from joinedup.governance.policy import AccessRequest, Decision, decide
from joinedup.store import SnapshotStore, duckdb_session
from joinedup.store.sql import ident, lit

AUDITED_RECORD_IDS = 1000  # record ids listed per audit entry (the count is always exact)


class Caller(Protocol):
    """Who is asking, as every use case sees them: an :class:`Actor`, or the web's principal
    (which carries the same fields)."""

    @property
    def user_id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def organisation_id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def purpose(self) -> str | None: ...


@dataclass(frozen=True)
class Actor:
    """A signed-in user acting for their organisation under a chosen purpose."""

    user_id: int
    username: str
    organisation_id: int
    role: str
    purpose: str | None

    @classmethod
    def of(cls, user: User, purpose: str | None) -> Actor:
        """``user`` acting under ``purpose``."""
        return cls(user.id, user.username, user.organisation_id, user.role, purpose)


def audit_as(session: Session, actor: Actor, action: str, **event: Any) -> None:
    """Append an audit event by ``actor``: their user, organisation and purpose, and ``event``
    (decision, reason, target, records, details: as :func:`~joinedup.governance.audit.append_event`
    takes them)."""
    append_event(
        session,
        actor=actor.username,
        actor_user_id=actor.user_id,
        organisation_id=actor.organisation_id,
        action=action,
        purpose=actor.purpose,
        **event,
    )


class AccessDenied(JoinedupError, PermissionError):
    """The policy decision said no (403); ``decision.reason`` says why."""

    status = 403

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision

    @property
    def detail(self) -> str:
        return f"Access denied: {self.decision.reason}"


class NotFound(JoinedupError, LookupError):
    """No such organisation, dataset or version: 404."""

    status = 404


def _version(
    session: Session, organisation: str, dataset: str, version: int | None
) -> tuple[Organisation, Dataset, DatasetVersion]:
    org = session.scalars(select(Organisation).where(Organisation.code == organisation)).first()
    if org is None:
        raise NotFound(f"no organisation {organisation!r}")
    ds = session.scalars(
        select(Dataset).where(Dataset.organisation_id == org.id, Dataset.name == dataset)
    ).first()
    if ds is None:
        raise NotFound(f"no dataset {organisation}/{dataset}")
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id)
    if version is None:
        query = query.order_by(DatasetVersion.version.desc()).limit(1)
    else:
        query = query.where(DatasetVersion.version == version)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"no version {version} of {organisation}/{dataset}")
    return org, ds, row


def _audit_read(
    session: Session,
    actor: Actor,
    decision: Decision,
    target: str,
    records: list[str],
    details: dict[str, Any],
) -> None:
    audit_as(
        session,
        actor,
        AuditAction.PERSONAL_DATA_READ,
        decision=decision.label,
        reason=decision.reason,
        target_type="dataset_version",
        target_id=target,
        records=records,
        details=details,
    )


def read_records(
    settings: Settings,
    actor: Actor,
    *,
    organisation: str,
    dataset: str,
    fields: list[str],
    version: int | None = None,
    record_ids: list[str] | None = None,
    limit: int | None = None,
    today: date | None = None,
) -> pa.Table:
    """Read fields of a dataset version as ``actor``, if the policy allows it (audited)."""
    if actor.purpose is None:
        raise AccessDenied(Decision(False, "choose the purpose you are acting under first"))
    with session_scope(settings) as session:
        org, ds, row = _version(session, organisation, dataset, version)
        request = AccessRequest(
            user_id=actor.user_id,
            organisation_id=actor.organisation_id,
            purpose=actor.purpose,
            provider_id=org.id,
            dataset=ds.name,
            standard=ds.standard,
            fields=tuple(fields),
            today=today or date.today(),
        )
        decision = decide(session, request)
        target = f"{organisation}/{dataset}/{row.version}"
        if not decision.allow:
            _audit_read(session, actor, decision, target, [], {"fields": fields})
            session.commit()
            raise AccessDenied(decision)
        excluded = objectors(settings, session, actor.purpose)
        excluded_ids = [
            rid for (o, d, rid) in excluded.records if o == organisation and d == dataset
        ]
        sha = row.snapshot_sha256
        columns = ["source_record_id", *[f for f in fields if f != "source_record_id"]]
        source = SnapshotStore(settings).sql_source(sha)
        where = ["TRUE"]
        if excluded_ids:
            where.append(f"source_record_id NOT IN ({', '.join(lit(r) for r in excluded_ids)})")
        if record_ids is not None:
            where.append(f"source_record_id IN ({', '.join(lit(r) for r in record_ids) or 'NULL'})")
        sql = (
            f"SELECT {', '.join(ident(c) for c in columns)} FROM {source} "
            f"WHERE {' AND '.join(where)} ORDER BY _source_row"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with duckdb_session(settings) as con:
            table = con.sql(sql).to_arrow_table()
        ids = table.column("source_record_id").to_pylist()
        if "source_record_id" not in fields:
            table = table.drop(["source_record_id"])
        details = {"fields": fields, "rows": len(ids), "agreement": decision.agreement_reference}
        records = [str(i) for i in ids[:AUDITED_RECORD_IDS]]
        _audit_read(session, actor, decision, target, records, details)
    return table
