"""rights: disputes (rectification), in-app notifications, released subject access exports

Revision ID: 0010_rights
Revises: 0009_publish
Create Date: 2026-12-02 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0010_rights"
down_revision: str | None = "0009_publish"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = joinedup.catalog.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rights_dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=120), nullable=False),
        sa.Column("source_record_id", sa.String(length=120), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_dispute_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_rights_dispute_recorded_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["app_user.id"],
            name=op.f("fk_rights_dispute_resolved_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_dispute")),
    )
    with op.batch_alter_table("rights_dispute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_dispute_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_dispute_resident_id"), ["resident_id"], unique=False
        )
    op.create_table(
        "rights_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("link", sa.String(length=255), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("read_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["rights_dispute.id"],
            name=op.f("fk_rights_notification_dispute_id_rights_dispute"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_rights_notification_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_notification")),
    )
    with op.batch_alter_table("rights_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_notification_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_notification_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "rights_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.Column("redactions", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_rights_export_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_sha256"],
            ["snapshot.sha256"],
            name=op.f("fk_rights_export_snapshot_sha256_snapshot"),
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["app_user.id"],
            name=op.f("fk_rights_export_released_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_export")),
    )
    with op.batch_alter_table("rights_export", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rights_export_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rights_export_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    for table, indexes in (
        ("rights_export", ("resident_id", "created_at")),
        ("rights_notification", ("user_id", "created_at")),
        ("rights_dispute", ("resident_id", "organisation_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
