"""linkage runs: each build of the resident index, its model and snapshots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 21:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "linkage_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("model_path", sa.String(length=255), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("residents", sa.BigInteger(), nullable=False),
        sa.Column("households", sa.BigInteger(), nullable=False),
        sa.Column("pairs", sa.BigInteger(), nullable=False),
        sa.Column("index_sha256", sa.String(length=64), nullable=False),
        sa.Column("pairs_sha256", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["index_sha256"],
            ["snapshot.sha256"],
            name=op.f("fk_linkage_run_index_sha256_snapshot"),
        ),
        sa.ForeignKeyConstraint(
            ["pairs_sha256"],
            ["snapshot.sha256"],
            name=op.f("fk_linkage_run_pairs_sha256_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_run")),
    )
    with op.batch_alter_table("linkage_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_linkage_run_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("linkage_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linkage_run_created_at"))
    op.drop_table("linkage_run")
