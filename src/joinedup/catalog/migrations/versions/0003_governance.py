"""governance: purposes, agreements, tokens, login attempts, objections

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:44:38.319778
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=120), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempt_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_remote"), ["remote"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_username"), ["username"], unique=False)

    op.create_table(
        "purpose",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lawful_basis", sa.String(length=200), nullable=False),
        sa.Column("special_category_condition", sa.String(length=300), nullable=True),
        sa.Column("objection_allowed", sa.Boolean(), nullable=False),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purpose")),
        sa.UniqueConstraint("code", name=op.f("uq_purpose_code")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_api_token_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_token_prefix")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("dataset", sa.String(length=120), nullable=True),
        sa.Column("source_record_id", sa.String(length=120), nullable=True),
        sa.Column("purpose_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_objection_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purpose.id"], name=op.f("fk_objection_purpose_id_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["app_user.id"], name=op.f("fk_objection_recorded_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"], ["app_user.id"], name=op.f("fk_objection_withdrawn_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection")),
    )
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objection_resident_id"), ["resident_id"], unique=False)

    op.create_table(
        "sharing_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lawful_basis", sa.String(length=200), nullable=False),
        sa.Column("special_category_condition", sa.String(length=300), nullable=True),
        sa.Column("dpia_reference", sa.String(length=120), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("retention", sa.String(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_sharing_agreement_created_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_agreement")),
        sa.UniqueConstraint("reference", name=op.f("uq_sharing_agreement_reference")),
    )
    op.create_table(
        "agreement_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("approved_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreement.id"],
            name=op.f("fk_agreement_approval_agreement_id_sharing_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_agreement_approval_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_agreement_approval_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_approval")),
        sa.UniqueConstraint(
            "agreement_id",
            "organisation_id",
            name=op.f("uq_agreement_approval_agreement_id_organisation_id"),
        ),
    )
    with op.batch_alter_table("agreement_approval", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_approval_agreement_id"), ["agreement_id"], unique=False
        )

    op.create_table(
        "agreement_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=120), nullable=True),
        sa.Column("standard", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreement.id"],
            name=op.f("fk_agreement_data_agreement_id_sharing_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_agreement_data_provider_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_data")),
    )
    with op.batch_alter_table("agreement_data", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_data_agreement_id"), ["agreement_id"], unique=False
        )

    op.create_table(
        "agreement_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreement.id"],
            name=op.f("fk_agreement_event_agreement_id_sharing_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_agreement_event_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_event")),
    )
    with op.batch_alter_table("agreement_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_event_agreement_id"), ["agreement_id"], unique=False
        )

    op.create_table(
        "agreement_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreement.id"],
            name=op.f("fk_agreement_party_agreement_id_sharing_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_agreement_party_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_party")),
        sa.UniqueConstraint(
            "agreement_id",
            "organisation_id",
            "role",
            name=op.f("uq_agreement_party_agreement_id_organisation_id_role"),
        ),
    )
    with op.batch_alter_table("agreement_party", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_party_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_party_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "agreement_purpose",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("purpose_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreement.id"],
            name=op.f("fk_agreement_purpose_agreement_id_sharing_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purpose.id"], name=op.f("fk_agreement_purpose_purpose_id_purpose")
        ),
        sa.PrimaryKeyConstraint("agreement_id", "purpose_id", name=op.f("pk_agreement_purpose")),
    )


def downgrade() -> None:
    op.drop_table("agreement_purpose")
    with op.batch_alter_table("agreement_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_party_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_party_agreement_id"))

    op.drop_table("agreement_party")
    with op.batch_alter_table("agreement_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_event_agreement_id"))

    op.drop_table("agreement_event")
    with op.batch_alter_table("agreement_data", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_data_agreement_id"))

    op.drop_table("agreement_data")
    with op.batch_alter_table("agreement_approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_approval_agreement_id"))

    op.drop_table("agreement_approval")
    op.drop_table("sharing_agreement")
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_resident_id"))

    op.drop_table("objection")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("purpose")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_username"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_remote"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_at"))

    op.drop_table("login_attempt")
