"""The one FactFlow schema (SQLAlchemy Core), shared by every tier above infra.

Tables (DESIGN §3): ``pipeline_configs``, ``pipeline_executions``,
``lineage_records``, ``storage_objects`` and ``execution_events``; plus
``lineage_records_totals``, per-(execution, route, status) totals of
``lineage_records`` kept by the lineage writer in the same transaction as the
rows, so live stats read a few rows instead of aggregating millions; and
``schedules`` with ``schedule_fires``, one row per fire time claimed (its
primary key is what makes a fire time run once across servers);
``execution_logs``, what a run's processors and adapters logged (its own
table, not ``execution_events``: see docs/architecture.md, "Run logs");
``run_queue``, the ``pending`` runs waiting for a slot (any server claims
them, FIFO by ``seq`` within a priority); and ``config_limits``, per-config
concurrency limits that hold across servers.  Alembic
migrations under ``factflow_infra/migrations`` create exactly this; a test
proves autogenerate finds no difference.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from factflow_infra.db.types import JSONType, UTCDateTime

__all__ = [
    "config_limits",
    "execution_events",
    "execution_logs",
    "lineage_records",
    "lineage_records_totals",
    "metadata",
    "pipeline_configs",
    "pipeline_executions",
    "run_queue",
    "schedule_fires",
    "schedules",
    "storage_objects",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has no BIGINT autoincrement; INTEGER PRIMARY KEY is its rowid alias.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

pipeline_configs = Table(
    "pipeline_configs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSONType, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("archived_at", UTCDateTime, nullable=True),
    UniqueConstraint("name", "version"),
)

pipeline_executions = Table(
    "pipeline_executions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "config_id",
        String(36),
        ForeignKey("pipeline_configs.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("config_name", String(200), nullable=False),
    Column("config_version", Integer, nullable=True),
    Column("config_snapshot", JSONType, nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("replay_source", JSONType, nullable=True),
    Column(
        "parent_execution_id",
        String(36),
        ForeignKey("pipeline_executions.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Column("stats", JSONType, nullable=True),
    Column("owner", String(100), nullable=True),
    Column("heartbeat_at", UTCDateTime, nullable=True),
    Column("labels", JSONType, nullable=False, server_default=text("'{}'")),
    Column("last_event_seq", Integer, nullable=False, server_default=text("0")),
    # The schedule that fired the run; no foreign key, like config_name: the
    # link outlives a deleted schedule.
    Column("schedule_id", String(36), nullable=True),
    # B-tree indexes are walked backwards for ORDER BY created_at DESC, id DESC.
    Index("ix_pipeline_executions_created_at_id", "created_at", "id"),
    Index("ix_pipeline_executions_status_created_at_id", "status", "created_at", "id"),
    Index("ix_pipeline_executions_config_name_created_at_id", "config_name", "created_at", "id"),
    Index("ix_pipeline_executions_parent_execution_id", "parent_execution_id"),
    Index("ix_pipeline_executions_schedule_id_status", "schedule_id", "status"),
)

lineage_records = Table(
    "lineage_records",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column(
        "execution_id",
        String(36),
        ForeignKey("pipeline_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("message_id", String(36), nullable=False),
    Column("parent_message_id", String(36), nullable=True),
    Column("origin_message_id", String(36), nullable=False),
    Column("route", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("duration_ms", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("outputs", Integer, nullable=False, server_default=text("0")),
    Column("payload", JSONType, nullable=True),
    Column("payload_ref", String(1024), nullable=True),
    Index("ix_lineage_records_execution_id_route_status", "execution_id", "route", "status"),
    Index("ix_lineage_records_execution_id_status", "execution_id", "status"),
    Index("ix_lineage_records_execution_id_id", "execution_id", "id"),
    Index("ix_lineage_records_execution_id_message_id", "execution_id", "message_id"),
    Index("ix_lineage_records_execution_id_parent_message_id", "execution_id", "parent_message_id"),
)

# Totals of ``lineage_records`` per (execution, route, status), upserted by the
# lineage writer in each batch's transaction: always equal to aggregating the rows.
lineage_records_totals = Table(
    "lineage_records_totals",
    metadata,
    Column(
        "execution_id",
        String(36),
        ForeignKey("pipeline_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("route", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("roots", BigInteger, nullable=False),
    Column("duration_ms_total", Float, nullable=False),
    Column("duration_count", BigInteger, nullable=False),
    Column("duration_ms_max", Float, nullable=True),
    Column("first_started_at", UTCDateTime, nullable=True),
    Column("last_finished_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("execution_id", "route", "status"),
)

storage_objects = Table(
    "storage_objects",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column(
        "execution_id",
        String(36),
        ForeignKey("pipeline_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(1024), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("route", String(200), nullable=True),
    Column("message_id", String(36), nullable=True),
    Column("written_at", UTCDateTime, nullable=False),
    UniqueConstraint("execution_id", "key"),
    Index("ix_storage_objects_execution_id_id", "execution_id", "id"),
)

execution_events = Table(
    "execution_events",
    metadata,
    Column(
        "execution_id",
        String(36),
        ForeignKey("pipeline_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("data", JSONType, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("execution_id", "seq"),
)

# One row per log record of a run, ``seq`` 1, 2, 3 … per execution (given by
# the process that runs it, written in batches in seq order).
execution_logs = Table(
    "execution_logs",
    metadata,
    Column(
        "execution_id",
        String(36),
        ForeignKey("pipeline_executions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("level", Integer, nullable=False),
    Column("logger", String(200), nullable=False),
    Column("route", String(200), nullable=True),
    Column("message_id", String(36), nullable=True),
    Column("attempt", Integer, nullable=True),
    Column("message", Text, nullable=False),
    Column("traceback", Text, nullable=True),
    PrimaryKeyConstraint("execution_id", "seq"),
    Index("ix_execution_logs_execution_id_message_id_seq", "execution_id", "message_id", "seq"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("config_name", String(200), nullable=False),
    Column("config_version", Integer, nullable=True),
    Column("cron", String(200), nullable=True),
    Column("interval_seconds", Integer, nullable=True),
    Column("anchor", UTCDateTime, nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("params", JSONType, nullable=False),
    Column("labels", JSONType, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("catchup", String(8), nullable=False),
    Column("catchup_limit", Integer, nullable=False),
    Column("misfire_grace_seconds", Integer, nullable=False),
    Column("max_active_runs", Integer, nullable=True),
    Column("description", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The next fire time not yet claimed: the scheduler's cursor, advanced in the
    # transaction that claims a fire.  NULL while paused.
    Column("next_fire_at", UTCDateTime, nullable=True),
    Column("last_fire_at", UTCDateTime, nullable=True),
    Index("ix_schedules_next_fire_at", "next_fire_at"),
)

# One row per fire time a server claimed, written in the claiming transaction
# (with the execution it created); the primary key forbids a second claim.
schedule_fires = Table(
    "schedule_fires",
    metadata,
    Column(
        "schedule_id",
        String(36),
        ForeignKey("schedules.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("fire_time", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("execution_id", String(36), nullable=True),
    Column("reason", Text, nullable=True),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("claimed_by", String(100), nullable=False),
    PrimaryKeyConstraint("schedule_id", "fire_time"),
)

# The run queue: one row per ``pending`` execution waiting for a slot.  Any
# server claims the first eligible row (priority DESC, seq) in the transaction
# that moves the execution to ``running`` and deletes the row; on PostgreSQL
# with ``FOR UPDATE SKIP LOCKED``, so each queued run starts exactly once.
run_queue = Table(
    "run_queue",
    metadata,
    Column("seq", _BigId, primary_key=True, autoincrement=True),
    Column(
        "execution_id",
        String(36),
        ForeignKey("pipeline_executions.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("config_name", String(200), nullable=False),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("enqueued_at", UTCDateTime, nullable=False),
)

# Per-config concurrency limits: at most ``max_running`` executions of the
# config are ``running`` at once, across every server.  Each start of a limited
# config locks its row first, so two servers cannot both take the last slot.
config_limits = Table(
    "config_limits",
    metadata,
    Column("config_name", String(200), primary_key=True),
    Column("max_running", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
