"""The composition root of the execution tier: build an ``ExecutionService``.

No I/O happens here; ``await service.startup()`` connects, recovers and starts
heartbeats.
"""

from __future__ import annotations

from factflow_engine import Registry, RouteDirectory
from factflow_foundation import FactFlowSettings
from factflow_infra import InProcessEventBus, queue_backend_from_settings
from factflow_infra.db import Database
from factflow_infra.storage import LocalFileStorage
from factflow_lineage import LineageRecorder
from factflow_protocols import EventBus, QueueBackend

from factflow_execution._manager import OrchestratorManager
from factflow_execution._service import ExecutionService

__all__ = ["build_execution_service"]


def build_execution_service(
    settings: FactFlowSettings,
    *,
    db: Database | None = None,
    registry: Registry | None = None,
    bus: EventBus | None = None,
    queues: QueueBackend | None = None,
    owner_id: str | None = None,
) -> ExecutionService:
    """Wire the default parts (SQLite or PostgreSQL from settings, in-process bus
    and queues, local storage, batched lineage) into a service."""
    database = db or Database.from_settings(settings)
    storage = LocalFileStorage(settings.resolved_storage_dir)
    return ExecutionService(
        settings=settings,
        db=database,
        bus=bus or InProcessEventBus(),
        registry=registry
        or Registry.from_entry_points(allow_import_paths=settings.allow_import_paths),
        queues=queues or queue_backend_from_settings(settings),
        storage=storage,
        lineage=LineageRecorder(
            database,
            batch_size=settings.lineage_batch_size,
            flush_interval=settings.lineage_flush_interval,
            storage=storage,
        ),
        manager=OrchestratorManager(capacity=settings.max_running_executions, owner_id=owner_id),
        directory=RouteDirectory(settings.routes, prefix=settings.queue_prefix),
    )
