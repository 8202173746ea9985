"""Building the orchestrator of an execution from its row.

The ``OrchestratorManager`` drives anything that keeps the ``Orchestrator``
contract (``factflow_protocols``); which one is built is a seam:
``pipeline_orchestrators`` makes real ``PipelineOrchestrator``s, and tests pass
a factory of ``factflow_engine.testing.ScriptedOrchestrator``s to exercise run
control without running processors.  ``RunBuilder`` does what is the same for
both: the pipeline from the snapshot, the replayed messages or the resume plan,
the callback and the execution's storage (writing through the process's group
commit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from factflow_engine import PipelineOrchestrator, Registry, ResolvedPipeline, ResumePlan
from factflow_foundation import get_logger
from factflow_infra.db import Database
from factflow_infra.storage import ExecutionStorageService, StorageCommitter
from factflow_protocols import (
    ExecutionStorage,
    LineageSink,
    Message,
    Orchestrator,
    OrchestratorCallback,
    QueueBackend,
    RunLogSink,
    StorageBackend,
)

from factflow_execution._callbacks import ExecutionStatusCallbackAdapter
from factflow_execution._events import EventLog
from factflow_execution._logs_writer import RunLogWriter
from factflow_execution._manager import OrchestratorManager
from factflow_execution._metrics import ExecutionMetrics, TimedStorage
from factflow_execution._models import ConfigSourceType, PipelineExecution, ReplaySource
from factflow_execution._replay import replay_messages, select_replay_records
from factflow_execution._repositories import PipelineExecutionRepository
from factflow_execution._resume import plan_resume

__all__ = ["OrchestratorFactory", "OrchestratorRequest", "RunBuilder", "pipeline_orchestrators"]


@dataclass(frozen=True)
class OrchestratorRequest:
    """Everything an orchestrator of one execution is built from."""

    execution_id: str
    pipeline: ResolvedPipeline
    queue_names: Mapping[str, str]
    callback: OrchestratorCallback
    storage: ExecutionStorage
    initial_messages: Sequence[Message] | None = None
    resume: ResumePlan | None = None
    logs: RunLogSink | None = None


class OrchestratorFactory(Protocol):
    """Builds the ``Orchestrator`` of one execution (no task starts until ``start``)."""

    def __call__(self, request: OrchestratorRequest) -> Orchestrator: ...


def pipeline_orchestrators(
    *,
    queues: QueueBackend,
    lineage: LineageSink,
    registry: Registry,
    cancel_grace: float,
    progress_interval: float,
) -> OrchestratorFactory:
    """A factory of real ``PipelineOrchestrator``s sharing these parts."""

    def build(request: OrchestratorRequest) -> Orchestrator:
        return PipelineOrchestrator(
            request.execution_id,
            request.pipeline,
            queue_names=request.queue_names,
            queues=queues,
            lineage=lineage,
            storage=request.storage,
            callback=request.callback,
            registry=registry,
            cancel_grace=cancel_grace,
            progress_interval=progress_interval,
            initial_messages=request.initial_messages,
            resume=request.resume,
            logger=get_logger(f"factflow.run.{request.execution_id[:13]}"),
            logs=request.logs,
        )

    return build


class RunBuilder:
    """Builds the orchestrator of an execution row (no task starts here)."""

    def __init__(
        self,
        *,
        db: Database,
        storage: StorageBackend,
        queues: QueueBackend,
        registry: Registry,
        events: EventLog,
        manager: OrchestratorManager,
        factory: OrchestratorFactory,
        max_failure_events: int,
        committer: StorageCommitter,
        logs: RunLogWriter | None = None,
        metrics: ExecutionMetrics | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._storage = storage
        self._queues = queues
        self._registry = registry
        self._events = events
        self._manager = manager
        self._factory = factory
        self._max_failure_events = max_failure_events
        self._committer = committer
        self._logs = logs

    async def build(self, execution: PipelineExecution) -> Orchestrator:
        """The orchestrator for ``execution``; raises when its pipeline cannot be built."""
        snapshot = execution.config_snapshot
        pipeline = ResolvedPipeline.from_snapshot(
            snapshot["definition"], snapshot.get("params") or {}, registry=self._registry
        )
        initial: list[Message] | None = None
        resume: ResumePlan | None = None
        if execution.replay_source is not None:
            initial = await self._replay_messages(execution.id, execution.replay_source)
        elif execution.source == ConfigSourceType.RESUME:
            async with self._db.connect() as conn:
                resume = await plan_resume(
                    conn, execution, storage=self._storage, queues=self._queues
                )
        callback = ExecutionStatusCallbackAdapter(
            execution.id,
            events=self._events,
            manager=self._manager,
            max_failure_events=self._max_failure_events,
            meter=self._metrics.meter(execution.config_name) if self._metrics else None,
        )
        storage: ExecutionStorage = ExecutionStorageService(
            self._db, self._storage, execution.id, committer=self._committer
        )
        if self._metrics is not None:
            storage = TimedStorage(storage, self._metrics.storage_write)
        logs = self._logs.open(execution.id) if self._logs is not None else None
        return self._factory(
            OrchestratorRequest(
                execution.id,
                pipeline,
                snapshot["directory"],
                callback,
                storage,
                initial,
                resume,
                logs,
            )
        )

    async def _replay_messages(self, execution_id: str, selection: ReplaySource) -> list[Message]:
        async with self._db.connect() as conn:
            parent = await PipelineExecutionRepository(conn).get(selection.parent_execution_id)
            records = await select_replay_records(conn, parent, selection)
        return await replay_messages(records, execution_id, self._storage)
