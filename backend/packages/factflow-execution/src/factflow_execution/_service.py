"""``ExecutionService``: the canonical entry point for configs and executions.

The REST API maps almost one to one onto these methods.  The service owns the
transactions; repositories run inside them; every status change goes through
``transitions.transition``.  Nothing here does I/O at construction: build it
with ``ExecutionService.from_settings`` and call ``startup()`` / ``shutdown()``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from factflow_engine import (
    PipelineOrchestrator,
    Registry,
    ResolvedPipeline,
    RouteDirectory,
    load_definition,
    resolve,
)
from factflow_foundation import (
    FactFlowSettings,
    InvalidInputError,
    get_logger,
    new_id,
    utcnow,
)
from factflow_infra.db import Database
from factflow_infra.storage import (
    ExecutionStorageService,
    StorageObjectRecord,
    list_storage_objects,
)
from factflow_lineage import LineageRecord, LineageRecorder, list_records
from factflow_protocols import (
    EventBus,
    Message,
    QueueBackend,
    RunOutcome,
    StorageBackend,
    StoredObject,
)

from factflow_execution._callbacks import ExecutionStatusCallbackAdapter
from factflow_execution._dag import DAGResponse, build_dag, edge_counts
from factflow_execution._errors import (
    ConfigArchivedError,
    IllegalTransitionError,
)
from factflow_execution._events import EventKind, EventLog
from factflow_execution._lifecycle import Lifecycle
from factflow_execution._manager import OrchestratorManager
from factflow_execution._models import (
    ALL_STATUSES,
    ConfigSourceType,
    ExecutionStats,
    ExecutionStatus,
    PipelineConfig,
    PipelineExecution,
    ReplaySource,
)
from factflow_execution._objects import EventLogStorageObserver, read_object
from factflow_execution._replay import replay_messages, select_replay_records
from factflow_execution._repositories import (
    ExecutionFilter,
    ExecutionPage,
    PipelineConfigRepository,
    PipelineExecutionRepository,
)
from factflow_execution._schedules_loop import Scheduler
from factflow_execution._schedules_service import ScheduleService
from factflow_execution._stats import compute_stats
from factflow_execution._streaming import ExecutionEventStreamer, StorageEventStreamer
from factflow_execution._transitions import transition
from factflow_execution._waiter import ExecutionWaiter, ExecutionWaitResult

__all__ = ["ExecutionService"]

_log = get_logger("factflow.execution.service")


def _source_type(value: ConfigSourceType | str) -> ConfigSourceType:
    try:
        return ConfigSourceType(value)
    except ValueError:
        choices = ", ".join(s.value for s in ConfigSourceType)
        raise InvalidInputError(f"unknown source {value!r}; choose from {choices}") from None


class ExecutionService:
    """Create, start, cancel, list, wait on, stream and replay executions."""

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
        manager: OrchestratorManager,
        directory: RouteDirectory,
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus
        self.registry = registry
        self.queues = queues
        self.storage = storage
        self.lineage = lineage
        self.manager = manager
        self.directory = directory
        self.event_log = EventLog(db, bus, origin=manager.owner_id)
        self.lifecycle = Lifecycle(self)
        self.schedules = ScheduleService(self)
        self.scheduler = Scheduler(self.schedules, db)
        self._storage_observer = EventLogStorageObserver(self.event_log)
        self._stop_reasons: dict[str, tuple[str, str]] = {}
        # The row as it became ``running`` here, so finalising need not read it back.
        self._started: dict[str, PipelineExecution] = {}

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
    ) -> ExecutionService:
        """Wire the default parts from settings: the database they name (SQLite by
        default), an in-process bus and queues, local storage, batched lineage and
        the built-in processor registry.  No I/O; call ``startup()`` next."""
        from factflow_execution._bootstrap import build_execution_service

        return build_execution_service(
            settings, db=db, registry=registry, bus=bus, queues=queues, owner_id=owner_id
        )

    # -- lifecycle ---------------------------------------------------------

    async def startup(self, *, migrate: bool = False) -> list[str]:
        """Migrate (when asked), interrupt orphaned runs, start heartbeats.

        Returns the ids of executions marked ``interrupted`` by recovery.
        """
        return await self.lifecycle.startup(migrate=migrate)

    async def shutdown(self, grace: float | None = None) -> list[str]:
        """Stop gracefully: wait up to ``grace`` seconds (default
        ``settings.shutdown_grace``) for running executions, then stop the rest
        and mark them ``interrupted``.  Returns the interrupted ids."""
        return await self.lifecycle.shutdown(grace)

    async def recover(self) -> list[str]:
        """Mark ``pending``/``running`` rows that no live process owns ``interrupted``."""
        return await self.lifecycle.recover()

    # -- configs -----------------------------------------------------------

    async def save_config(
        self,
        source: str | bytes | Mapping[str, Any],
        *,
        filename: str | None = None,
        description: str | None = None,
    ) -> tuple[PipelineConfig, bool]:
        """Validate and store a config; ``(config, created)``.

        An unchanged definition returns the existing latest version with
        ``created=False``; a changed one becomes version N+1.  Invalid configs
        raise ``ConfigValidationError`` naming every offending field.
        """
        definition = load_definition(source, filename=filename, registry=self.registry)
        data = definition.to_dict()
        async with self.db.transaction() as conn:
            return await PipelineConfigRepository(conn).save(
                definition.name, data, description or definition.description
            )

    async def get_config(self, name: str, version: int | None = None) -> PipelineConfig:
        async with self.db.connect() as conn:
            return await PipelineConfigRepository(conn).get(name, version)

    async def list_configs(self, *, include_archived: bool = False) -> list[PipelineConfig]:
        async with self.db.connect() as conn:
            return await PipelineConfigRepository(conn).list_latest(
                include_archived=include_archived
            )

    async def config_versions(self, name: str) -> list[PipelineConfig]:
        async with self.db.connect() as conn:
            return await PipelineConfigRepository(conn).versions(name)

    async def archive_config(self, name: str) -> list[PipelineConfig]:
        """Archive every version of ``name``; existing executions keep their snapshots."""
        async with self.db.transaction() as conn:
            return await PipelineConfigRepository(conn).archive(name)

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
        source = _source_type(source)
        config, snapshot = await self._snapshot(config_name, version, params)
        return await self._insert(
            execution_id or new_id(),
            config=config,
            config_name=config.name,
            snapshot=snapshot,
            source=source,
            labels=labels,
        )

    async def _snapshot(
        self, config_name: str, version: int | None, params: Mapping[str, Any] | None
    ) -> tuple[PipelineConfig, dict[str, Any]]:
        """The stored config and the snapshot a new execution of it gets."""
        async with self.db.connect() as conn:
            config = await PipelineConfigRepository(conn).get(config_name, version)
        if config.archived:
            raise ConfigArchivedError(config.name)
        definition = load_definition(config.definition, registry=self.registry)
        resolved = resolve(definition, params, registry=self.registry)
        snapshot = {
            "definition": resolved.definition,
            "params": resolved.params,
            "directory": self.directory.resolve(resolved),
            "config": {
                "id": config.id,
                "name": config.name,
                "version": config.version,
                "checksum": config.checksum,
            },
        }
        return config, snapshot

    async def _insert(
        self,
        execution_id: str,
        *,
        config: PipelineConfig | None,
        config_name: str,
        snapshot: Mapping[str, Any],
        source: ConfigSourceType,
        labels: Mapping[str, str] | None,
        replay_source: ReplaySource | None = None,
    ) -> PipelineExecution:
        async with self.event_log.writing(execution_id) as writer:
            execution = await PipelineExecutionRepository(writer.conn).add(
                execution_id=execution_id,
                config=config,
                config_name=config_name,
                snapshot=snapshot,
                source=source,
                replay_source=replay_source,
                parent_execution_id=replay_source.parent_execution_id if replay_source else None,
                labels=labels,
                owner=self.manager.owner_id,
            )
            event = await writer.append(EventKind.STATUS, {"status": "pending"})
        return execution.model_copy(update={"last_event_seq": event.seq})

    async def start(self, execution_id: str) -> PipelineExecution:
        """Start a ``pending`` execution in this process (``running`` on return)."""
        self.manager.reserve(execution_id)
        return await self._start_reserved(execution_id)

    async def run(
        self,
        config_name: str,
        *,
        version: int | None = None,
        params: Mapping[str, Any] | None = None,
        source: ConfigSourceType | str = ConfigSourceType.API,
        labels: Mapping[str, str] | None = None,
    ) -> PipelineExecution:
        """Create and start an execution.  Capacity is claimed first, so a full
        server refuses without leaving a row behind.

        The row is inserted ``pending`` and moved to ``running`` in one
        transaction (both status events are in the log); a run whose components
        cannot be built is recorded ``failed`` instead, and the error raised.
        """
        source = _source_type(source)
        execution_id = new_id()
        self.manager.reserve(execution_id)
        started = False
        try:
            config, snapshot = await self._snapshot(config_name, version, params)
            failure: Exception | None = None
            async with self.event_log.writing(execution_id) as writer:
                execution = await PipelineExecutionRepository(writer.conn).add(
                    execution_id=execution_id,
                    config=config,
                    config_name=config.name,
                    snapshot=snapshot,
                    source=source,
                    labels=labels,
                    owner=self.manager.owner_id,
                )
                writer.defer(EventKind.STATUS, {"status": "pending"})  # seq 1, with the next
                try:
                    orchestrator = await self._build_orchestrator(execution)
                except Exception as exc:
                    failure = exc
                    await transition(writer, "failed", error=f"could not start: {exc}")
                    running = None
                else:
                    running = await transition(writer, "running", owner=self.manager.owner_id)
            if failure is not None:
                raise failure
            if running is None:  # pragma: no cover - the row was inserted pending just now
                raise IllegalTransitionError(execution_id, "start", "unknown", ["pending"])
            launched = await self._launch(execution_id, orchestrator, running)
            started = True
            return launched
        finally:
            if not started:
                self.manager.release(execution_id)

    async def _start_reserved(self, execution_id: str) -> PipelineExecution:
        try:
            execution = await self.get(execution_id)
            if execution.status != "pending":
                raise IllegalTransitionError(execution_id, "start", execution.status, ["pending"])
            try:
                orchestrator = await self._build_orchestrator(execution)
            except Exception as exc:
                await self._fail_to_start(execution_id, exc)
                raise
            async with self.event_log.writing(execution_id) as writer:
                running = await transition(writer, "running", owner=self.manager.owner_id)
            if running is None:
                current = await self.get(execution_id)
                raise IllegalTransitionError(execution_id, "start", current.status, ["pending"])
        except BaseException:
            self.manager.release(execution_id)
            raise
        return await self._launch(execution_id, orchestrator, running)

    async def _launch(
        self, execution_id: str, orchestrator: PipelineOrchestrator, running: PipelineExecution
    ) -> PipelineExecution:
        """Hand a ``running`` row's orchestrator to the manager and start it."""
        self.manager.register(execution_id, orchestrator)
        self._started[execution_id] = running
        try:
            await orchestrator.start()
        except Exception as exc:
            self._started.pop(execution_id, None)
            self.manager.discard(execution_id)
            await self._fail_to_start(execution_id, exc)
            raise
        return running

    async def _fail_to_start(self, execution_id: str, exc: Exception) -> None:
        async with self.event_log.writing(execution_id) as writer:
            await transition(writer, "failed", error=f"could not start: {exc}")

    async def _build_orchestrator(self, execution: PipelineExecution) -> PipelineOrchestrator:
        snapshot = execution.config_snapshot
        pipeline = ResolvedPipeline.from_snapshot(
            snapshot["definition"], snapshot.get("params") or {}, registry=self.registry
        )
        initial: list[Message] | None = None
        if execution.replay_source is not None:
            initial = await self._replay_messages(execution.id, execution.replay_source)
        callback = ExecutionStatusCallbackAdapter(
            self, execution.id, max_failure_events=self.settings.max_failure_events
        )
        storage = ExecutionStorageService(
            self.db, self.storage, execution.id, self._storage_observer
        )
        return PipelineOrchestrator(
            execution.id,
            pipeline,
            queue_names=snapshot["directory"],
            queues=self.queues,
            lineage=self.lineage,
            storage=storage,
            callback=callback,
            registry=self.registry,
            cancel_grace=self.settings.cancel_grace,
            progress_interval=self.settings.progress_interval,
            initial_messages=initial,
            logger=get_logger(f"factflow.run.{execution.id[:13]}"),
        )

    # -- finishing -----------------------------------------------------------

    async def finalize(
        self, execution_id: str, outcome: RunOutcome, *, failure_events_suppressed: int = 0
    ) -> PipelineExecution | None:
        """Make an execution terminal once its orchestrator has stopped.

        Called by ``ExecutionStatusCallbackAdapter.on_finished``: every task of
        the run has stopped; lineage is flushed and stats materialised before
        the one conditional UPDATE + terminal event commits.  Returns ``None``
        when the row was no longer running (nothing written).
        """
        # Take the run's last posted events (route drained, final progress) before
        # the first await, so they commit with the terminal status, not just before.
        claimed = self.event_log.claim_posted(execution_id)
        try:
            await self.lineage.flush()
            status: ExecutionStatus = outcome.status
            error = outcome.error
            stop = self._stop_reasons.pop(execution_id, None)
            if status == "cancelled" and stop is not None:
                kind, reason = stop
                status = "interrupted" if kind == "interrupt" else "cancelled"
                error = reason
            now = utcnow()
            execution = self._started.pop(execution_id, None)
            # Stats are read in the terminal transaction itself: they come from
            # per-route lineage totals (a few rows whatever the run's size), so
            # this holds the write lock no longer than a separate read would cost.
            async with self.event_log.writing(execution_id, claimed=claimed) as writer:
                claimed = []
                if execution is None:
                    execution = await PipelineExecutionRepository(writer.conn).get(execution_id)
                stats = (
                    await compute_stats(
                        writer.conn,
                        [execution],
                        live=False,
                        finished_at=now,
                        failure_events_suppressed={execution_id: failure_events_suppressed},
                    )
                )[execution_id]
                final = await transition(writer, status, error=error, stats=stats, at=now)
            if final is None:
                _log.warning("execution %s was no longer running at finalise", execution_id)
            return final
        finally:
            self.event_log.unclaim(execution_id, claimed)
            self._started.pop(execution_id, None)
            self.manager.discard(execution_id)

    async def cancel(self, execution_id: str, reason: str | None = None) -> PipelineExecution:
        """Cancel a pending or running execution; returns the row once it is terminal.

        A run that completes while the cancel is on its way stays completed
        (the first outcome wins); cancelling a terminal run is an
        ``IllegalTransitionError``.
        """
        execution = await self.get(execution_id)
        if execution.terminal:
            raise IllegalTransitionError(
                execution_id, "cancel", execution.status, ["pending", "running"]
            )
        why = reason or "cancelled on request"
        orchestrator = self.manager.get(execution_id)
        if orchestrator is not None:
            self._stop_reasons.setdefault(execution_id, ("cancel", why))
            orchestrator.cancel(why)
            await orchestrator.wait()
            self._stop_reasons.pop(execution_id, None)
            return await self.get(execution_id)
        if execution.status == "running" and not self.lifecycle.owner_is_gone(execution):
            return await self.lifecycle.cancel_remote(execution, why)
        async with self.db.connect() as conn:
            stats = (await compute_stats(conn, [execution], live=False, finished_at=utcnow()))[
                execution_id
            ]
        async with self.event_log.writing(execution_id) as writer:
            final = await transition(writer, "cancelled", error=why, stats=stats)
        if final is None:
            current = await self.get(execution_id)
            if current.terminal:
                return current
            raise IllegalTransitionError(
                execution_id, "cancel", current.status, ["pending", "running"]
            )
        return final

    def request_interrupt(self, execution_id: str, reason: str) -> bool:
        """Stop a local run so that it ends ``interrupted`` (used by shutdown)."""
        orchestrator = self.manager.get(execution_id)
        if orchestrator is None:
            return False
        self._stop_reasons[execution_id] = ("interrupt", reason)
        orchestrator.cancel(reason)
        return True

    # -- replay ----------------------------------------------------------------

    async def replay(
        self,
        selection: ReplaySource,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> PipelineExecution:
        """Start a new execution that re-injects selected messages of a finished one.

        The new run uses the parent's snapshot (definition and route→queue
        directory as they were), runs no adapters, and keeps each message's
        origin id.  Selecting nothing is an error, not an empty run.
        """
        parent = await self.get(selection.parent_execution_id)
        async with self.db.connect() as conn:
            await select_replay_records(conn, parent, selection)
        execution_id = new_id()
        self.manager.reserve(execution_id)
        try:
            await self._insert(
                execution_id,
                config=None if parent.config_id is None else await self._config_or_none(parent),
                config_name=parent.config_name,
                snapshot=parent.config_snapshot,
                source=ConfigSourceType.REPLAY,
                labels=labels,
                replay_source=selection,
            )
        except BaseException:
            self.manager.release(execution_id)
            raise
        return await self._start_reserved(execution_id)

    async def _config_or_none(self, parent: PipelineExecution) -> PipelineConfig | None:
        if parent.config_id is None:
            return None
        async with self.db.connect() as conn:
            return await PipelineConfigRepository(conn).get_by_id(parent.config_id)

    async def _replay_messages(self, execution_id: str, selection: ReplaySource) -> list[Message]:
        async with self.db.connect() as conn:
            parent = await PipelineExecutionRepository(conn).get(selection.parent_execution_id)
            records = await select_replay_records(conn, parent, selection)
        return await replay_messages(records, execution_id, self.storage)

    # -- reading ---------------------------------------------------------------

    async def get(self, execution_id: str) -> PipelineExecution:
        """The execution row (``ExecutionNotFoundError`` if unknown)."""
        async with self.db.connect() as conn:
            return await PipelineExecutionRepository(conn).get(execution_id)

    async def resolve_id(self, id_or_prefix: str) -> str:
        """A full execution id from an id or a unique prefix."""
        async with self.db.connect() as conn:
            return await PipelineExecutionRepository(conn).resolve_id(id_or_prefix)

    async def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        config_name: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        parent_execution_id: str | None = None,
        schedule_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ExecutionPage:
        """A page of executions, newest first, each with stats (live ones computed
        for the whole page in one grouped query; terminal ones from their row).

        Filters combine with AND; ``since`` is inclusive and ``until`` exclusive
        on ``created_at``; pass the returned ``next_cursor`` to get the next page.
        """
        statuses = [status] if isinstance(status, str) else list(status or ())
        for value in statuses:
            if value not in ALL_STATUSES:
                raise InvalidInputError(
                    f"unknown status {value!r}; choose from {', '.join(sorted(ALL_STATUSES))}"
                )
        if source is not None:
            source = _source_type(source).value
        filters = ExecutionFilter(
            statuses=statuses,
            config_name=config_name,
            source=source,
            since=since,
            until=until,
            parent_execution_id=parent_execution_id,
            schedule_id=schedule_id,
        )
        async with self.db.connect() as conn:
            page = await PipelineExecutionRepository(conn).page(filters, limit=limit, cursor=cursor)
            live = [e for e in page.items if not e.terminal or e.stats is None]
            stats = await compute_stats(conn, live, progress=self._progress_of(live))
        items = [
            e.model_copy(update={"stats": stats[e.id]}) if e.id in stats else e for e in page.items
        ]
        return ExecutionPage(items=items, next_cursor=page.next_cursor)

    def _progress_of(self, executions: Sequence[PipelineExecution]) -> dict[str, Any]:
        progress = {}
        for execution in executions:
            snapshot = self.manager.progress(execution.id)
            if snapshot is not None:
                progress[execution.id] = snapshot
        return progress

    async def stats(self, execution_id: str) -> ExecutionStats:
        """Live stats of a running execution; the materialised ones of a finished one."""
        execution = await self.get(execution_id)
        if execution.terminal and execution.stats is not None:
            return execution.stats
        async with self.db.connect() as conn:
            computed = await compute_stats(
                conn,
                [execution],
                progress=self._progress_of([execution]),
                live=not execution.terminal,
            )
        return computed[execution_id]

    async def dag(self, execution_id: str) -> DAGResponse:
        """Routes and edges of the execution's snapshot with message counts."""
        execution = await self.get(execution_id)
        stats = await self.stats(execution_id)
        async with self.db.connect() as conn:
            edges = await edge_counts(conn, execution_id)
        return build_dag(execution.id, execution.status, execution.config_snapshot, stats, edges)

    async def lineage_records(
        self,
        execution_id: str,
        *,
        route: str | None = None,
        status: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[LineageRecord]:
        await self.get(execution_id)
        async with self.db.connect() as conn:
            return await list_records(
                conn, execution_id, route=route, status=status, after_id=after_id, limit=limit
            )

    async def storage_objects(
        self, execution_id: str, *, after_id: int | None = None, limit: int = 100
    ) -> builtins.list[StorageObjectRecord]:
        await self.get(execution_id)
        async with self.db.connect() as conn:
            return await list_storage_objects(conn, execution_id, after_id=after_id, limit=limit)

    async def read_object(self, execution_id: str, key: str) -> tuple[StoredObject, bytes]:
        """Metadata and bytes of one stored object (``InvalidStorageKeyError`` for a
        malformed key, ``NotFoundError`` for one never written)."""
        await self.get(execution_id)
        return await read_object(self.db, self.storage, execution_id, key)

    # -- waiting and streaming ------------------------------------------------

    def waiter(self, execution_id: str) -> ExecutionWaiter:
        return ExecutionWaiter(execution_id, db=self.db, bus=self.bus)

    async def wait(
        self, execution_id: str, timeout: timedelta | float | None = None
    ) -> ExecutionWaitResult:
        """Block until the execution is terminal or ``timeout`` passes."""
        return await self.waiter(execution_id).wait(timeout)

    def events(self, execution_id: str, *, after: int = 0) -> ExecutionEventStreamer:
        return ExecutionEventStreamer(execution_id, db=self.db, bus=self.bus, after=after)

    def storage_events(self, execution_id: str, *, after: int = 0) -> StorageEventStreamer:
        return StorageEventStreamer(execution_id, db=self.db, bus=self.bus, after=after)
