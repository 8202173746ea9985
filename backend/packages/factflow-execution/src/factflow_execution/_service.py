"""``ExecutionService``: the canonical entry point for configs and executions.

The REST API maps almost one to one onto these methods.  The service keeps
configs, creates executions, starts them through the run controller's
admission (``OrchestratorManager``), dispatches cancels (to the local run, to
the owning process, or straight to the row when nobody runs it) and reads.
All in-process run state lives in the manager; every status change goes
through ``_transitions.transition``.  Nothing here does I/O at construction:
build it with ``ExecutionService.from_settings`` and call ``startup()`` /
``shutdown()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from factflow_engine import ConfigGate, Registry, RouteDirectory
from factflow_foundation import FactFlowSettings, get_logger, new_id
from factflow_infra.db import Database, upgrade_to_head
from factflow_lineage import LineageRecorder
from factflow_protocols import EventBus, QueueBackend, StorageBackend
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._bootstrap import default_parts, run_control
from factflow_execution._configs import ConfigCatalogue
from factflow_execution._errors import IllegalTransitionError
from factflow_execution._events import EventKind
from factflow_execution._manager import Admission
from factflow_execution._metrics import ExecutionMetrics
from factflow_execution._models import (
    ConfigSourceType,
    PipelineConfig,
    PipelineExecution,
    ReplaySource,
)
from factflow_execution._objects import remove_unrecorded
from factflow_execution._orchestrators import OrchestratorFactory
from factflow_execution._owner import default_owner_id
from factflow_execution._queue_models import ConfigLimitReachedError
from factflow_execution._queue_repository import ConfigLimitRepository, enqueue
from factflow_execution._reads import ExecutionReads, source_type
from factflow_execution._replay import select_replay_records
from factflow_execution._repositories import (
    PipelineConfigRepository,
    PipelineExecutionRepository,
)
from factflow_execution._resume import add_resume, check_resumable
from factflow_execution._retention import Retention
from factflow_execution._runs import StopKind
from factflow_execution._schedules_loop import Scheduler
from factflow_execution._schedules_service import ScheduleService
from factflow_execution._snapshots import config_snapshot
from factflow_execution._transitions import Applied, Refused, transition

__all__ = ["ExecutionService"]

_log = get_logger("factflow.execution.service")

# A cancel re-reads the row after each move it loses; a row moves at most twice
# (pending → running → terminal), so three looks always settle it.
_CANCEL_LOOKS = 3


class ExecutionService(ConfigCatalogue, ExecutionReads):
    """Create, start, cancel, list, wait on, stream, replay and resume executions."""

    def __init__(
        self,
        *,
        settings: FactFlowSettings,
        db: Database,
        bus: EventBus,
        registry: Registry,
        queues: QueueBackend,
        storage: StorageBackend,
        lineage: LineageRecorder,
        directory: RouteDirectory,
        owner_id: str | None = None,
        orchestrators: OrchestratorFactory | None = None,
        metrics: ExecutionMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or ExecutionMetrics()
        self.registry = registry
        self.queues = queues
        self.lineage = lineage
        self.directory = directory
        self.config_gate = ConfigGate.from_settings(registry, settings)
        wired = run_control(
            settings,
            db=db,
            bus=bus,
            registry=registry,
            queues=queues,
            storage=storage,
            lineage=lineage,
            owner_id=owner_id,
            orchestrators=orchestrators,
            metrics=self.metrics,
        )
        super().__init__(db=db, bus=bus, storage=storage, manager=wired.manager)
        self.event_log = wired.manager.events
        self.recovery = wired.recovery
        self.control = wired.control
        self._builder = wired.builder
        self.storage_commits = wired.commits
        self.run_logs = wired.logs
        self.run_queue = wired.queue
        self.schedules = ScheduleService(self)
        self.scheduler = Scheduler(self.schedules, db)
        self.retention = Retention.from_settings(settings, db, storage, bus, queues)

    @classmethod
    def from_settings(
        cls,
        settings: FactFlowSettings,
        *,
        db: Database | None = None,
        registry: Registry | None = None,
        bus: EventBus | None = None,
        queues: QueueBackend | None = None,
        owner_id: str | None = None,
        orchestrators: OrchestratorFactory | None = None,
    ) -> ExecutionService:
        """Wire the default parts from settings: the database they name (SQLite by
        default), an in-process bus and queues, local storage, batched lineage and
        the built-in processor registry.  No I/O; call ``startup()`` next."""
        owner_id = owner_id or default_owner_id()
        parts = default_parts(
            settings, db=db, registry=registry, bus=bus, queues=queues, owner_id=owner_id
        )
        return cls(
            settings=settings,
            db=parts.db,
            bus=parts.bus,
            registry=parts.registry,
            queues=parts.queues,
            storage=parts.storage,
            lineage=parts.lineage,
            directory=parts.directory,
            owner_id=owner_id,
            orchestrators=orchestrators,
            metrics=parts.metrics,
        )

    # -- lifecycle ---------------------------------------------------------

    async def startup(self, *, migrate: bool = False) -> list[str]:
        """Migrate (when asked), listen to other processes (PostgreSQL), interrupt
        orphaned runs, start heartbeats, (``settings.scheduler``) the schedule
        loop and the retention loop (``_retention``).  Returns the ids ``recover`` interrupted."""
        if migrate:
            await upgrade_to_head(self.db)
        await self.control.start()
        interrupted = await self.recover()
        self.recovery.start()
        await self.run_queue.start()
        if self.settings.scheduler:
            await self.scheduler.start()
        await self.retention.start()
        return interrupted

    async def shutdown(self, grace: float | None = None) -> list[str]:
        """Stop gracefully: wait up to ``grace`` seconds (default
        ``settings.shutdown_grace``) for running executions, then stop the rest
        and mark them ``interrupted`` (a run already being cancelled stays
        ``cancelled``).  Returns the interrupted ids."""
        grace = self.settings.shutdown_grace if grace is None else grace
        await self.scheduler.stop()
        await self.retention.stop()
        await self.run_queue.stop()
        reason = f"interrupted: the server shut down before it finished (grace {grace:g}s)"
        stop_timeout = self.settings.cancel_grace + 5.0
        interrupted = await self.manager.shutdown(grace, stop_timeout, reason)
        interrupted += await self.recovery.interrupt_own(reason)
        await self.recovery.stop()
        await self.event_log.flush_posted()
        await self.run_logs.flush()
        await self.control.stop()
        await self.storage_commits.close()
        await self.lineage.close()
        await self.queues.close()
        return interrupted

    async def recover(self) -> list[str]:
        """Mark ``pending``/``running`` rows that no live process owns ``interrupted``
        (and remove the stored files of theirs that no row records)."""
        interrupted = await self.recovery.recover()
        await remove_unrecorded(self.db, self.storage, interrupted)
        return interrupted

    # -- creating and starting ----------------------------------------------

    async def create_execution(
        self,
        config_name: str,
        *,
        version: int | None = None,
        params: Mapping[str, Any] | None = None,
        source: ConfigSourceType | str = ConfigSourceType.API,
        labels: Mapping[str, str] | None = None,
        execution_id: str | None = None,
    ) -> PipelineExecution:
        """Create a ``pending`` execution of a stored config.

        Params are checked and the snapshot (resolved definition, params,
        route→queue directory) is fixed here; nothing is written when they are
        invalid.
        """
        kind = source_type(source)
        config, snapshot = await config_snapshot(
            self.db, self.config_gate, self.directory, config_name, version, params
        )
        execution_id = execution_id or new_id()
        async with self.event_log.writing(execution_id) as writer:
            execution = await self._add(writer.conn, execution_id, config, snapshot, kind, labels)
            event = await writer.append(EventKind.STATUS, {"status": "pending"})
        return execution.model_copy(update={"last_event_seq": event.seq})

    async def _add(
        self,
        conn: Any,
        execution_id: str,
        config: PipelineConfig | None,
        snapshot: Mapping[str, Any],
        source: ConfigSourceType,
        labels: Mapping[str, str] | None,
        *,
        config_name: str | None = None,
        replay_source: ReplaySource | None = None,
    ) -> PipelineExecution:
        return await PipelineExecutionRepository(conn).add(
            execution_id=execution_id,
            config=config,
            config_name=config_name or (config.name if config else ""),
            snapshot=snapshot,
            source=source,
            replay_source=replay_source,
            parent_execution_id=replay_source.parent_execution_id if replay_source else None,
            labels=labels,
            owner=self.manager.owner_id,
        )

    async def start(self, execution_id: str) -> PipelineExecution:
        """Start a ``pending`` execution in this process (``running`` on return)."""
        async with self.manager.admit(execution_id) as admission:
            return await self._start_admitted(admission)

    async def run(
        self,
        config_name: str,
        *,
        version: int | None = None,
        params: Mapping[str, Any] | None = None,
        source: ConfigSourceType | str = ConfigSourceType.API,
        labels: Mapping[str, str] | None = None,
        queue: bool = True,
        priority: int = 0,
    ) -> PipelineExecution:
        """Create and start an execution (``running`` on return), or queue it: then
        it is ``pending`` with its ``queue_position`` and any server starts it in
        turn (``RunQueue.submit``).  ``queue=False``: a full server raises
        ``ExecutionCapacityError``, a config at its limit ``ConfigLimitReachedError``,
        and no row is left.  A run that cannot be built is recorded ``failed`` (and
        the error raised when that happens here)."""
        kind = source_type(source)
        config, snapshot = await config_snapshot(
            self.db, self.config_gate, self.directory, config_name, version, params
        )
        execution_id = new_id()

        async def add(conn: AsyncConnection) -> PipelineExecution:
            return await self._add(conn, execution_id, config, snapshot, kind, labels)

        return await self.run_queue.submit(execution_id, add, queue=queue, priority=priority)

    async def _start_admitted(
        self, admission: Admission, *, queue_on_limit: bool = False
    ) -> PipelineExecution:
        """Build and launch the orchestrator of an admitted ``pending`` row.  A config
        at its limit raises ``ConfigLimitReachedError`` (the row stays ``pending``),
        or with ``queue_on_limit`` puts the row in the run queue."""
        execution_id = admission.execution_id
        execution = await self.get(execution_id)
        if execution.status != "pending":
            raise IllegalTransitionError(execution_id, "start", execution.status, ["pending"])
        try:
            orchestrator = await self._builder.build(execution)
        except Exception as exc:
            await self.manager.terminate(
                execution_id, "failed", f"could not start: {exc}", expected=["pending"]
            )
            raise
        async with self.event_log.writing(execution_id) as writer:
            limit = await ConfigLimitRepository(writer.conn).slot_free(execution.config_name)
            if limit is not None:
                if not queue_on_limit:
                    raise ConfigLimitReachedError(execution.config_name, limit)
                await enqueue(writer, execution, 0)
                result = None
            else:
                result = await transition(writer, "running", owner=self.manager.owner_id)
        if result is None:
            return await self.run_queue.read(execution_id)
        if isinstance(result, Refused):
            raise result.error("start")
        return await admission.launch(orchestrator, result.row)

    async def resume(
        self, execution_id: str, *, labels: Mapping[str, str] | None = None
    ) -> PipelineExecution:
        """Start a new execution that finishes an interrupted or cancelled one from
        its snapshot: exactly its unfinished work, read from lineage (and a durable
        broker's queues) - see ``_resume``.  409 for any other status, or when it
        was resumed already."""
        parent = await self.get(execution_id)
        async with self.db.connect() as conn:
            await check_resumable(conn, parent)  # before admission: 409 wins over 503
        await self.recovery.reconcile(parent.id)  # in case its recovery could not
        resume_id = new_id()
        async with self.manager.admit(resume_id) as admission:
            owner = self.manager.owner_id
            await add_resume(self.event_log, parent.id, resume_id, labels=labels, owner=owner)
            return await self._start_admitted(admission, queue_on_limit=True)

    async def replay(
        self,
        selection: ReplaySource,
        *,
        labels: Mapping[str, str] | None = None,
        queue: bool = True,
        priority: int = 0,
    ) -> PipelineExecution:
        """Start (or queue, as ``run``) a new execution that re-injects selected
        messages of a finished one, from the parent's snapshot (definition and
        route→queue directory as they were); no adapters run, each message keeps
        its origin id.  Selecting nothing is an error, not an empty run."""
        parent = await self.get(selection.parent_execution_id)
        async with self.db.connect() as conn:
            await select_replay_records(conn, parent, selection)
            config = None
            if parent.config_id is not None:
                config = await PipelineConfigRepository(conn).get_by_id(parent.config_id)
        execution_id = new_id()

        async def add(conn: AsyncConnection) -> PipelineExecution:
            return await self._add(
                conn,
                execution_id,
                config,
                parent.config_snapshot,
                ConfigSourceType.REPLAY,
                labels,
                config_name=parent.config_name,
                replay_source=selection,
            )

        return await self.run_queue.submit(execution_id, add, queue=queue, priority=priority)

    # -- cancelling ------------------------------------------------------------

    async def cancel(self, execution_id: str, reason: str | None = None) -> PipelineExecution:
        """Cancel a pending or running execution; returns the row once it is terminal.

        Cancelling a terminal run is an ``IllegalTransitionError``.  A run that
        reaches its own end while the cancel is on its way keeps that end (the
        first outcome wins) and its final row is returned.  A run another live
        process owns is cancelled through that process (PostgreSQL only).
        """
        why = reason or "cancelled on request"
        for look in range(_CANCEL_LOOKS):
            execution = await self.get(execution_id)
            if execution.terminal:
                if look == 0:
                    raise IllegalTransitionError(
                        execution_id, "cancel", execution.status, ["pending", "running"]
                    )
                return execution  # it ended while this cancel was on its way
            # From the check to the action nothing awaits: a run this process
            # admitted is tracked until its row is terminal.
            run = self.manager.stop(execution_id, StopKind.CANCEL, why)
            if run is not None:
                return await run.ended() or await self.get(execution_id)
            remote = execution.status == "running" and execution.owner != self.manager.owner_id
            if remote and not self.recovery.owner_is_gone(execution):
                return await self.control.cancel_remote(execution, why)
            # Nobody runs it (a pending row, an orphan, or one of ours that ended
            # since we read it): the row itself, if it is still as we read it.
            result = await self.manager.terminate(
                execution_id, "cancelled", why, expected=(execution.status,)
            )
            if isinstance(result, Applied):
                if execution.status == "pending":
                    await self.run_queue.forget(execution_id)
                return result.row
        raise IllegalTransitionError(  # pragma: no cover - see _CANCEL_LOOKS
            execution_id, "cancel", execution.status, ["pending", "running"]
        )
