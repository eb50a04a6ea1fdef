"""Publications and their releases: define, release (a job), approve or reject, and what the
public may see.

* An **analyst** defines a publication (:func:`save_definition`; a new definition of an
  existing name replaces it, and later releases use it). Audited ``publication.define``.
* A **release** (:func:`create_release`, job ``publish.release``) builds the table, applies
  disclosure control, writes the table as an immutable snapshot and records the CSV's sha256,
  its data package descriptor and the disclosure report, as version *n + 1*, pending.
  Audited ``publication.release``.
* A **DPO** approves or rejects a pending release (:func:`decide`), never their own.
  Audited ``publication.approve`` / ``publication.reject``. Only approved releases are public;
  the latest approved one is the dataset's current version.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import (
    Publication,
    PublicationRelease,
    ReleaseStatus,
    Role,
    User,
)
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_event
from joinedup.governance.audit_actions import AuditAction
from joinedup.governance.processing import ServiceActor
from joinedup.publish.build import build_aggregate, build_dataset
from joinedup.publish.definitions import (
    DEFAULT_THEMES,
    FREQUENCIES,
    IndicatorAggregate,
    PublicationError,
    known_rule_ids,
    parse_definition,
)
from joinedup.publish.formats import csv_digest, data_package, render_csv
from joinedup.publish.inputs import PURPOSE, hub_code
from joinedup.store import SnapshotStore

Progress = Callable[[float, str], None]
DEFINE_ROLES = frozenset({Role.ANALYST.value})
DECIDE_ROLES = frozenset({Role.DPO.value})
MAX_NOTE = 500


class PublishRefused(JoinedupError, PermissionError):
    """The person may not do this (the message says why)."""

    status = 403


class NotFoundError(JoinedupError, LookupError):
    """No such publication or release."""

    status = 404


@dataclass
class ReleaseView:
    """A release as pages and APIs show it."""

    publication: str
    title: str
    description: str
    kind: str
    frequency: str
    keywords: list[str]
    version: int
    status: str
    row_count: int
    csv_bytes: int
    csv_sha256: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    created_by: str | None
    decision_note: str
    descriptor: dict[str, Any]
    disclosure: dict[str, Any] | None
    sources: dict[str, Any]
    table_sha256: str
    versions: list[int] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)

    @property
    def fields(self) -> list[dict[str, Any]]:
        fields: list[dict[str, Any]] = self.descriptor["resources"][0]["schema"]["fields"]
        return fields

    @property
    def frequency_uri(self) -> str:
        return FREQUENCIES[self.frequency]

    @property
    def last_updated(self) -> datetime:
        return self.decided_at or self.created_at


def _user(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


def _require_role(user: User | None, roles: frozenset[str], doing: str) -> User:
    if user is None or not user.is_active:
        raise PublishRefused(f"only an active user may {doing}")
    if user.role not in roles:
        raise PublishRefused(f"the role {user.role} may not {doing}")
    return user


def save_definition(settings: Settings, document: Any, user_id: int | None) -> Publication:
    """Validate and store a publication definition (new, or replacing one of that name)."""
    definition = parse_definition(document, "definition")  # the shape first: no rules needed
    if isinstance(definition, IndicatorAggregate):
        definition = parse_definition(document, "definition", known_rule_ids())
    with session_scope(settings) as session:
        user = _user(session, user_id)
        if user_id is not None:
            _require_role(user, DEFINE_ROLES, "define publications")
        pub = session.scalars(
            select(Publication).where(Publication.name == definition.name)
        ).first()
        stored = definition.model_dump(mode="json")
        created = pub is None
        if pub is None:
            pub = Publication(name=definition.name, created_by_id=user_id)
            session.add(pub)
        pub.title = definition.title
        pub.kind = definition.kind
        pub.definition = stored
        pub.updated_at = datetime.now(UTC)
        session.flush()
        append_event(
            session,
            actor=user.username if user else "system",
            organisation_id=user.organisation_id if user else None,
            action=AuditAction.PUBLICATION_DEFINE,
            target_type="publication",
            target_id=definition.name,
            details={"kind": definition.kind, "new": created},
        )
        session.commit()
        session.refresh(pub)
        session.expunge(pub)
        return pub


def _publication(session: Session, name: str) -> Publication:
    pub = session.scalars(select(Publication).where(Publication.name == name)).first()
    if pub is None:
        raise NotFoundError(f"no publication {name!r}")
    return pub


def create_release(
    settings: Settings,
    name: str,
    user_id: int | None = None,
    job_id: str | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Build, protect and store the next version of a publication, pending approval."""
    report = progress or (lambda f, m: None)
    with session_scope(settings) as session:
        if user_id is not None:
            _require_role(_user(session, user_id), DEFINE_ROLES, "release publications")
        pub = _publication(session, name)
        document = dict(pub.definition)
    definition = parse_definition(document, name, known_rule_ids())
    actor = ServiceActor(hub_code(settings), PURPOSE, name=f"publish:{name}", job_id=job_id)
    if isinstance(definition, IndicatorAggregate):
        built = build_aggregate(settings, definition, actor, report, today=today)
    else:
        built = build_dataset(settings, definition, actor, report)
    report(0.8, "Writing the release")
    csv_bytes = render_csv(built.table, built.fields)
    sha = csv_digest(csv_bytes)
    store = SnapshotStore(settings)
    now = datetime.now(UTC)
    with session_scope(settings) as session, store.writer(session) as writer:
        pub = _publication(session, name)
        snapshot = writer.write_table(built.table)
        latest = session.scalar(
            select(func.max(PublicationRelease.version)).where(
                PublicationRelease.publication_id == pub.id
            )
        )
        version = int(latest or 0) + 1
        descriptor = data_package(
            name=name,
            title=definition.title,
            description=definition.description,
            version=version,
            keywords=list(definition.keywords),
            fields=built.fields,
            primary_key=built.primary_key,
            csv_sha256=sha,
            csv_bytes=len(csv_bytes),
            created=now,
            disclosure=built.disclosure,
        )
        release = PublicationRelease(
            publication_id=pub.id,
            version=version,
            status=ReleaseStatus.PENDING.value,
            definition=document,
            table_sha256=snapshot.sha256,
            csv_sha256=sha,
            csv_bytes=len(csv_bytes),
            row_count=built.table.num_rows,
            descriptor=descriptor,
            disclosure=built.disclosure or {},
            sources=built.sources,
            job_id=job_id,
            created_by_id=user_id,
            created_at=now,
        )
        session.add(release)
        session.flush()
        user = _user(session, user_id)
        append_event(
            session,
            actor=user.username if user else actor.label,
            organisation_id=user.organisation_id if user else None,
            action=AuditAction.PUBLICATION_RELEASE,
            target_type="publication_release",
            target_id=f"{name}/{version}",
            details={
                "rows": built.table.num_rows,
                "csv_sha256": sha,
                "disclosure_passed": (built.disclosure or {}).get("passed"),
                "job": job_id,
            },
        )
        session.commit()
    report(1.0, f"Release {version} of {name} is waiting for a DPO")
    return {
        "publication": name,
        "version": version,
        "rows": built.table.num_rows,
        "status": ReleaseStatus.PENDING.value,
        "disclosure": built.disclosure,
    }


