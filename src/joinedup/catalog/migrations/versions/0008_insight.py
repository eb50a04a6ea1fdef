"""insight: rule runs (flags snapshots) and caseworkers' actions on flags

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("linkage_run_id", sa.Integer(), nullable=False),
        sa.Column("flags_sha256", sa.String(length=64), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("flags", sa.BigInteger(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flags_sha256"], ["snapshot.sha256"], name=op.f("fk_insight_run_flags_sha256_snapshot")
        ),
        sa.ForeignKeyConstraint(
            ["linkage_run_id"],
            ["linkage_run.id"],
            name=op.f("fk_insight_run_linkage_run_id_linkage_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_run")),
    )
    with op.batch_alter_table("insight_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_insight_run_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_insight_run_linkage_run_id"), ["linkage_run_id"], unique=False
        )
    op.create_table(
        "flag_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.String(length=40), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("insight_run_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("record_keys", sa.JSON(), nullable=False),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["insight_run_id"],
            ["insight_run.id"],
            name=op.f("fk_flag_action_insight_run_id_insight_run"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_flag_action_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_flag_action_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_action")),
    )
    with op.batch_alter_table("flag_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_action_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_flag_action_flag_id"), ["flag_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_flag_action_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("flag_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_action_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_flag_action_flag_id"))
        batch_op.drop_index(batch_op.f("ix_flag_action_created_at"))
    op.drop_table("flag_action")
    with op.batch_alter_table("insight_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insight_run_linkage_run_id"))
        batch_op.drop_index(batch_op.f("ix_insight_run_created_at"))
    op.drop_table("insight_run")
