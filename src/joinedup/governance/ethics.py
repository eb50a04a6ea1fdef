"""Ethics records: the ODI Data Ethics Canvas, answered for each purpose and each agreement.

A record is versioned: every draft is a new version, written by a data owner, analyst or DPO;
a DPO who did not draft it signs it off. The latest signed-off version whose review date has
not passed is *in force*. **An agreement becomes active only when each of its purposes has a
record in force** (:func:`activation_problem`, asked by
:func:`joinedup.governance.agreements.approve`). A record in force past its review date stops
new agreements under the purpose from activating and shows on the DPO's task list until a new
version is signed off. Every draft and sign-off is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from joinedup.catalog.models import Agreement, Purpose, Role, User
from joinedup.catalog.models_toolkit import EthicsRecord
from joinedup.catalog.types import utcnow
from joinedup.errors import JoinedupError
from joinedup.governance.audit import append_by
from joinedup.governance.audit_actions import AuditAction

SUBJECT_TYPES = ("purpose", "agreement")
DRAFT, SIGNED_OFF = "draft", "signed_off"
#: Who may draft a version (a DPO signs off; never the one who drafted it).
DRAFTERS = (Role.DATA_OWNER, Role.ANALYST, Role.DPO)
MAX_ANSWER = 5000


@dataclass(frozen=True)
class Question:
    key: str
    question: str
    hint: str


#: The Data Ethics Canvas questions a record answers, in the canvas's order.
QUESTIONS = (
    Question(
        "data_sources",
        "Data sources and their limitations",
        "Which datasets, from whom; how complete, accurate and current they are; who is "
        "missing from them.",
    ),
    Question(
        "benefits",
        "Who benefits",
        "Who gains from this use of data, and how: residents, services, the public.",
    ),
    Question(
        "harms",
        "Who could be harmed",
        "What could go wrong for people: wrong matches, stigma, intrusion, loss of trust.",
    ),
    Question(
        "excluded_groups",
        "Groups that could be excluded or treated unfairly",
        "Who may be under-represented or over-flagged, and what the fairness check shows.",
    ),
    Question(
        "transparency",
        "How people are told and how they can object",
        "The privacy notice, where the register is published, and how a resident objects.",
    ),
    Question(
        "review",
        "How it is reviewed",
        "Who reviews this, how often, what would make you stop, and what is monitored.",
    ),
)
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)


class EthicsError(JoinedupError, ValueError):
    """A draft or sign-off the rules do not allow (the message says why)."""

    status = 422
    capitalised = True


class EthicsPermissionError(EthicsError):
    status = 403


def _subject_exists(session: Session, subject_type: str, subject: str) -> bool:
    model, column = (
        (Purpose, Purpose.code) if subject_type == "purpose" else (Agreement, Agreement.reference)
    )
    return session.scalars(select(model).where(column == subject)).first() is not None


def versions(session: Session, subject_type: str, subject: str) -> list[EthicsRecord]:
    """Every version of the subject's record, newest first."""
    return list(
        session.scalars(
            select(EthicsRecord)
            .where(EthicsRecord.subject_type == subject_type, EthicsRecord.subject == subject)
            .order_by(EthicsRecord.version.desc())
        )
    )