def decide(
    settings: Settings, name: str, version: int, user_id: int, approve: bool, note: str = ""
) -> ReleaseView:
    """A DPO approves (public from now on) or rejects a pending release."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise PublicationError(f"at most {MAX_NOTE} characters", field="note")
    with session_scope(settings) as session:
        user = _require_role(_user(session, user_id), DECIDE_ROLES, "approve releases")
        release = _release(session, name, version)
        if release.status != ReleaseStatus.PENDING.value:
            raise PublicationError(
                f"release {version} of {name} is already {release.status}", status=409
            )
        if release.created_by_id == user.id:
            raise PublishRefused("a DPO may not approve a release they made")
        if not approve and not note:
            raise PublicationError("say why the release is rejected", field="note")
        release.status = (ReleaseStatus.APPROVED if approve else ReleaseStatus.REJECTED).value
        release.decided_by_id = user.id
        release.decided_at = datetime.now(UTC)
        release.decision_note = note
        append_event(
            session,
            actor=user.username,
            organisation_id=user.organisation_id,
            action=AuditAction.PUBLICATION_APPROVE if approve else AuditAction.PUBLICATION_REJECT,
            target_type="publication_release",
            target_id=f"{name}/{version}",
            details={"csv_sha256": release.csv_sha256},
        )
        session.commit()
    return get_release(settings, name, version)


def _release(session: Session, name: str, version: int) -> PublicationRelease:
    pub = _publication(session, name)
    release = session.scalars(
        select(PublicationRelease).where(
            PublicationRelease.publication_id == pub.id, PublicationRelease.version == version
        )
    ).first()
    if release is None:
        raise NotFoundError(f"no release {version} of {name!r}")
    return release


def _view(session: Session, release: PublicationRelease, public: bool) -> ReleaseView:
    pub = release.publication
    definition = release.definition
    query = select(PublicationRelease.version).where(PublicationRelease.publication_id == pub.id)
    if public:
        query = query.where(PublicationRelease.status == ReleaseStatus.APPROVED.value)
    decided = _user(session, release.decided_by_id)
    creator = _user(session, release.created_by_id)
    return ReleaseView(
        publication=pub.name,
        title=definition["title"],
        description=definition["description"],
        kind=definition["kind"],
        frequency=definition.get("frequency", "monthly"),
        keywords=list(definition.get("keywords", [])),
        version=release.version,
        status=release.status,
        row_count=release.row_count,
        csv_bytes=release.csv_bytes,
        csv_sha256=release.csv_sha256,
        created_at=release.created_at,
        decided_at=release.decided_at,
        decided_by=None if public else (decided.username if decided else None),
        created_by=None if public else (creator.username if creator else None),
        decision_note="" if public else release.decision_note,
        descriptor=release.descriptor,
        disclosure=release.disclosure or None,
        sources={} if public else release.sources,
        table_sha256=release.table_sha256,
        versions=sorted(session.scalars(query), reverse=True),
        themes=list(definition.get("theme") or DEFAULT_THEMES[definition["kind"]]),
    )


def get_release(settings: Settings, name: str, version: int) -> ReleaseView:
    """Any release, for analysts and DPOs."""
    with session_scope(settings) as session:
        return _view(session, _release(session, name, version), public=False)


def count_releases(settings: Settings, status: ReleaseStatus) -> int:
    """How many releases are in ``status`` (pending: waiting for a DPO's decision)."""
    with session_scope(settings) as session:
        query = select(func.count(PublicationRelease.id)).where(
            PublicationRelease.status == status.value
        )
        return int(session.scalar(query) or 0)


def list_releases(settings: Settings) -> list[ReleaseView]:
    """Every release, newest first (analysts and DPOs)."""
    with session_scope(settings) as session:
        rows = session.scalars(
            select(PublicationRelease).order_by(PublicationRelease.created_at.desc())
        )
        return [_view(session, r, public=False) for r in rows]


def list_publications(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings) as session:
        pubs = session.scalars(select(Publication).order_by(Publication.name))
        return [
            {
                "name": p.name,
                "title": p.title,
                "kind": p.kind,
                "definition": p.definition,
                "updated_at": p.updated_at.isoformat(),
            }
            for p in pubs
        ]


def public_release(settings: Settings, name: str, version: int | None = None) -> ReleaseView:
    """The latest approved release of a publication (or that approved version)."""
    with session_scope(settings) as session:
        pub = _publication(session, name)
        query = select(PublicationRelease).where(
            PublicationRelease.publication_id == pub.id,
            PublicationRelease.status == ReleaseStatus.APPROVED.value,
        )
        if version is not None:
            query = query.where(PublicationRelease.version == version)
        release = session.scalars(query.order_by(PublicationRelease.version.desc())).first()
        if release is None:
            raise NotFoundError(f"no published release of {name!r}")
        return _view(session, release, public=True)


def public_releases(settings: Settings, q: str | None = None) -> list[ReleaseView]:
    """The current (latest approved) release of every publication, optionally matching ``q``
    (every word, case-insensitive, in the name, title, description or keywords)."""
    with session_scope(settings) as session:
        latest = (
            select(
                PublicationRelease.publication_id,
                func.max(PublicationRelease.version).label("version"),
            )
            .where(PublicationRelease.status == ReleaseStatus.APPROVED.value)
            .group_by(PublicationRelease.publication_id)
            .subquery()
        )
        rows = list(
            session.scalars(
                select(PublicationRelease).join(
                    latest,
                    (latest.c.publication_id == PublicationRelease.publication_id)
                    & (latest.c.version == PublicationRelease.version),
                )
            )
        )
        views = sorted((_view(session, r, public=True) for r in rows), key=lambda v: v.title)
    words = (q or "").lower().split()
    if not words:
        return views

    def text(v: ReleaseView) -> str:
        return " ".join([v.publication, v.title, v.description, *v.keywords]).lower()

    return [v for v in views if all(w in text(v) for w in words)]


def release_table(settings: Settings, release: ReleaseView) -> pa.Table:
    return pq.read_table(SnapshotStore(settings).path_of(release.table_sha256))


def release_csv(settings: Settings, release: ReleaseView) -> bytes:
    """The CSV of a release, rendered from its snapshot and checked against its sha256."""
    data = render_csv(release_table(settings, release), release.fields)
    if csv_digest(data) != release.csv_sha256:
        raise RuntimeError(f"release {release.version} of {release.publication} has changed")
    return data


def disclosure_checks(settings: Settings, release: ReleaseView) -> list[dict[str, Any]]:
    """What the DPO sees before approving: checks re-run on the stored release."""
    checks: list[dict[str, Any]] = []
    data_ok = True
    try:
        release_csv(settings, release)
    except RuntimeError:
        data_ok = False
    checks.append(
        {
            "check": "The CSV is exactly the one built (sha256)",
            "passed": data_ok,
            "detail": release.csv_sha256,
        }
    )
    report = release.disclosure
    if not report:
        checks.append(
            {
                "check": "Disclosure control",
                "passed": True,
                "detail": "Not derived from personal data: the standard has no personal fields",
            }
        )
        return checks
    threshold = int(report["threshold"])
    counts = [
        c for c in release_table(settings, release).column("count").to_pylist() if c is not None
    ]
    under = [c for c in counts if c < threshold]
    checks.append(
        {
            "check": f"No published count under {threshold}",
            "passed": not under,
            "detail": f"{len(counts)} counts published, smallest {min(counts) if counts else '—'}",
        }
    )
    if report["method"] == "round":
        base = int(report.get("base", 5))
        off = [c for c in counts if c % base]
        checks.append(
            {
                "check": f"Every published count is rounded to a multiple of {base}",
                "passed": not off,
                "detail": f"{len(off)} not rounded",
            }
        )
    narrowest = report.get("narrowest_recoverable_range")
    checks.append(
        {
            "check": "No suppressed count can be recovered from the totals",
            "passed": bool(report.get("passed")) and (narrowest is None or narrowest >= threshold),
            "detail": (
                f"{report['primary_suppressed']} counts under {threshold} and "
                f"{report['secondary_suppressed']} more suppressed so that none can be "
                "worked out; the attacker's narrowest range for a suppressed count is "
                + (
                    "unbounded"
                    if narrowest is None or not math.isfinite(narrowest)
                    else f"at least {narrowest:g}"
                )
            ),
        }
    )
    return checks
