"""The run queue and per-config concurrency limits.

``run_queue`` holds one row per ``pending`` execution waiting for a slot: any
server sharing the database claims the first eligible row (highest
``priority``, then lowest ``seq``) in the transaction that starts the run and
deletes the row.  ``config_limits`` caps how many executions of a config run
at once across every server.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from factflow_infra.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _big_id() -> sa.types.TypeEngine[Any]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "run_queue",
        sa.Column("seq", _big_id(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("config_name", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("enqueued_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["pipeline_executions.id"],
            name=op.f("fk_run_queue_execution_id_pipeline_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_run_queue")),
        sa.UniqueConstraint("execution_id", name=op.f("uq_run_queue_execution_id")),
    )
    op.create_table(
        "config_limits",
        sa.Column("config_name", sa.String(200), nullable=False),
        sa.Column("max_running", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("config_name", name=op.f("pk_config_limits")),
    )


def downgrade() -> None:
    op.drop_table("config_limits")
    op.drop_table("run_queue")
