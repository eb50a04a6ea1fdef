"""Control-plane models of the ODI toolkit (issue 22): ethics records and business cases.

Kept beside :mod:`joinedup.catalog.models` (which imports this module at its end, so the
metadata Alembic compares holds these tables too).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from joinedup.catalog.models import Base
from joinedup.catalog.types import utcnow


class EthicsRecord(Base):
    """One version of the Data Ethics Canvas answers for a purpose or an agreement: drafted
    by a data owner, analyst or DPO, signed off by a DPO who did not draft it. The latest
    signed-off version with its review date not passed is the one in force."""

    __tablename__ = "ethics_record"
    __table_args__ = (UniqueConstraint("subject_type", "subject", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # purpose | agreement
    subject: Mapped[str] = mapped_column(String(64), index=True)  # its code or reference
    version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    review_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | signed_off
    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column()
    sign_off_note: Mapped[str] = mapped_column(String(500), default="")


class BusinessCase(Base):
    """The business case for one intervention: what the service spends and whom it reaches,
    argued beside the impact the hub measures (the estimate is computed when shown)."""

    __tablename__ = "business_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("insight_intervention.id"), unique=True)
    service: Mapped[str] = mapped_column(String(200))
    cost_pounds: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(120))
    residents_reached: Mapped[int] = mapped_column(BigInteger)
    problem: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text, default="")
    beneficiaries: Mapped[str] = mapped_column(Text, default="")
    risks: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
