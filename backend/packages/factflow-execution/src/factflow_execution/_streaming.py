"""Async iterators over an execution's persisted event log, backlog then live.

Both streamers subscribe to the live feed *first*, then read the backlog from
the database by cursor, then continue with live notifications, dropping any
whose seq they already yielded.  A notification that skips ahead (an overflow
marker, a cross-process wake-up, a seq beyond cursor + 1) makes the streamer
re-read the gap from the log, so there is never a gap and never a duplicate.
Because events of one execution commit in seq order (see ``events.py``), what
is in the log below a notified seq is complete.  Iteration ends after the
terminal status event, which is always yielded last; a stream resumed past the
run's last event (a ``Last-Event-ID`` larger than any seq) ends when the run
does, whether the terminal event arrives live or only as a wake-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from factflow_infra.db import Database
from factflow_protocols import EventBus, Subscription

from factflow_execution._events import (
    EventKind,
    ExecutionEvent,
    execution_topic,
    read_events,
)
from factflow_execution._repositories import PipelineExecutionRepository

__all__ = ["ExecutionEventStreamer", "StorageEventStreamer"]

_PAGE: Final = 500


class ExecutionEventStreamer:
    """Status, route, progress and failure events of one execution (all kinds).

    ``async for event in ExecutionEventStreamer(eid, db=db, bus=bus, after=n)``
    yields every event with ``seq > n`` exactly once, in seq order, and stops
    after the terminal status event.  Raises ``ExecutionNotFoundError`` on the
    first iteration for an unknown id.  Close it (``aclose``) or break out of
    the loop to free the live subscription at once.
    """

    kinds: frozenset[str] | None = None

    def __init__(self, execution_id: str, *, db: Database, bus: EventBus, after: int = 0) -> None:
        if after < 0:
            raise ValueError("after must be >= 0")
        self.execution_id = execution_id
        self.cursor = after
        self._db = db
        self._bus = bus
        self._iterator: AsyncIterator[ExecutionEvent] | None = None

    def __aiter__(self) -> AsyncIterator[ExecutionEvent]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def __anext__(self) -> ExecutionEvent:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]

    def _wanted(self, event: ExecutionEvent) -> bool:
        return self.kinds is None or event.kind in self.kinds or event.terminal

    async def _run(self) -> AsyncIterator[ExecutionEvent]:
        subscription = self._bus.subscribe(execution_topic(self.execution_id))
        try:
            async with self._db.connect() as conn:
                execution = await PipelineExecutionRepository(conn).get(self.execution_id)
            async for event in self._catch_up():
                yield event
                if event.terminal:
                    return
            if execution.terminal:
                return  # the terminal event lies at or before the starting cursor
            async for event in self._live(subscription):
                yield event
                if event.terminal:
                    return
        finally:
            subscription.close()

    async def _catch_up(self) -> AsyncIterator[ExecutionEvent]:
        """Everything in the log after the cursor, page by page."""
        while True:
            async with self._db.connect() as conn:
                page = await read_events(conn, self.execution_id, after=self.cursor, limit=_PAGE)
            for event in page:
                self.cursor = event.seq
                if self._wanted(event):
                    yield event
                if event.terminal:
                    return
            if len(page) < _PAGE:
                return

    async def _live(self, subscription: Subscription) -> AsyncIterator[ExecutionEvent]:
        while True:
            item = await subscription.get()
            if isinstance(item, ExecutionEvent) and item.seq <= self.cursor:
                if item.terminal:
                    return  # the run ended at or before the cursor the stream was opened at
                continue  # already yielded from the backlog
            if isinstance(item, ExecutionEvent) and item.seq == self.cursor + 1:
                self.cursor = item.seq
                if self._wanted(item):
                    yield item
                if item.terminal:
                    return
                continue
            # overflow, a bare wake-up, or a gap: the log is the truth.  The row is
            # read first: if it is terminal then, its terminal event (committed with
            # it) is either in the catch-up or at or before the cursor, where a
            # stream opened past the run's last event never sees it.
            async with self._db.connect() as conn:
                ended = (await PipelineExecutionRepository(conn).get(self.execution_id)).terminal
            async for event in self._catch_up():
                yield event
                if event.terminal:
                    return
            if ended:
                return


class StorageEventStreamer(ExecutionEventStreamer):
    """Storage writes of one execution (``storage.written`` events), then the
    terminal status event.  Same resume and ordering guarantees; ``seq`` values
    are those of the shared log, so they have gaps and stay valid resume points."""

    kinds = frozenset({EventKind.STORAGE_WRITTEN})
