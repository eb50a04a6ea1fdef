"""governance: the register of purpose grants (which roles may act under which purpose), and
a party's withdrawal from an agreement (agreement_party.withdrawn_at)

Existing homes get the default grants for the purposes they have registered, so that nobody
loses a purpose their work needs; ``fraud-prevention`` stays ungranted until a data owner or
DPO grants it (see joinedup.governance.grants).

Revision ID: 0013_purpose_grants
Revises: 0012_linkage_snapshot_chain
Create Date: 2026-12-07 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0013_purpose_grants"
down_revision: str | None = "0012_linkage_snapshot_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: A copy of joinedup.governance.grants.DEFAULT_GRANTS as it was at this revision.
DEFAULTS = {
    "fsm": ("data_owner", "analyst", "caseworker"),
    "early-help": ("data_owner", "analyst", "caseworker"),
    "statistics": ("data_owner", "analyst"),
    "linkage": ("data_owner", "analyst"),
    "subject-access": ("dpo",),
}


def upgrade() -> None:
    grant = op.create_table(
        "purpose_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("granted_by", sa.String(length=120), nullable=False),
        sa.Column("granted_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_purpose_grant_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["purpose_id"], ["purpose.id"], name=op.f("fk_purpose_grant_purpose_id_purpose")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purpose_grant")),
        sa.UniqueConstraint(
            "purpose_id",
            "role",
            "organisation_id",
            name=op.f("uq_purpose_grant_purpose_id_role_organisation_id"),
        ),
    )
    op.create_index(
        op.f("ix_purpose_grant_purpose_id"), "purpose_grant", ["purpose_id"], unique=False
    )
    bind = op.get_bind()
    purposes: dict[str, int] = {
        str(code): int(pk) for code, pk in bind.execute(sa.text("SELECT code, id FROM purpose"))
    }
    now = datetime.now(UTC)
    rows = [
        {
            "purpose_id": purposes[code],
            "role": role,
            "organisation_id": None,
            "granted_by": "migration 0013",
            "granted_at": now,
        }
        for code, roles in DEFAULTS.items()
        if code in purposes
        for role in roles
    ]
    if rows:
        op.bulk_insert(grant, rows)
    with op.batch_alter_table("agreement_party", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "withdrawn_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_party", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
    op.drop_index(op.f("ix_purpose_grant_purpose_id"), table_name="purpose_grant")
    op.drop_table("purpose_grant")
