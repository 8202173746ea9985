"""Initial schema: configs, executions, lineage, storage objects, execution events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from factflow_infra.db.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


_SNAPSHOT_GUARD = (
    """
CREATE FUNCTION factflow_reject_snapshot_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pipeline_executions.config_snapshot is immutable (execution %)', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$
""",
    """
CREATE TRIGGER pipeline_executions_snapshot_immutable
    BEFORE UPDATE OF config_snapshot ON pipeline_executions
    FOR EACH ROW
    WHEN (OLD.config_snapshot IS DISTINCT FROM NEW.config_snapshot)
    EXECUTE FUNCTION factflow_reject_snapshot_update()
""",
)


def upgrade() -> None:
    op.create_table(
        "pipeline_configs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", _json(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_configs")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_pipeline_configs_name_version")),
    )
    op.create_table(
        "pipeline_executions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("config_id", sa.String(36), nullable=True),
        sa.Column("config_name", sa.String(200), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=True),
        sa.Column("config_snapshot", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("replay_source", _json(), nullable=True),
        sa.Column("parent_execution_id", sa.String(36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("stats", _json(), nullable=True),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("labels", _json(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("last_event_seq", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["pipeline_configs.id"],
            name=op.f("fk_pipeline_executions_config_id_pipeline_configs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_execution_id"],
            ["pipeline_executions.id"],
            name=op.f("fk_pipeline_executions_parent_execution_id_pipeline_executions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_executions")),
    )
    op.create_index(
        "ix_pipeline_executions_created_at_id", "pipeline_executions", ["created_at", "id"]
    )
    op.create_index(
        "ix_pipeline_executions_status_created_at_id",
        "pipeline_executions",
        ["status", "created_at", "id"],
    )
    op.create_index(
        "ix_pipeline_executions_config_name_created_at_id",
        "pipeline_executions",
        ["config_name", "created_at", "id"],
    )
    op.create_index(
        "ix_pipeline_executions_parent_execution_id",
        "pipeline_executions",
        ["parent_execution_id"],
    )
    op.create_table(
        "execution_events",
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["pipeline_executions.id"],
            name=op.f("fk_execution_events_execution_id_pipeline_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("execution_id", "seq", name=op.f("pk_execution_events")),
    )
    op.create_table(
        "lineage_records",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("parent_message_id", sa.String(36), nullable=True),
        sa.Column("origin_message_id", sa.String(36), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("outputs", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("payload", _json(), nullable=True),
        sa.Column("payload_ref", sa.String(1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["pipeline_executions.id"],
            name=op.f("fk_lineage_records_execution_id_pipeline_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_records")),
    )
    op.create_index(
        "ix_lineage_records_execution_id_route_status",
        "lineage_records",
        ["execution_id", "route", "status"],
    )
    op.create_index(
        "ix_lineage_records_execution_id_status", "lineage_records", ["execution_id", "status"]
    )
    op.create_index("ix_lineage_records_execution_id_id", "lineage_records", ["execution_id", "id"])
    op.create_index(
        "ix_lineage_records_execution_id_message_id",
        "lineage_records",
        ["execution_id", "message_id"],
    )
    op.create_index(
        "ix_lineage_records_execution_id_parent_message_id",
        "lineage_records",
        ["execution_id", "parent_message_id"],
    )
    op.create_table(
        "storage_objects",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("route", sa.String(200), nullable=True),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["pipeline_executions.id"],
            name=op.f("fk_storage_objects_execution_id_pipeline_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_objects")),
        sa.UniqueConstraint(
            "execution_id", "key", name=op.f("uq_storage_objects_execution_id_key")
        ),
    )
    op.create_index("ix_storage_objects_execution_id_id", "storage_objects", ["execution_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in _SNAPSHOT_GUARD:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP TRIGGER IF EXISTS pipeline_executions_snapshot_immutable ON pipeline_executions"
        )
        op.execute("DROP FUNCTION IF EXISTS factflow_reject_snapshot_update()")
    op.drop_table("storage_objects")
    op.drop_table("lineage_records")
    op.drop_table("execution_events")
    op.drop_table("pipeline_executions")
    op.drop_table("pipeline_configs")
