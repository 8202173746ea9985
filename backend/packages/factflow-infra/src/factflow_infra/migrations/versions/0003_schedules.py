"""Schedules, the fire times servers claimed, and the schedule of each run.

``schedules`` holds cron or interval triggers of stored configs; its
``next_fire_at`` is the scheduler's cursor.  ``schedule_fires`` records each
fire time claimed - its primary key (schedule, fire time) is what lets only
one of several servers sharing the database run it.  ``pipeline_executions``
gains ``schedule_id`` (no foreign key: the link outlives a deleted schedule,
like ``config_name``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from factflow_infra.db.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("config_name", sa.String(200), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=True),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=True),
        sa.Column("anchor", UTCDateTime(), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("labels", _json(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("catchup", sa.String(8), nullable=False),
        sa.Column("catchup_limit", sa.Integer(), nullable=False),
        sa.Column("misfire_grace_seconds", sa.Integer(), nullable=False),
        sa.Column("max_active_runs", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("next_fire_at", UTCDateTime(), nullable=True),
        sa.Column("last_fire_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    op.create_index("ix_schedules_next_fire_at", "schedules", ["next_fire_at"])
    op.create_table(
        "schedule_fires",
        sa.Column("schedule_id", sa.String(36), nullable=False),
        sa.Column("fire_time", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_fires_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "fire_time", name=op.f("pk_schedule_fires")),
    )
    op.add_column("pipeline_executions", sa.Column("schedule_id", sa.String(36), nullable=True))
    op.create_index(
        "ix_pipeline_executions_schedule_id_status",
        "pipeline_executions",
        ["schedule_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_pipeline_executions_schedule_id_status", "pipeline_executions")
    with op.batch_alter_table("pipeline_executions") as batch:
        batch.drop_column("schedule_id")
    op.drop_table("schedule_fires")
    op.drop_index("ix_schedules_next_fire_at", "schedules")
    op.drop_table("schedules")
