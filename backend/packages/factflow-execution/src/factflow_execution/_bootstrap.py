"""The composition of an ``ExecutionService``: its default parts, and its run control.

``default_parts`` picks the parts settings name (``from_settings``);
``run_control`` wires the run controller and what works beside it - recovery
and heartbeats, the PostgreSQL control channel, the builder of orchestrators
and the run queue.
No I/O happens here; ``await service.startup()`` connects, recovers and starts
heartbeats.  (This module sits below ``_service``: it returns parts, the
service is built from them, so nothing imports the service back.)
"""

from __future__ import annotations

from dataclasses import dataclass

from factflow_engine import FileAccess, Registry, RouteDirectory
from factflow_foundation import FactFlowSettings
from factflow_infra import InProcessEventBus, queue_backend_from_settings
from factflow_infra.db import Database
from factflow_infra.storage import LocalFileStorage, StorageCommitter
from factflow_lineage import LineageRecorder
from factflow_protocols import EventBus, QueueBackend, StorageBackend

from factflow_execution._control import ControlChannel
from factflow_execution._events import EventLog
from factflow_execution._logs_writer import RunLogWriter
from factflow_execution._manager import OrchestratorManager
from factflow_execution._metrics import ExecutionMetrics
from factflow_execution._objects import storage_committer
from factflow_execution._orchestrators import (
    OrchestratorFactory,
    RunBuilder,
    pipeline_orchestrators,
)
from factflow_execution._owner import default_owner_id
from factflow_execution._queue import RunQueue
from factflow_execution._recovery import Recovery

__all__ = ["RunControl", "ServiceParts", "default_parts", "run_control"]


@dataclass(frozen=True)
class ServiceParts:
    db: Database
    bus: EventBus
    registry: Registry
    queues: QueueBackend
    storage: StorageBackend
    lineage: LineageRecorder
    directory: RouteDirectory
    metrics: ExecutionMetrics


def default_parts(
    settings: FactFlowSettings,
    *,
    db: Database | None = None,
    registry: Registry | None = None,
    bus: EventBus | None = None,
    queues: QueueBackend | None = None,
    owner_id: str | None = None,
) -> ServiceParts:
    """SQLite or PostgreSQL from settings, in-process bus and queues, local
    storage, batched lineage and the entry-point registry; given parts win.
    A database built here names its sessions after ``owner_id`` (recovery
    waits until a dead owner's last session is gone)."""
    database = db
    if database is None:
        database = Database.from_settings(settings)
        if owner_id is not None:
            database.name_sessions(owner_id)
    storage = LocalFileStorage(settings.resolved_storage_dir)
    metrics = ExecutionMetrics()
    return ServiceParts(
        db=database,
        bus=bus or InProcessEventBus(),
        registry=registry
        or Registry.from_entry_points(
            allow_import_paths=settings.allow_import_paths,
            file_access=FileAccess.under(settings.file_roots),
        ),
        queues=queues or queue_backend_from_settings(settings),
        storage=storage,
        lineage=LineageRecorder(
            database,
            batch_size=settings.lineage_batch_size,
            flush_interval=settings.lineage_flush_interval,
            storage=storage,
            on_batch=metrics.lineage_batch,
        ),
        directory=RouteDirectory(settings.routes, prefix=settings.queue_prefix),
        metrics=metrics,
    )


@dataclass(frozen=True)
class RunControl:
    manager: OrchestratorManager
    recovery: Recovery
    control: ControlChannel
    builder: RunBuilder
    commits: StorageCommitter
    logs: RunLogWriter
    queue: RunQueue


def run_control(
    settings: FactFlowSettings,
    *,
    db: Database,
    bus: EventBus,
    registry: Registry,
    queues: QueueBackend,
    storage: StorageBackend,
    lineage: LineageRecorder,
    owner_id: str | None,
    orchestrators: OrchestratorFactory | None,
    metrics: ExecutionMetrics,
) -> RunControl:
    """One run controller (and its event log, which names its owner as the origin
    of the events it writes) with recovery, the control channel, the builder and
    the writer of run logs and the run queue."""
    owner = owner_id or default_owner_id()
    events = EventLog(db, bus, origin=owner)
    manager = OrchestratorManager(
        events=events,
        lineage=lineage,
        capacity=settings.max_running_executions,
        owner_id=owner,
    )
    # Storage rows and their events in batches; lineage batches wait for them
    # (an entry saying a message was processed never outlives its objects).
    commits = storage_committer(db, storage, events)
    if isinstance(lineage, LineageRecorder):
        lineage.barrier = commits.flush
    logs = RunLogWriter(db, bus, origin=owner, max_records=settings.max_log_records)
    factory = orchestrators or pipeline_orchestrators(
        queues=queues,
        lineage=lineage,
        registry=registry,
        cancel_grace=settings.cancel_grace,
        progress_interval=settings.progress_interval,
    )
    builder = RunBuilder(
        db=db,
        storage=storage,
        queues=queues,
        registry=registry,
        events=manager.events,
        manager=manager,
        factory=factory,
        max_failure_events=settings.max_failure_events,
        committer=commits,
        logs=logs,
        metrics=metrics,
    )
    recovery = Recovery(
        db=db,
        manager=manager,
        storage=storage,
        heartbeat_interval=settings.heartbeat_interval,
        heartbeat_timeout=settings.heartbeat_timeout,
    )
    queue = RunQueue(db=db, manager=manager, build=builder.build)
    recovery.on_interrupted.append(queue.wake)
    return RunControl(
        manager=manager,
        recovery=recovery,
        control=ControlChannel(
            db=db,
            bus=bus,
            manager=manager,
            remote_cancel_timeout=settings.cancel_grace + settings.heartbeat_timeout + 5.0,
        ),
        builder=builder,
        commits=commits,
        logs=logs,
        queue=queue,
    )
