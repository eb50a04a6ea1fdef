"""publish: publications and their releases

Revision ID: 0009_publish
Revises: 0008 (0008_insight; the lead rechains it at merge)
Create Date: 2026-12-02 17:48:25.980027
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0009_publish"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_publication_created_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint("name", name=op.f("uq_publication_name")),
    )
    op.create_table(
        "publication_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("table_sha256", sa.String(length=64), nullable=False),
        sa.Column("csv_sha256", sa.String(length=64), nullable=False),
        sa.Column("csv_bytes", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("descriptor", sa.JSON(), nullable=False),
        sa.Column("disclosure", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_publication_release_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["app_user.id"],
            name=op.f("fk_publication_release_decided_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=op.f("fk_publication_release_publication_id_publication"),
        ),
        sa.ForeignKeyConstraint(
            ["table_sha256"],
            ["snapshot.sha256"],
            name=op.f("fk_publication_release_table_sha256_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_release")),
        sa.UniqueConstraint(
            "publication_id", "version", name=op.f("uq_publication_release_publication_id_version")
        ),
    )
    with op.batch_alter_table("publication_release", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publication_release_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_publication_release_publication_id"), ["publication_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("publication_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publication_release_publication_id"))
        batch_op.drop_index(batch_op.f("ix_publication_release_created_at"))

    op.drop_table("publication_release")
    op.drop_table("publication")
