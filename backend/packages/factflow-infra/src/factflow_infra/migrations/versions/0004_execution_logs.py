"""Run logs: what each run's processors and adapters logged, with tracebacks.

``execution_logs`` holds one row per log record of a run, numbered ``seq``
1, 2, 3 … per execution by the process that runs it; it goes with its
execution (``ON DELETE CASCADE``).  A table of its own rather than rows of
``execution_events``: see docs/architecture.md, "Run logs".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from factflow_infra.db.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "execution_logs",
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("logger", sa.String(200), nullable=False),
        sa.Column("route", sa.String(200), nullable=True),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["pipeline_executions.id"],
            name=op.f("fk_execution_logs_execution_id_pipeline_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_id", "seq", name=op.f("pk_execution_logs")),
    )
    op.create_index(
        "ix_execution_logs_execution_id_message_id_seq",
        "execution_logs",
        ["execution_id", "message_id", "seq"],
    )


def downgrade() -> None:
    op.drop_index("ix_execution_logs_execution_id_message_id_seq", table_name="execution_logs")
    op.drop_table("execution_logs")
