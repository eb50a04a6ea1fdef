"""Ethics records as people use them: every purpose's and agreement's record with its state,
one record's versions beside the fairness check's latest figures and the objection counts,
drafting and the DPO's sign-off. The rules are in :mod:`joinedup.governance.ethics`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import Agreement, Objection, Purpose, Role
from joinedup.catalog.models_toolkit import EthicsRecord
from joinedup.config import Settings
from joinedup.errors import Refused
from joinedup.governance import ethics as core
from joinedup.governance.access import Caller
from joinedup.governance.service.common import current_user, usernames
from joinedup.insight.fairness import read_fairness
from joinedup.insight.trends import latest_area_run

SUBJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class EthicsIn(BaseModel):
    answers: dict[str, str] = Field(
        description="An answer to each Data Ethics Canvas question, by its key "
        "(data_sources, benefits, harms, excluded_groups, transparency, review)"
    )
    review_date: date = Field(description="When the record must be reviewed again")


class SignOffIn(BaseModel):
    version: int = Field(ge=1, description="The draft version being signed off")
    note: str = Field("", max_length=500)


class Answer(BaseModel):
    key: str
    question: str
    answer: str


class EthicsVersion(BaseModel):
    version: int
    status: str = Field(description="draft or signed_off")
    answers: list[Answer]
    review_date: date
    drafted_by: str | None
    drafted_at: datetime
    signed_off_by: str | None
    signed_off_at: datetime | None
    sign_off_note: str


class SubjectState(BaseModel):
    subject_type: str
    subject: str
    title: str
    latest_version: int | None
    latest_status: str | None
    in_force_version: int | None = Field(description="The signed-off version in date, if any")
    review_date: date | None = Field(description="The in-force or latest version's review date")
    review_due: bool = Field(description="The latest signed-off version's review date passed")
    url: str


class FairnessGroup(BaseModel):
    rule_id: str
    dimension: str
    group: str
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None


class FairnessSummary(BaseModel):
    month: str
    rules: list[str]
    flags_last_month: int
    groups_checked: int
    marked: list[FairnessGroup]


class EthicsDetail(SubjectState):
    versions: list[EthicsVersion]
    purposes: list[str] = Field(description="The purposes it covers (for an agreement, its own)")
    objections: int = Field(description="Objections in force against these purposes")
    fairness: FairnessSummary | None = Field(
        description="The fairness check's latest figures for the purposes' rules"
    )
    may_draft: bool
    may_sign_off: bool


def ethics_path(subject_type: str, subject: str) -> str:
    return f"/ethics/{subject_type}/{subject}"


def _check_type(subject_type: str) -> None:
    if subject_type not in core.SUBJECT_TYPES:
        raise Refused(404, f"No ethics records for {subject_type!r}")


def _titles(session: Session) -> dict[tuple[str, str], str]:
    titles = {("purpose", p.code): p.name for p in session.scalars(select(Purpose))}
    titles |= {("agreement", a.reference): a.title for a in session.scalars(select(Agreement))}
    return titles


def _state(
    subject_type: str, subject: str, title: str, rows: list[EthicsRecord], today: date
) -> dict[str, Any]:
    latest = rows[0] if rows else None
    signed = next((r for r in rows if r.status == core.SIGNED_OFF), None)
    force = signed if signed is not None and signed.review_date >= today else None
    shown = force or latest
    return {
        "subject_type": subject_type,
        "subject": subject,
        "title": title,
        "latest_version": latest.version if latest else None,
        "latest_status": latest.status if latest else None,
        "in_force_version": force.version if force else None,
        "review_date": shown.review_date if shown else None,
        "review_due": signed is not None and signed.review_date < today,
        "url": ethics_path(subject_type, subject),
    }


def list_subjects(settings: Settings, today: date | None = None) -> list[SubjectState]:
    """Every purpose and every agreement with the state of its ethics record."""
    today = today or date.today()
    with session_scope(settings) as session:
        rows: dict[tuple[str, str], list[EthicsRecord]] = {}
        for record in session.scalars(select(EthicsRecord).order_by(EthicsRecord.version.desc())):
            rows.setdefault((record.subject_type, record.subject), []).append(record)
        return [
            SubjectState(**_state(kind, subject, title, rows.get((kind, subject), []), today))
            for (kind, subject), title in sorted(_titles(session).items())
        ]


def subject_states(
    settings: Settings, subjects: list[tuple[str, str]], today: date | None = None
) -> list[SubjectState]:
    """The states of these (subject type, subject) records, in the order given."""
    found = {(s.subject_type, s.subject): s for s in list_subjects(settings, today)}
    return [found[key] for key in subjects if key in found]


def fairness_for(settings: Settings, purposes: list[str]) -> FairnessSummary | None:
    """The latest fairness check's figures for the rules of these purposes (counts only)."""
    run = latest_area_run(settings)
    if run is None:
        return None
    rules = [r for r in run.rules if r.get("purpose") in purposes]
    if not rules:
        return None
    ids = {r["id"] for r in rules}
    rows = [r for r in read_fairness(settings, run.fairness_sha256) if r.rule_id in ids]
    return FairnessSummary(
        month=run.last_month,
        rules=sorted(ids),
        flags_last_month=sum(int(r.get("flags_last_month") or 0) for r in rules),
        groups_checked=len(rows),
        marked=[
            FairnessGroup(
                rule_id=r.rule_id,
                dimension=r.dimension,
                group=r.group,
                rate_ratio=r.rate_ratio,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
            )
            for r in rows
            if r.marked
        ],
    )


