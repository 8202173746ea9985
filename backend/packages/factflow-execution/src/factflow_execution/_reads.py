"""The read side of ``ExecutionService``: rows, pages with stats, DAG, lineage,
storage objects, waiting and streaming.  Nothing here writes."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from factflow_foundation import InvalidInputError
from factflow_infra.db import Database
from factflow_infra.storage import StorageObjectRecord, list_storage_objects
from factflow_lineage import (
    LineageRecord,
    Subtree,
    ancestry,
    edge_counts,
    get_record,
    list_records,
    load_payload,
    subtree,
)
from factflow_protocols import EventBus, StorageBackend, StoredObject
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._changes import ExecutionChangeStream
from factflow_execution._dag import DAGResponse, build_dag
from factflow_execution._logs_records import ExecutionLogRecord, level_number, read_logs
from factflow_execution._logs_stream import ExecutionLogStreamer
from factflow_execution._manager import OrchestratorManager
from factflow_execution._metrics import count_by_status
from factflow_execution._models import (
    ALL_STATUSES,
    ConfigSourceType,
    ExecutionStats,
    PipelineExecution,
)
from factflow_execution._objects import read_object
from factflow_execution._queue_repository import RunQueueRepository
from factflow_execution._repositories import (
    ExecutionFilter,
    ExecutionPage,
    PipelineExecutionRepository,
)
from factflow_execution._stats import RouteNames, compute_stats
from factflow_execution._streaming import ExecutionEventStreamer, StorageEventStreamer
from factflow_execution._waiter import ExecutionWaiter, ExecutionWaitResult

__all__ = ["ExecutionReads", "source_type"]


def source_type(value: ConfigSourceType | str) -> ConfigSourceType:
    """``value`` as a ``ConfigSourceType``, or an ``InvalidInputError`` listing the choices."""
    try:
        return ConfigSourceType(value)
    except ValueError:
        choices = ", ".join(s.value for s in ConfigSourceType)
        raise InvalidInputError(f"unknown source {value!r}; choose from {choices}") from None


async def _with_positions(
    conn: AsyncConnection, executions: Sequence[PipelineExecution]
) -> list[PipelineExecution]:
    """``executions`` with the ``queue_position`` of those waiting in the run queue."""
    pending = [e.id for e in executions if e.status == "pending"]
    if not pending:
        return list(executions)
    positions = await RunQueueRepository(conn).positions(pending)
    return [
        e.model_copy(update={"queue_position": positions[e.id]}) if e.id in positions else e
        for e in executions
    ]


class ExecutionReads:
    """Reads of executions; live stats include this process's runs' progress."""

    def __init__(
        self,
        *,
        db: Database,
        bus: EventBus,
        storage: StorageBackend,
        manager: OrchestratorManager,
    ) -> None:
        self.db = db
        self.bus = bus
        self.storage = storage
        self.manager = manager
        self._routes = RouteNames()

    async def get(self, execution_id: str) -> PipelineExecution:
        """The execution row (``ExecutionNotFoundError`` if unknown), with its
        ``queue_position`` while it waits in the run queue."""
        async with self.db.connect() as conn:
            execution = await PipelineExecutionRepository(conn).get(execution_id)
            return (await _with_positions(conn, [execution]))[0]

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
        labels: Sequence[tuple[str, str]] = (),
        limit: int = 50,
        cursor: str | None = None,
        snapshots: bool = True,
    ) -> ExecutionPage:
        """A page of executions, newest first, each with stats (live ones computed
        for the whole page in one grouped query; terminal ones from their row).

        Filters combine with AND; ``since`` is inclusive and ``until`` exclusive
        on ``created_at``; ``labels`` are ``(key, value)`` pairs the run's labels
        must all have; pass the returned ``next_cursor`` to get the next page.
        ``snapshots=False`` leaves every item's ``config_snapshot`` empty and
        skips reading them (a list that does not show them stays cheap).
        """
        statuses = [status] if isinstance(status, str) else list(status or ())
        for value in statuses:
            if value not in ALL_STATUSES:
                raise InvalidInputError(
                    f"unknown status {value!r}; choose from {', '.join(sorted(ALL_STATUSES))}"
                )
        if source is not None:
            source = source_type(source).value
        for key, _ in labels:
            if not key:
                raise InvalidInputError("a label filter needs a key (key:value)")
        filters = ExecutionFilter(
            statuses=statuses,
            config_name=config_name,
            source=source,
            since=since,
            until=until,
            parent_execution_id=parent_execution_id,
            schedule_id=schedule_id,
            labels=tuple(labels),
        )
        async with self.db.connect() as conn:
            page = await PipelineExecutionRepository(conn).page(
                filters, limit=limit, cursor=cursor, snapshots=snapshots
            )
            live = [e for e in page.items if not e.terminal or e.stats is None]
            routes = await self._routes.of(conn, live)
            stats = await compute_stats(
                conn, live, route_names=routes, progress=self._progress_of(live)
            )
            placed = await _with_positions(conn, page.items)
        items = [
            e.model_copy(update={"stats": stats[e.id]}) if e.id in stats else e for e in placed
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
        message_id: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> builtins.list[LineageRecord]:
        await self.get(execution_id)
        async with self.db.connect() as conn:
            return await list_records(
                conn,
                execution_id,
                route=route,
                status=status,
                message_id=message_id,
                after_id=after_id,
                limit=limit,
            )

    async def ancestry(self, execution_id: str, message_id: str) -> builtins.list[LineageRecord]:
        """The records from the message's root down to the message (``NotFoundError``
        for an unknown execution or message)."""
        await self.get(execution_id)
        async with self.db.connect() as conn:
            return await ancestry(conn, execution_id, message_id)

    async def message_payload(self, execution_id: str, message_id: str) -> Any:
        """The message's input payload as recorded (its latest record), read back from
        storage when it was too large to keep in the row."""
        await self.get(execution_id)
        async with self.db.connect() as conn:
            record = await get_record(conn, execution_id, message_id)
        return await load_payload(record, storage=self.storage)

    async def descendants(
        self, execution_id: str, message_id: str, *, max_depth: int, limit: int
    ) -> Subtree:
        """The message's record and its descendants, bounded (see ``subtree``)."""
        await self.get(execution_id)
        async with self.db.connect() as conn:
            return await subtree(conn, execution_id, message_id, max_depth=max_depth, limit=limit)

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

    async def logs(
        self,
        execution_id: str,
        *,
        message_id: str | None = None,
        level: str | int | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> builtins.list[ExecutionLogRecord]:
        """A page of the run's log in seq order: records after ``after``, of one
        message only and at ``level`` or above when given."""
        min_level = level_number(level) if level is not None else None
        await self.get(execution_id)
        async with self.db.connect() as conn:
            return await read_logs(
                conn,
                execution_id,
                after=after,
                limit=limit,
                message_id=message_id,
                min_level=min_level,
            )

    async def count_by_status(self) -> dict[str, int]:
        """Executions per status in the database (all servers sharing it)."""
        async with self.db.connect() as conn:
            return await count_by_status(conn)

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

    def log_stream(
        self,
        execution_id: str,
        *,
        after: int = 0,
        message_id: str | None = None,
        level: str | int | None = None,
    ) -> ExecutionLogStreamer:
        """The run's log after ``after``, then live, until the run is terminal."""
        return ExecutionLogStreamer(
            execution_id,
            db=self.db,
            bus=self.bus,
            after=after,
            message_id=message_id,
            min_level=level_number(level) if level is not None else None,
        )

    def changes(self) -> ExecutionChangeStream:
        """Changes of every execution from now on (subscribed at once; see _changes)."""
        return ExecutionChangeStream(self.bus)
