"""dataset version ingest results

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:11:40.901276
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarantine_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("accepted_rows", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("rejected_rows", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("mapping_name", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_version_quarantine_sha256_snapshot"),
            "snapshot",
            ["quarantine_sha256"],
            ["sha256"],
        )


def downgrade() -> None:
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dataset_version_quarantine_sha256_snapshot"), type_="foreignkey"
        )
        batch_op.drop_column("mapping_name")
        batch_op.drop_column("rejected_rows")
        batch_op.drop_column("accepted_rows")
        batch_op.drop_column("quarantine_sha256")