def draft_record(
    session: Session,
    subject_type: str,
    subject: str,
    answers: dict[str, str],
    review_date: date,
    user: User,
    today: date | None = None,
) -> EthicsRecord:
    """Record a new draft version (audited)."""
    today = today or date.today()
    if user.role not in DRAFTERS:
        raise EthicsPermissionError("only data owners, analysts and DPOs draft ethics records")
    if subject_type not in SUBJECT_TYPES:
        raise EthicsError(f"an ethics record is for a purpose or an agreement, not {subject_type}")
    if not _subject_exists(session, subject_type, subject):
        raise EthicsError(f"no {subject_type} {subject!r}", status=404, field="subject")
    for question in QUESTIONS:
        answer = (answers.get(question.key) or "").strip()
        if not answer:
            raise EthicsError(f"answer ‘{question.question}’", field=question.key)
        if len(answer) > MAX_ANSWER:
            raise EthicsError(
                f"the answer to ‘{question.question}’ must be {MAX_ANSWER:,} characters or fewer",
                field=question.key,
            )
    unknown = set(answers) - set(QUESTION_KEYS)
    if unknown:
        raise EthicsError(f"no question {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    if review_date <= today:
        raise EthicsError("the review date must be in the future", field="review_date")
    latest = session.scalar(
        select(func.max(EthicsRecord.version)).where(
            EthicsRecord.subject_type == subject_type, EthicsRecord.subject == subject
        )
    )
    record = EthicsRecord(
        subject_type=subject_type,
        subject=subject,
        version=(latest or 0) + 1,
        answers={k: answers[k].strip() for k in QUESTION_KEYS},
        review_date=review_date,
        status=DRAFT,
        drafted_by_id=user.id,
        drafted_at=utcnow(),
        sign_off_note="",
    )
    session.add(record)
    session.flush()
    append_by(
        session,
        user,
        AuditAction.ETHICS_DRAFT,
        target_type=f"ethics_record.{subject_type}",
        target_id=subject,
        details={"version": record.version, "review_date": review_date.isoformat()},
    )
    return record


def sign_off(
    session: Session, record: EthicsRecord, user: User, note: str = "", today: date | None = None
) -> None:
    """A DPO signs off the latest draft version (audited); it is then in force."""
    today = today or date.today()
    if user.role != Role.DPO:
        raise EthicsPermissionError("only a DPO signs off an ethics record")
    if record.drafted_by_id == user.id:
        raise EthicsPermissionError("a DPO cannot sign off a version they drafted themselves")
    if record.status != DRAFT:
        raise EthicsError(f"version {record.version} is already signed off", status=409)
    newest = versions(session, record.subject_type, record.subject)[0]
    if newest.id != record.id:
        raise EthicsError(
            f"version {record.version} has been replaced by version {newest.version}", status=409
        )
    if record.review_date <= today:
        raise EthicsError(
            "the review date has passed: draft a new version with a new review date", status=409
        )
    record.status = SIGNED_OFF
    record.signed_off_by_id = user.id
    record.signed_off_at = utcnow()
    record.sign_off_note = note.strip()[:500]
    append_by(
        session,
        user,
        AuditAction.ETHICS_SIGN_OFF,
        target_type=f"ethics_record.{record.subject_type}",
        target_id=record.subject,
        details={"version": record.version, "review_date": record.review_date.isoformat()},
    )


def signed_off(session: Session, subject_type: str, subject: str) -> EthicsRecord | None:
    """The latest signed-off version, in date or not."""
    return session.scalars(
        select(EthicsRecord)
        .where(
            EthicsRecord.subject_type == subject_type,
            EthicsRecord.subject == subject,
            EthicsRecord.status == SIGNED_OFF,
        )
        .order_by(EthicsRecord.version.desc())
        .limit(1)
    ).first()


def in_force(
    session: Session, subject_type: str, subject: str, today: date | None = None
) -> EthicsRecord | None:
    """The latest signed-off version if its review date has not passed, else None."""
    record = signed_off(session, subject_type, subject)
    if record is None or record.review_date < (today or date.today()):
        return None
    return record


def activation_problem(
    session: Session, agreement: Agreement, today: date | None = None
) -> str | None:
    """Why the agreement may not become active for want of ethics records, or None."""
    missing = []
    for purpose in sorted(agreement.purposes, key=lambda p: p.code):
        if in_force(session, "purpose", purpose.code, today) is None:
            missing.append(purpose.code)
    if not missing:
        return None
    names = ", ".join(repr(code) for code in missing)
    which = f"the purposes {names} each need" if len(missing) > 1 else f"the purpose {names} needs"
    return (
        f"{which} an ethics record signed off by a DPO, with its review date not passed, "
        "before the agreement can become active"
    )


def due_for_review(session: Session, today: date | None = None) -> list[EthicsRecord]:
    """Signed-off records (the latest of each subject) whose review date has passed."""
    today = today or date.today()
    latest: dict[tuple[str, str], EthicsRecord] = {}
    for record in session.scalars(
        select(EthicsRecord)
        .where(EthicsRecord.status == SIGNED_OFF)
        .order_by(EthicsRecord.version.desc())
    ):
        latest.setdefault((record.subject_type, record.subject), record)
    return sorted(
        (r for r in latest.values() if r.review_date < today),
        key=lambda r: (r.review_date, r.subject_type, r.subject),
    )


def awaiting_sign_off(session: Session) -> list[EthicsRecord]:
    """Draft versions that are the latest of their subject, oldest first."""
    found = []
    for record in session.scalars(
        select(EthicsRecord).where(EthicsRecord.status == DRAFT).order_by(EthicsRecord.id)
    ):
        if versions(session, record.subject_type, record.subject)[0].id == record.id:
            found.append(record)
    return found
