"""In-app notifications: a user's list, the unread count shown in the header, marking read.
Messages name records by id only (see :mod:`joinedup.rights.disputes`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from joinedup.catalog.db import session_scope
from joinedup.catalog.models import RightsNotification
from joinedup.catalog.types import utcnow
from joinedup.config import Settings


@dataclass(frozen=True)
class Notice:
    id: int
    kind: str
    message: str
    link: str
    created_at: datetime
    read: bool


def unread_count(settings: Settings, user_id: int) -> int:
    with session_scope(settings) as session:
        return int(
            session.scalar(
                select(func.count(RightsNotification.id)).where(
                    RightsNotification.user_id == user_id, RightsNotification.read_at.is_(None)
                )
            )
            or 0
        )


def list_notifications(settings: Settings, user_id: int, limit: int = 100) -> list[Notice]:
    with session_scope(settings) as session:
        rows = session.scalars(
            select(RightsNotification)
            .where(RightsNotification.user_id == user_id)
            .order_by(RightsNotification.id.desc())
            .limit(limit)
        )
        return [
            Notice(r.id, r.kind, r.message, r.link, r.created_at, r.read_at is not None)
            for r in rows
        ]


def mark_all_read(settings: Settings, user_id: int) -> int:
    """Mark the user's unread notifications read; returns how many."""
    with session_scope(settings) as session:
        rows = list(
            session.scalars(
                select(RightsNotification).where(
                    RightsNotification.user_id == user_id, RightsNotification.read_at.is_(None)
                )
            )
        )
        now = utcnow()
        for row in rows:
            row.read_at = now
        session.commit()
        return len(rows)
