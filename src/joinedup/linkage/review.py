"""Clerical review of uncertain pairs: reviewers' decisions, kept in the control plane.

A decision says two linkage records (``<organisation>/<dataset>/<source_record_id>``) are the
same person (``match``) or not (``non_match``). Decisions are rows in
``linkage_review_decision``, never changed: the latest decision on a pair wins and the earlier
ones are its history. Writing one is audited (``linkage.review_decision``) in the same
transaction. Every later build reads :func:`forced_pairs` and clusters with them: a match is a
forced link, a non-match a forced cannot-link
(:func:`joinedup.linkage.cluster.cluster_predictions`).

Reviewers are analysts acting under the ``linkage`` purpose. Pairs are named in URLs by a
:func:`pair_id` (a digest of the two keys), so source record ids never appear in a path or a
server log.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import LinkageReviewDecision, ReviewDecision, Role, User
from joinedup.config import Settings
from joinedup.errors import JoinedupError
from joinedup.governance.access import Actor, audit_as
from joinedup.governance.audit_actions import AuditAction

#: The purpose reviewers act under.
REVIEW_PURPOSE = "linkage"
#: Roles that review pairs.
REVIEWER_ROLES = frozenset({Role.ANALYST.value})
MAX_NOTE = 500
MAX_KEY = 512
PAIR_ID = re.compile(r"^p-[0-9a-f]{16}$")
#: ``<organisation>/<dataset>/<source_record_id>`` (the source id may itself hold ``/``).
RECORD_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}/[a-z0-9][a-z0-9_-]{0,119}/[^\x00-\x1f\x7f]+$")
DECISIONS = {
    "match": ReviewDecision.MATCH.value,
    "non_match": ReviewDecision.NON_MATCH.value,
    "non-match": ReviewDecision.NON_MATCH.value,
}


class ReviewError(JoinedupError, ValueError):
    """A decision that cannot be recorded; ``status`` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message, status=status)


def pair_id(key_l: str, key_r: str) -> str:
    """The pair's name in URLs: ``p-`` and 16 hex digits of sha256 of the ordered keys."""
    low, high = ordered(key_l, key_r)
    return "p-" + hashlib.sha256(f"{low}\n{high}".encode()).hexdigest()[:16]


def pair_id_sql(left: str = "record_key_l", right: str = "record_key_r") -> str:
    """:func:`pair_id` as DuckDB SQL over two ordered key columns."""
    return f"'p-' || left(sha256({left} || chr(10) || {right}), 16)"


def ordered(key_a: str, key_b: str) -> tuple[str, str]:
    return (key_a, key_b) if key_a <= key_b else (key_b, key_a)


def check_key(key: str) -> str:
    """``key`` if it is a well-formed record key (never echoed back in the error)."""
    if not isinstance(key, str) or len(key) > MAX_KEY or not RECORD_KEY.match(key):
        raise ReviewError("A record key is <organisation>/<dataset>/<source record id>", 422)
    return key


def check_decision(value: str) -> str:
    found = DECISIONS.get(str(value).strip().lower())
    if found is None:
        raise ReviewError("The decision is match or non_match", 422)
    return found


def check_note(note: str | None) -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ReviewError(f"The note must be {MAX_NOTE} characters or fewer", 422)
    if any(ord(ch) < 0x20 and ch not in "\n\r\t" for ch in text):
        raise ReviewError("The note holds characters that are not text", 422)
    return text


def check_reviewer(actor: Actor) -> None:
    """Refuse (403) anyone but an analyst acting under the linkage purpose."""
    if actor.role not in REVIEWER_ROLES:
        raise ReviewError("Only analysts review matches", 403)
    if actor.purpose != REVIEW_PURPOSE:
        raise ReviewError(
            "Reviewing matches is part of resident index maintenance: act under the "
            f"purpose '{REVIEW_PURPOSE}'",
            403,
        )


@dataclass(frozen=True)
class Decision:
    """One recorded decision (for pages, the API and the CLI)."""

    id: int
    pair: str
    record_key_l: str
    record_key_r: str
    decision: str
    reviewer: str
    note: str
    run_id: int | None
    match_probability: float | None
    created_at: datetime


def _decision(row: LinkageReviewDecision, reviewer: str) -> Decision:
    return Decision(
        id=row.id,
        pair=pair_id(row.record_key_l, row.record_key_r),
        record_key_l=row.record_key_l,
        record_key_r=row.record_key_r,
        decision=row.decision,
        reviewer=reviewer,
        note=row.note,
        run_id=row.run_id,
        match_probability=row.match_probability,
        created_at=row.created_at,
    )


