"""the ODI toolkit: ethics records (per purpose and per agreement, versioned, signed off by a
DPO) and business cases (per intervention)

Revision ID: 0015_ethics_and_business_cases
Revises: 0014_ingest_layouts
Create Date: 2026-12-07 11:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0015_ethics_and_business_cases"
down_revision: str | None = "0014_ingest_layouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = joinedup.catalog.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ethics_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("drafted_by_id", sa.Integer(), nullable=False),
        sa.Column("drafted_at", UTC_DATETIME, nullable=False),
        sa.Column("signed_off_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_off_at", UTC_DATETIME, nullable=True),
        sa.Column("sign_off_note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"], ["app_user.id"], name=op.f("fk_ethics_record_drafted_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["signed_off_by_id"],
            ["app_user.id"],
            name=op.f("fk_ethics_record_signed_off_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ethics_record")),
        sa.UniqueConstraint(
            "subject_type",
            "subject",
            "version",
            name=op.f("uq_ethics_record_subject_type_subject_version"),
        ),
    )
    with op.batch_alter_table("ethics_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ethics_record_subject"), ["subject"], unique=False)
    op.create_table(
        "business_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("cost_pounds", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=120), nullable=False),
        sa.Column("residents_reached", sa.BigInteger(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("beneficiaries", sa.Text(), nullable=False),
        sa.Column("risks", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["insight_intervention.id"],
            name=op.f("fk_business_case_intervention_id_insight_intervention"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_case")),
        sa.UniqueConstraint("intervention_id", name=op.f("uq_business_case_intervention_id")),
    )


def downgrade() -> None:
    op.drop_table("business_case")
    with op.batch_alter_table("ethics_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ethics_record_subject"))
    op.drop_table("ethics_record")