def objection_count(session: Session, purposes: list[str]) -> int:
    """Objections in force that apply to any of these purposes (to all purposes, or one)."""
    ids = list(session.scalars(select(Purpose.id).where(Purpose.code.in_(purposes))))
    allowed = list(
        session.scalars(
            select(Purpose.id).where(Purpose.code.in_(purposes), Purpose.objection_allowed)
        )
    )
    if not ids:
        return 0
    return int(
        session.scalar(
            select(func.count(Objection.id)).where(
                Objection.withdrawn_at.is_(None),
                Objection.purpose_id.is_(None) | Objection.purpose_id.in_(allowed or [-1]),
            )
        )
        or 0
    )


def _version(record: EthicsRecord, names: dict[int, str]) -> EthicsVersion:
    return EthicsVersion(
        version=record.version,
        status=record.status,
        answers=[
            Answer(key=q.key, question=q.question, answer=str(record.answers.get(q.key, "")))
            for q in core.QUESTIONS
        ],
        review_date=record.review_date,
        drafted_by=names.get(record.drafted_by_id),
        drafted_at=record.drafted_at,
        signed_off_by=names.get(record.signed_off_by_id) if record.signed_off_by_id else None,
        signed_off_at=record.signed_off_at,
        sign_off_note=record.sign_off_note,
    )


def _purposes_of(session: Session, subject_type: str, subject: str) -> list[str]:
    if subject_type == "purpose":
        return [subject]
    agreement = session.scalars(select(Agreement).where(Agreement.reference == subject)).first()
    return sorted(p.code for p in agreement.purposes) if agreement else []


def get_record(
    settings: Settings,
    principal: Caller,
    subject_type: str,
    subject: str,
    today: date | None = None,
) -> EthicsDetail:
    """One subject's record: every version, newest first, with the figures beside it."""
    _check_type(subject_type)
    today = today or date.today()
    with session_scope(settings) as session:
        user = current_user(session, principal)
        title = _titles(session).get((subject_type, subject))
        if title is None:
            raise Refused(404, f"No {subject_type} {subject!r}")
        rows = core.versions(session, subject_type, subject)
        ids: set[int | None] = {r.drafted_by_id for r in rows}
        names = usernames(session, ids | {r.signed_off_by_id for r in rows})
        purposes = _purposes_of(session, subject_type, subject)
        latest = rows[0] if rows else None
        detail = {
            **_state(subject_type, subject, title, rows, today),
            "versions": [_version(r, names) for r in rows],
            "purposes": purposes,
            "objections": objection_count(session, purposes),
            "may_draft": user.role in core.DRAFTERS,
            "may_sign_off": user.role == Role.DPO
            and latest is not None
            and latest.status == core.DRAFT
            and latest.drafted_by_id != user.id,
        }
    return EthicsDetail(**detail, fairness=fairness_for(settings, purposes))


def draft(
    settings: Settings,
    principal: Caller,
    subject_type: str,
    subject: str,
    body: EthicsIn,
    today: date | None = None,
) -> EthicsDetail:
    """Record a new draft version (audited by the core)."""
    _check_type(subject_type)
    with session_scope(settings) as session:
        user = current_user(session, principal)
        core.draft_record(
            session, subject_type, subject, body.answers, body.review_date, user, today
        )
    return get_record(settings, principal, subject_type, subject, today)


def sign_off(
    settings: Settings,
    principal: Caller,
    subject_type: str,
    subject: str,
    body: SignOffIn,
    today: date | None = None,
) -> EthicsDetail:
    """The DPO signs off the named draft version (audited by the core)."""
    _check_type(subject_type)
    with session_scope(settings) as session:
        user = current_user(session, principal)
        record = next(
            (r for r in core.versions(session, subject_type, subject) if r.version == body.version),
            None,
        )
        if record is None:
            raise Refused(404, f"No version {body.version} of the ethics record for {subject!r}")
        core.sign_off(session, record, user, body.note, today)
    return get_record(settings, principal, subject_type, subject, today)


def dpo_workload(settings: Settings, today: date | None = None) -> tuple[int, int]:
    """(versions awaiting sign-off, records past their review date) for the DPO's tasks."""
    with session_scope(settings) as session:
        return len(core.awaiting_sign_off(session)), len(core.due_for_review(session, today))
