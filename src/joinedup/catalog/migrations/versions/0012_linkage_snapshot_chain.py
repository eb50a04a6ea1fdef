"""linkage: a run's pairs and records may be a delta on its parent's (a snapshot chain)

Revision ID: 0012_linkage_snapshot_chain
Revises: 0011_insight_areas
Create Date: 2026-12-03 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_linkage_snapshot_chain"
down_revision: str | None = "0011_insight_areas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("linkage_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tombstones_sha256", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_linkage_run_tombstones_sha256_snapshot"),
            "snapshot",
            ["tombstones_sha256"],
            ["sha256"],
        )


def downgrade() -> None:
    with op.batch_alter_table("linkage_run", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_linkage_run_tombstones_sha256_snapshot"), type_="foreignkey"
        )
        batch_op.drop_column("tombstones_sha256")
