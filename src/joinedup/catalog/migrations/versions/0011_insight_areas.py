"""insight areas: boundaries, area/month aggregation runs, interventions

Revision ID: 0011_insight_areas
Revises: 0010_rights
Create Date: 2026-12-02 18:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import joinedup.catalog.types

revision: str = "0011_insight_areas"
down_revision: str | None = "0010_rights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", joinedup.catalog.types.UTCDateTime(timezone=True), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "area_boundary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("source_filename", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("code_property", sa.String(length=32), nullable=False),
        sa.Column("name_property", sa.String(length=32), nullable=True),
        sa.Column("loaded_by", sa.String(length=120), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["snapshot_sha256"],
            ["snapshot.sha256"],
            name=op.f("fk_area_boundary_snapshot_sha256_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_boundary")),
    )
    op.create_index(op.f("ix_area_boundary_level"), "area_boundary", ["level"])
    op.create_index(op.f("ix_area_boundary_created_at"), "area_boundary", ["created_at"])
    op.create_table(
        "insight_area_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("linkage_run_id", sa.Integer(), nullable=False),
        sa.Column("trends_sha256", sa.String(length=64), nullable=False),
        sa.Column("fairness_sha256", sa.String(length=64), nullable=False),
        sa.Column("first_month", sa.String(length=7), nullable=False),
        sa.Column("last_month", sa.String(length=7), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["linkage_run_id"],
            ["linkage_run.id"],
            name=op.f("fk_insight_area_run_linkage_run_id_linkage_run"),
        ),
        sa.ForeignKeyConstraint(
            ["trends_sha256"],
            ["snapshot.sha256"],
            name=op.f("fk_insight_area_run_trends_sha256_snapshot"),
        ),
        sa.ForeignKeyConstraint(
            ["fairness_sha256"],
            ["snapshot.sha256"],
            name=op.f("fk_insight_area_run_fairness_sha256_snapshot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_area_run")),
    )
    op.create_index(
        op.f("ix_insight_area_run_linkage_run_id"), "insight_area_run", ["linkage_run_id"]
    )
    op.create_index(op.f("ix_insight_area_run_created_at"), "insight_area_run", ["created_at"])
    op.create_table(
        "insight_intervention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("start_month", sa.String(length=7), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("comparison", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_intervention")),
        sa.UniqueConstraint("name", name=op.f("uq_insight_intervention_name")),
    )
    op.create_index(
        op.f("ix_insight_intervention_created_at"), "insight_intervention", ["created_at"]
    )


def downgrade() -> None:
    op.drop_table("insight_intervention")
    op.drop_table("insight_area_run")
    op.drop_table("area_boundary")