def record_decision(
    settings: Settings,
    actor: Actor,
    key_a: str,
    key_b: str,
    decision: str,
    note: str | None = None,
    *,
    run_id: int | None = None,
    match_probability: float | None = None,
) -> Decision:
    """Record a reviewer's decision on a pair (audited in the same transaction)."""
    check_reviewer(actor)
    key_l, key_r = ordered(check_key(key_a), check_key(key_b))
    if key_l == key_r:
        raise ReviewError("A pair is two different records", 422)
    value = check_decision(decision)
    text = check_note(note)
    with session_scope(settings) as session:
        user = session.get(User, actor.user_id)
        if user is None or not user.is_active or user.role not in REVIEWER_ROLES:
            raise ReviewError("Only active analysts review matches", 403)
        previous = _latest_row(session, key_l, key_r)
        row = LinkageReviewDecision(
            record_key_l=key_l,
            record_key_r=key_r,
            decision=value,
            reviewer_id=user.id,
            note=text,
            run_id=run_id,
            match_probability=match_probability,
        )
        session.add(row)
        session.flush()
        audit_as(
            session,
            actor,
            AuditAction.LINKAGE_REVIEW_DECISION,
            target_type="record_pair",
            target_id=pair_id(key_l, key_r),
            records=[key_l, key_r],
            details={
                "decision": value,
                "previous": previous.decision if previous else None,
                "run": run_id,
                "match_probability": match_probability,
                "note_given": bool(text),
            },
        )
        return _decision(row, user.username)


def _latest_row(session: Session, key_l: str, key_r: str) -> LinkageReviewDecision | None:
    return session.scalars(
        select(LinkageReviewDecision)
        .where(
            LinkageReviewDecision.record_key_l == key_l,
            LinkageReviewDecision.record_key_r == key_r,
        )
        .order_by(LinkageReviewDecision.id.desc())
        .limit(1)
    ).first()


def latest_decisions(settings: Settings) -> dict[tuple[str, str], str]:
    """The decision in force on every decided pair: ``{(key_l, key_r): decision}``."""
    with session_scope(settings) as session:
        latest = (
            select(func.max(LinkageReviewDecision.id))
            .group_by(LinkageReviewDecision.record_key_l, LinkageReviewDecision.record_key_r)
            .scalar_subquery()
        )
        rows = session.execute(
            select(
                LinkageReviewDecision.record_key_l,
                LinkageReviewDecision.record_key_r,
                LinkageReviewDecision.decision,
            ).where(LinkageReviewDecision.id.in_(latest))
        ).all()
    return {(str(kl), str(kr)): str(d) for kl, kr, d in rows}


@dataclass(frozen=True)
class ForcedPairs:
    """Reviewers' decisions as clustering constraints, by record key (ordered pairs)."""

    links: list[tuple[str, str]]
    cannot: list[tuple[str, str]]

    def __len__(self) -> int:
        return len(self.links) + len(self.cannot)


def forced_pairs(settings: Settings) -> ForcedPairs:
    """The decisions in force: matches as forced links, non-matches as forced cannot-links."""
    decided = latest_decisions(settings)
    links = sorted(p for p, d in decided.items() if d == ReviewDecision.MATCH.value)
    cannot = sorted(p for p, d in decided.items() if d == ReviewDecision.NON_MATCH.value)
    return ForcedPairs(links, cannot)


def history(settings: Settings, keys: list[str] | None = None, limit: int = 500) -> list[Decision]:
    """Decisions (newest first) on pairs among ``keys`` (every decision when None)."""
    with session_scope(settings) as session:
        query = select(LinkageReviewDecision, User.username).join(
            User, User.id == LinkageReviewDecision.reviewer_id
        )
        if keys is not None:
            if not keys:
                return []
            wanted = sorted(set(keys))
            query = query.where(
                LinkageReviewDecision.record_key_l.in_(wanted)
                | LinkageReviewDecision.record_key_r.in_(wanted)
            )
        rows = session.execute(query.order_by(LinkageReviewDecision.id.desc()).limit(limit)).all()
        return [_decision(row, username) for row, username in rows]


def pair_history(settings: Settings, key_a: str, key_b: str) -> list[Decision]:
    """Every decision on one pair, newest first."""
    key_l, key_r = ordered(key_a, key_b)
    return [
        d
        for d in history(settings, [key_l, key_r])
        if (d.record_key_l, d.record_key_r) == (key_l, key_r)
    ]


def decision_count(settings: Settings) -> int:
    with session_scope(settings) as session:
        return int(session.scalar(select(func.count(LinkageReviewDecision.id))) or 0)
