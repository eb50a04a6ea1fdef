"""ingest: layouts remembered (ingest_layout), a data owner's accepted mapping per layout
fingerprint of an organisation's dataset

Revision ID: 0014_ingest_layouts
Revises: 0013_purpose_grants
Create Date: 2026-12-07 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0014_ingest_layouts"
down_revision: str | None = "0013_purpose_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_layout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=120), nullable=False),
        sa.Column("standard", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("accepted_by", sa.String(length=120), nullable=False),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["app_user.id"],
            name=op.f("fk_ingest_layout_accepted_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_ingest_layout_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_layout")),
        sa.UniqueConstraint(
            "organisation_id",
            "dataset",
            "fingerprint",
            name=op.f("uq_ingest_layout_organisation_id_dataset_fingerprint"),
        ),
    )
    op.create_index(
        op.f("ix_ingest_layout_organisation_id"), "ingest_layout", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ingest_layout_organisation_id"), table_name="ingest_layout")
    op.drop_table("ingest_layout")
