"""Database access: engines, transactions, the schema and migrations."""

from factflow_infra.db.database import Database, display_url, normalise_url
from factflow_infra.db.errors import (
    DatabaseUnavailableError,
    DatabaseValueError,
    translate_driver_error,
)
from factflow_infra.db.migrations import current_revision, head_revision, upgrade_to_head
from factflow_infra.db.schema import (
    config_limits,
    execution_events,
    execution_logs,
    lineage_records,
    lineage_records_totals,
    metadata,
    pipeline_configs,
    pipeline_executions,
    run_queue,
    schedule_fires,
    schedules,
    storage_objects,
)

__all__ = [
    "Database",
    "DatabaseUnavailableError",
    "DatabaseValueError",
    "config_limits",
    "current_revision",
    "display_url",
    "execution_events",
    "execution_logs",
    "head_revision",
    "lineage_records",
    "lineage_records_totals",
    "metadata",
    "normalise_url",
    "pipeline_configs",
    "pipeline_executions",
    "run_queue",
    "schedule_fires",
    "schedules",
    "storage_objects",
    "translate_driver_error",
    "upgrade_to_head",
]
