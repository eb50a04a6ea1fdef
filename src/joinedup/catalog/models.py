"""SQLAlchemy 2 models of the control plane.

Every schema change goes through an Alembic migration in ``catalog/migrations/versions``; the
test suite checks that the models and the migrations agree.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from joinedup.catalog.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class OrganisationType(enum.StrEnum):
    COUNCIL = "council"
    VOLUNTARY = "voluntary"
    HUB = "hub"
    HEALTH = "health"
    OTHER = "other"


class Role(enum.StrEnum):
    HUB_ADMIN = "hub_admin"
    DATA_OWNER = "data_owner"
    ANALYST = "analyst"
    CASEWORKER = "caseworker"
    DPO = "dpo"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED}


class Organisation(Base):
    """A council, partner or the hub itself. Councils carry their ONS GSS code."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20), default=OrganisationType.COUNCIL.value)
    gss_code: Mapped[str | None] = mapped_column(String(9), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    datasets: Mapped[list[Dataset]] = relationship(back_populates="organisation")


class User(Base):
    """A person who signs in. ``password_hash`` is an argon2 hash, never the password."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="users")


class Snapshot(Base):
    """An immutable, content-addressed Parquet file in the data plane."""

    __tablename__ = "snapshot"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), unique=True)
    row_count: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    schema_json: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dataset(Base):
    """A named stream of versions from one organisation, mapped to one open standard."""

    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    standard: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="datasets")
    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.version"
    )


class DatasetVersion(Base):
    """One accepted upload of a dataset: points at its snapshot and its source file."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"), index=True)
    quarantine_sha256: Mapped[str | None] = mapped_column(ForeignKey("snapshot.sha256"))
    accepted_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    mapping_name: Mapped[str] = mapped_column(String(255), default="")
    source_filename: Mapped[str] = mapped_column(String(255), default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    period: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    dataset: Mapped[Dataset] = relationship(back_populates="versions")
    snapshot: Mapped[Snapshot] = relationship(foreign_keys=[snapshot_sha256])
    quarantine: Mapped[Snapshot | None] = relationship(foreign_keys=[quarantine_sha256])


class IngestLayout(Base):
    """A mapping a data owner accepted for one layout of an organisation's dataset.

    ``fingerprint`` is the sha256 of the layout's normalised header list, so the next file with
    the same layout needs no mapping; the latest row is where a drifted layout starts from.
    """

    __tablename__ = "ingest_layout"
    __table_args__ = (UniqueConstraint("organisation_id", "dataset", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(120))
    standard: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    columns: Mapped[list[Any]] = mapped_column(JSON)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    accepted_by: Mapped[str] = mapped_column(String(120))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A unit of long work (ingest, linkage, insight...) with status and progress."""

    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(500), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    worker: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()


class AuditEvent(Base):
    """An append-only, hash-chained record of a read or write of personal data or governance."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(500))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(120))
    records: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AgreementStatus(enum.StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class PartyRole(enum.StrEnum):
    PROVIDER = "provider"
    RECIPIENT = "recipient"


class Purpose(Base):
    """A registered processing purpose with its lawful basis."""

    __tablename__ = "purpose"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lawful_basis: Mapped[str] = mapped_column(String(200))
    special_category_condition: Mapped[str | None] = mapped_column(String(300))
    objection_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurposeGrant(Base):
    """Who may act under a purpose: a role, in one organisation (``organisation_id``) or in
    every organisation (None). Nobody acts under a purpose no grant names
    (:mod:`joinedup.governance.grants`); a revoked grant is deleted (the audit log keeps it)."""

    __tablename__ = "purpose_grant"
    __table_args__ = (UniqueConstraint("purpose_id", "role", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose_id: Mapped[int] = mapped_column(ForeignKey("purpose.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    granted_by: Mapped[str] = mapped_column(String(120))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    purpose: Mapped[Purpose] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class Agreement(Base):
    """A data-sharing agreement: parties, data, purposes, basis, DPIA, dates, retention."""

    __tablename__ = "sharing_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=AgreementStatus.DRAFT.value)
    lawful_basis: Mapped[str] = mapped_column(String(200))
    special_category_condition: Mapped[str | None] = mapped_column(String(300))
    dpia_reference: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date)
    retention: Mapped[str] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan"
    )
    data: Mapped[list[AgreementData]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan"
    )
    purposes: Mapped[list[Purpose]] = relationship(secondary="agreement_purpose")
    approvals: Mapped[list[AgreementApproval]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan"
    )
    events: Mapped[list[AgreementEvent]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan", order_by="AgreementEvent.id"
    )


class AgreementParty(Base):
    __tablename__ = "agreement_party"
    __table_args__ = (UniqueConstraint("agreement_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    #: When the party withdrew from the agreement (it then neither provides nor receives);
    #: the agreement goes on for the others (joinedup.governance.agreements.leave).
    withdrawn_at: Mapped[datetime | None] = mapped_column()

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()


class AgreementPurpose(Base):
    __tablename__ = "agreement_purpose"

    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id"), primary_key=True)
    purpose_id: Mapped[int] = mapped_column(ForeignKey("purpose.id"), primary_key=True)


class AgreementData(Base):
    """Which provider's data an agreement covers: a dataset (or every dataset of a standard)
    and the fields shared (``["*"]`` for all)."""

    __tablename__ = "agreement_data"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    dataset: Mapped[str | None] = mapped_column(String(120))
    standard: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)

    agreement: Mapped[Agreement] = relationship(back_populates="data")
    provider: Mapped[Organisation] = relationship()


class AgreementApproval(Base):
    __tablename__ = "agreement_approval"
    __table_args__ = (UniqueConstraint("agreement_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="approvals")


class AgreementEvent(Base):
    """Every lifecycle transition of an agreement."""

    __tablename__ = "agreement_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="events")


class ApiToken(Base):
    """An API token: shown once, stored as a sha256 hash, with scopes."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Sign-in attempts, for throttling (no passwords, ever)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), index=True)
    remote: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Objection(Base):
    """A resident's objection to processing, per purpose (``purpose_id`` None: every purpose
    that allows objection, like the national data opt-out). The resident is named by their
    ``resident_id`` or by one source record (organisation, dataset, source record id)."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[str | None] = mapped_column(String(64), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    dataset: Mapped[str | None] = mapped_column(String(120))
    source_record_id: Mapped[str | None] = mapped_column(String(120))
    purpose_id: Mapped[int | None] = mapped_column(ForeignKey("purpose.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    purpose: Mapped[Purpose | None] = relationship()


class UserSession(Base):
    """A signed-in browser session. The cookie holds a random session id; only its sha256 is
    stored, so the table cannot be used to sign in. Sign-out sets ``revoked_at``; the web app
    also refuses a session idle or older than its limits (``joinedup.web.auth``)."""

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    purpose: Mapped[str | None] = mapped_column(String(64))
    remote: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class LinkageRun(Base):
    """One build of the resident index: the model used, the dataset versions linked, and the
    snapshots holding the index (record -> resident and household) and the scored pairs."""

    __tablename__ = "linkage_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version: Mapped[int] = mapped_column(Integer)
    model_path: Mapped[str] = mapped_column(String(255))
    job_id: Mapped[str | None] = mapped_column(String(36))
    threshold: Mapped[float] = mapped_column(Float)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    residents: Mapped[int] = mapped_column(BigInteger, default=0)
    households: Mapped[int] = mapped_column(BigInteger, default=0)
    pairs: Mapped[int] = mapped_column(BigInteger, default=0)
    index_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    pairs_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    inputs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: ``full`` (trained and clustered from scratch) or ``incremental`` (new and changed
    #: records scored against the parent run's index with the parent's model)
    kind: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_run.id"))
    #: the prepared linkage records (what the next incremental run scores against)
    records_sha256: Mapped[str | None] = mapped_column(ForeignKey("snapshot.sha256"))
    #: NULL when ``pairs_sha256`` and ``records_sha256`` hold the whole run. Otherwise they
    #: hold only what the run added, on top of its parent's, and this snapshot lists the
    #: record keys whose parent rows no longer hold (``record_key``, ``pairs``: true when the
    #: parent's pairs of that record go too): see :mod:`joinedup.linkage.chain`
    tombstones_sha256: Mapped[str | None] = mapped_column(ForeignKey("snapshot.sha256"))


class LinkageIdEvent(Base):
    """How a run moved resident ids: a ``merge`` (residents joined; ``related`` are the ids
    retired into ``resident_id``), a ``split`` (``resident_id`` kept by its largest part,
    ``related`` the new ids of the others) or a ``retire`` (all its records left the index),
    with the pair evidence that decided it."""

    __tablename__ = "linkage_id_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_run.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    resident_id: Mapped[str] = mapped_column(String(32), index=True)
    related: Mapped[list[Any]] = mapped_column(JSON, default=list)
    records: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewDecision(enum.StrEnum):
    MATCH = "match"
    NON_MATCH = "non_match"


class LinkageReviewDecision(Base):
    """A reviewer's decision on a pair of linkage records (``record_key_l < record_key_r``):
    the same person (``match``) or not (``non_match``). Rows are never changed: the latest
    decision on a pair wins, and the earlier ones are its history. Every later build treats a
    match as a forced link and a non-match as a forced cannot-link."""

    __tablename__ = "linkage_review_decision"
    __table_args__ = (Index("ix_linkage_review_decision_pair", "record_key_l", "record_key_r"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_key_l: Mapped[str] = mapped_column(String(512))
    record_key_r: Mapped[str] = mapped_column(String(512))
    decision: Mapped[str] = mapped_column(String(20))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_run.id"))
    match_probability: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FlagOutcome(enum.StrEnum):
    """What a caseworker did about a flag."""

    CONTACTED = "contacted"
    ENROLLED = "enrolled"
    DECLINED = "declined"
    NO_ACTION_NEEDED = "no_action_needed"
    WRONG_MATCH = "wrong_match"


class InsightRun(Base):
    """One evaluation of the indicator rules over a resident index: the flags snapshot and,
    per rule, its version, purpose and the flags it raised per organisation."""

    __tablename__ = "insight_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(String(36))
    linkage_run_id: Mapped[int] = mapped_column(ForeignKey("linkage_run.id"), index=True)
    flags_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    run_date: Mapped[date] = mapped_column(Date)
    flags: Mapped[int] = mapped_column(BigInteger, default=0)
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FlagAction(Base):
    """A caseworker's action and outcome on one flag, with the flag's data fingerprint at the
    time: the flag stays quiet until a later run gives it a different fingerprint."""

    __tablename__ = "flag_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[str] = mapped_column(String(40), index=True)
    rule_id: Mapped[str] = mapped_column(String(80))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    insight_run_id: Mapped[int | None] = mapped_column(ForeignKey("insight_run.id"))
    outcome: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(64))
    record_keys: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    user: Mapped[User] = relationship()


class ReleaseStatus(enum.StrEnum):
    """Where a publication's release stands: only approved releases are public."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Publication(Base):
    """An analyst's definition of an open dataset (an aggregate of indicator flags, or a
    non-personal dataset such as spend). ``definition`` is the validated document; each
    release copies it, so a release never changes when the definition does."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PublicationRelease(Base):
    """One immutable, versioned release of a publication: the published table (a snapshot,
    after disclosure control), its data package descriptor and the disclosure report. A DPO
    approves or rejects it; only approved releases are public."""

    __tablename__ = "publication_release"
    __table_args__ = (UniqueConstraint("publication_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=ReleaseStatus.PENDING.value)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    table_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    csv_sha256: Mapped[str] = mapped_column(String(64))
    csv_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    descriptor: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    disclosure: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(36))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")

    publication: Mapped[Publication] = relationship()


class RightsDispute(Base):
    """A resident's dispute of a source record (rectification): which fields, and what the
    resident says. While ``status`` is ``open`` the record shows as disputed wherever it
    appears, and rules with ``exclude_disputed`` do not read the disputed fields."""

    __tablename__ = "rights_dispute"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    dataset: Mapped[str] = mapped_column(String(120))
    source_record_id: Mapped[str] = mapped_column(String(120))
    resident_id: Mapped[str | None] = mapped_column(String(64), index=True)
    fields: Mapped[list[Any]] = mapped_column(JSON, default=list)
    statement: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    resolution: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])


class RightsNotification(Base):
    """An in-app notice to one user (a data owner told of a dispute of their data). The
    message names records by id only, never personal values."""

    __tablename__ = "rights_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(255), default="")
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("rights_dispute.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column()


class RightsExport(Base):
    """A released subject access export: for whom, by whom, what was redacted, and the
    snapshot holding the released document (JSON), which every format is rendered from."""

    __tablename__ = "rights_export"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[str] = mapped_column(String(64), index=True)
    released_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    snapshot_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    redactions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    released_by: Mapped[User] = relationship()


class AreaBoundary(Base):
    """One loaded set of area boundaries (ONS or generated GeoJSON) for one level: the
    features are a data-plane snapshot (code, name, geometry as GeoJSON text); the latest
    load of a level is the one drawn."""

    __tablename__ = "area_boundary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(8), index=True)  # lsoa | ward | lad
    snapshot_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    features: Mapped[int] = mapped_column(Integer, default=0)
    source_filename: Mapped[str] = mapped_column(String(255))
    source_sha256: Mapped[str] = mapped_column(String(64))
    code_property: Mapped[str] = mapped_column(String(32))
    name_property: Mapped[str | None] = mapped_column(String(32))
    loaded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InsightAreaRun(Base):
    """One aggregation of the indicator rules by area and month (``insight.areas`` job): the
    trends snapshot (counts per rule, level, area, month) and the fairness snapshot (flag
    rates per rule and group), computed through the governed path from an insight run's
    rules over the resident index."""

    __tablename__ = "insight_area_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(String(36))
    linkage_run_id: Mapped[int] = mapped_column(ForeignKey("linkage_run.id"), index=True)
    trends_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    fairness_sha256: Mapped[str] = mapped_column(ForeignKey("snapshot.sha256"))
    first_month: Mapped[str] = mapped_column(String(7))
    last_month: Mapped[str] = mapped_column(String(7))
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InsightIntervention(Base):
    """An analyst's definition of an intervention whose impact is estimated: the area it
    covers, the month it started, the indicator whose series is the outcome and the outcome
    measure; comparison areas are the other areas of ``level`` unless listed."""

    __tablename__ = "insight_intervention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    area_code: Mapped[str] = mapped_column(String(12))
    start_month: Mapped[str] = mapped_column(String(7))
    rule_id: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(16))  # flags | rate
    level: Mapped[str] = mapped_column(String(8))  # the areas compared: lsoa | ward | lad
    comparison: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# The ODI toolkit's tables (ethics records, business cases) live in their own module.
from joinedup.catalog import models_toolkit as _toolkit  # noqa: E402, F401
