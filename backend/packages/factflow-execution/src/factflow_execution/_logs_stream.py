"""``ExecutionLogStreamer``: a run's log records, backlog then live, until the run ends.

It subscribes first (to the run's log wake-ups and to its event topic, for
the terminal status), then loops: read the row, read the log after the
cursor, stop if the row was terminal, else wait for a wake-up.  A run's log
is durable before its row turns terminal (the orchestrator closes the log
first), so the read that follows seeing a terminal row is the last one
needed: nothing is missed and, reading by cursor, nothing is repeated.
Wake-ups carry no records - any of them (a batch written, another process's
NOTIFY, an overflow) only means "read again".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Final

from factflow_infra.db import Database
from factflow_protocols import EventBus, Subscription

from factflow_execution._events import ExecutionEvent, execution_topic
from factflow_execution._logs_records import ExecutionLogRecord, logs_topic, read_logs
from factflow_execution._repositories import PipelineExecutionRepository

__all__ = ["ExecutionLogStreamer"]

_PAGE: Final = 500


class ExecutionLogStreamer:
    """``async for record in ExecutionLogStreamer(eid, db=db, bus=bus, after=n)``.

    Yields every record with ``seq > n`` (of ``message_id`` only, at
    ``min_level`` or above, when given) exactly once in seq order, and ends
    once the execution is terminal and its log has been read to the end;
    ``final_status`` then holds the execution's terminal status.  Raises
    ``ExecutionNotFoundError`` on the first iteration for an unknown id.
    """

    def __init__(
        self,
        execution_id: str,
        *,
        db: Database,
        bus: EventBus,
        after: int = 0,
        message_id: str | None = None,
        min_level: int | None = None,
    ) -> None:
        if after < 0:
            raise ValueError("after must be >= 0")
        self.execution_id = execution_id
        self.cursor = after
        self.message_id = message_id
        self.min_level = min_level
        self.final_status: str | None = None
        self._db = db
        self._bus = bus
        self._iterator: AsyncIterator[ExecutionLogRecord] | None = None
        self._gets: dict[asyncio.Future[Any], Subscription] = {}

    def __aiter__(self) -> AsyncIterator[ExecutionLogRecord]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def __anext__(self) -> ExecutionLogRecord:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]

    async def _run(self) -> AsyncIterator[ExecutionLogRecord]:
        subscriptions = [
            self._bus.subscribe(logs_topic(self.execution_id)),
            self._bus.subscribe(execution_topic(self.execution_id)),
        ]
        try:
            while True:
                async with self._db.connect() as conn:
                    row = await PipelineExecutionRepository(conn).get(self.execution_id)
                async for record in self._catch_up():
                    yield record
                if row.terminal:
                    self.final_status = row.status
                    return
                await self._woken(subscriptions)
        finally:
            for get in self._gets:
                get.cancel()
            for subscription in subscriptions:
                subscription.close()

    async def _catch_up(self) -> AsyncIterator[ExecutionLogRecord]:
        while True:
            async with self._db.connect() as conn:
                page = await read_logs(
                    conn,
                    self.execution_id,
                    after=self.cursor,
                    limit=_PAGE,
                    message_id=self.message_id,
                    min_level=self.min_level,
                )
            for record in page:
                self.cursor = record.seq
                yield record
            if len(page) < _PAGE:
                return

    async def _woken(self, subscriptions: list[Subscription]) -> None:
        """Wait until something may have changed: records written, the run ended, a
        wake-up from another process or an overflow (progress events are ignored)."""
        while True:
            armed = set(self._gets.values())
            for subscription in subscriptions:
                if subscription not in armed:
                    self._gets[asyncio.ensure_future(subscription.get())] = subscription
            done, _ = await asyncio.wait(self._gets, return_when=asyncio.FIRST_COMPLETED)
            woken = False
            for get in done:
                del self._gets[get]
                item = get.exception() or get.result()
                if not isinstance(item, ExecutionEvent) or item.terminal:
                    woken = True
            if woken:
                return
