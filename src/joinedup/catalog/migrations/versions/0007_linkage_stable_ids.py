"""linkage: incremental runs, the prepared-records snapshot, and resident id movements

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("linkage_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="full")
        )
        batch_op.add_column(sa.Column("parent_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("records_sha256", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_linkage_run_records_sha256_snapshot"),
            "snapshot",
            ["records_sha256"],
            ["sha256"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_linkage_run_parent_run_id_linkage_run"),
            "linkage_run",
            ["parent_run_id"],
            ["id"],
        )
    op.create_table(
        "linkage_id_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("resident_id", sa.String(length=32), nullable=False),
        sa.Column("related", sa.JSON(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["linkage_run.id"], name=op.f("fk_linkage_id_event_run_id_linkage_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_id_event")),
    )
    with op.batch_alter_table("linkage_id_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_linkage_id_event_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_linkage_id_event_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("linkage_id_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linkage_id_event_resident_id"))
        batch_op.drop_index(batch_op.f("ix_linkage_id_event_run_id"))
    op.drop_table("linkage_id_event")
    with op.batch_alter_table("linkage_run", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_linkage_run_parent_run_id_linkage_run"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_linkage_run_records_sha256_snapshot"), type_="foreignkey"
        )
        batch_op.drop_column("records_sha256")
        batch_op.drop_column("parent_run_id")
        batch_op.drop_column("kind")
