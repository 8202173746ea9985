"""``ExecutionWaiter``: block until an execution is terminal, reactively.

Subscribe to the execution's live events first, then read the row once: a run
that already finished resolves at once, and one that finishes later resolves
from its terminal status event, which carries the status, error and stats, so
nothing touches the database while waiting.  No polling anywhere.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from factflow_infra.db import Database
from factflow_protocols import OVERFLOW, EventBus

from factflow_execution._events import ExecutionEvent, execution_topic
from factflow_execution._models import ExecutionStats, ExecutionStatus, PipelineExecution
from factflow_execution._repositories import PipelineExecutionRepository

__all__ = ["ExecutionWaitResult", "ExecutionWaiter"]


@dataclass(frozen=True)
class ExecutionWaitResult:
    """The outcome of waiting: the terminal status and stats, or ``timed_out=True``.

    On a timeout ``status`` is the last status seen (``pending`` or ``running``)
    and ``stats`` is ``None``.
    """

    execution_id: str
    status: ExecutionStatus
    timed_out: bool = False
    stats: ExecutionStats | None = None
    error: str | None = None
    finished_at: datetime | None = None

    @property
    def terminal(self) -> bool:
        return not self.timed_out


class ExecutionWaiter:
    """Waits for one execution to reach a terminal status."""

    def __init__(self, execution_id: str, *, db: Database, bus: EventBus) -> None:
        self.execution_id = execution_id
        self._db = db
        self._bus = bus

    async def wait(self, timeout: timedelta | float | None = None) -> ExecutionWaitResult:
        """Resolve when the execution is terminal, or after ``timeout`` (None = forever).

        Raises ``ExecutionNotFoundError`` for an unknown id.
        """
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + max(0.0, seconds)
        with self._bus.subscribe(execution_topic(self.execution_id)) as subscription:
            execution = await self._read()
            if execution.terminal:
                return _from_row(execution)
            status = execution.status
            # One deadline for the whole wait (not a wait_for per item): items
            # already buffered are taken without a scheduling step, so the
            # terminal event resolves the waiter as soon as it is published.
            try:
                async with asyncio.timeout_at(deadline):
                    while True:
                        item = await subscription.get()
                        if isinstance(item, ExecutionEvent):
                            if item.terminal:
                                return _from_event(item)
                            if item.kind == "status":
                                status = item.data["status"]
                        elif item is OVERFLOW or item is not None:
                            # A wake-up without the record (overflow, another
                            # process): the row is the truth.
                            execution = await self._read()
                            if execution.terminal:
                                return _from_row(execution)
                            status = execution.status
            except TimeoutError:
                return ExecutionWaitResult(self.execution_id, status, timed_out=True)

    async def _read(self) -> PipelineExecution:
        async with self._db.connect() as conn:
            return await PipelineExecutionRepository(conn).get(self.execution_id)


def _from_row(execution: PipelineExecution) -> ExecutionWaitResult:
    return ExecutionWaitResult(
        execution_id=execution.id,
        status=execution.status,
        stats=execution.stats,
        error=execution.error,
        finished_at=execution.finished_at,
    )


def _from_event(event: ExecutionEvent) -> ExecutionWaitResult:
    stats = event.data.get("stats")
    finished = event.data.get("finished_at")
    return ExecutionWaitResult(
        execution_id=event.execution_id,
        status=event.data["status"],
        stats=ExecutionStats.model_validate(stats) if stats is not None else None,
        error=event.data.get("error"),
        finished_at=datetime.fromisoformat(finished) if finished else event.at,
    )
