"""linkage review decisions: reviewers' match / non-match decisions on record pairs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "linkage_review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_key_l", sa.String(length=512), nullable=False),
        sa.Column("record_key_r", sa.String(length=512), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["app_user.id"],
            name=op.f("fk_linkage_review_decision_reviewer_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["linkage_run.id"],
            name=op.f("fk_linkage_review_decision_run_id_linkage_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_review_decision")),
    )
    with op.batch_alter_table("linkage_review_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_linkage_review_decision_pair", ["record_key_l", "record_key_r"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_linkage_review_decision_reviewer_id"), ["reviewer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_linkage_review_decision_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("linkage_review_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linkage_review_decision_created_at"))
        batch_op.drop_index(batch_op.f("ix_linkage_review_decision_reviewer_id"))
        batch_op.drop_index("ix_linkage_review_decision_pair")
    op.drop_table("linkage_review_decision")
