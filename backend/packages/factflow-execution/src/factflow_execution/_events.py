"""The persisted execution event log and its single writer.

Every event of an execution gets the next ``seq`` (1, 2, 3, … dense) from the
execution row itself: ``UPDATE pipeline_executions SET last_event_seq =
last_event_seq + 1 … RETURNING``.  That row lock is held until commit, so the
events of one execution commit in seq order even across processes, and a
reader at cursor N can never miss an N-1 that commits late.  In this process a
per-execution lock also spans commit and publish, so live notifications leave
in seq order.  On PostgreSQL each write also issues one ``pg_notify`` (delivered
at commit) as a cross-process wake-up.

Events that nothing waits on to be durable (route started/drained, progress,
message failures) can be *posted* instead of appended: they are buffered per
execution and written by the next transaction on that execution - the one
flush task, which writes every run's posted events in one transaction, or the
finalising status change if it gets there first - so a
short run commits its last route and progress events together with its
terminal status, in one transaction instead of one each.  Posted events keep
their order relative to every other event of the execution, because every
write transaction takes the buffer first, under the same per-execution lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from factflow_foundation import get_logger, utcnow
from factflow_infra.db import Database, execution_events, pipeline_executions
from factflow_protocols import EventBus
from sqlalchemy import RowMapping, Update, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._changes import EXECUTIONS_TOPIC, ExecutionChange
from factflow_execution._channels import NOTIFY_CHANNEL, notify
from factflow_execution._errors import ExecutionNotFoundError
from factflow_execution._event_models import (
    EventKind,
    ExecutionEvent,
    Items,
    PostedEvents,
    execution_topic,
)

__all__ = [
    "EventKind",
    "EventLog",
    "EventWriter",
    "ExecutionEvent",
    "execution_topic",
    "read_events",
]

_log = get_logger("factflow.execution.events")


class EventWriter:
    """Appends events inside one open write transaction (see ``EventLog.writing``).

    Events may be *deferred* (``defer``, and the posted events ``writing`` hands
    over): they get their seqs, in order, with the next append or status change
    in the transaction, or just before it commits - one seq bump and one INSERT
    for all of them.
    """

    __slots__ = ("_deferred", "conn", "events", "execution_id", "origin")

    def __init__(
        self,
        conn: AsyncConnection,
        execution_id: str,
        origin: str,
        deferred: PostedEvents | None = None,
    ) -> None:
        self.conn = conn
        self.execution_id = execution_id
        self.events: list[ExecutionEvent] = []
        self.origin = origin
        self._deferred: PostedEvents = list(deferred or ())

    def defer(self, kind: EventKind, data: dict[str, Any]) -> None:
        """Queue an event for this transaction (written before anything appended later)."""
        self._deferred.append((kind, data, utcnow()))

    async def append(self, kind: EventKind, data: dict[str, Any]) -> ExecutionEvent:
        return (await self.append_many([(kind, data, None)]))[0]

    async def append_many(
        self, items: Sequence[tuple[EventKind, dict[str, Any], datetime | None]]
    ) -> list[ExecutionEvent]:
        """Append ``(kind, data, at)`` events (``at`` None = now), after any deferred
        ones, with consecutive seqs: one seq UPDATE, one INSERT and at most one
        ``pg_notify``, whatever their number."""
        batch = self.take(items)
        if not batch:
            return []
        t = pipeline_executions
        result = await self.conn.execute(
            update(t)
            .where(t.c.id == self.execution_id)
            .values(last_event_seq=t.c.last_event_seq + len(batch))
            .returning(t.c.last_event_seq)
        )
        last = result.scalar_one_or_none()
        if last is None:
            raise ExecutionNotFoundError(self.execution_id)
        written = await self._insert(batch, last)
        return written[len(written) - len(items) :]

    async def update_and_append(
        self, statement: Update, kind: EventKind, data: dict[str, Any]
    ) -> tuple[RowMapping | None, ExecutionEvent | None]:
        """Run ``statement`` (an UPDATE of this execution's row) and append one event
        with the same statement's seq bump: ``(row, event)``, or ``(None, None)``
        when the UPDATE matched no row (the deferred events then stay queued)."""
        t = pipeline_executions
        count = len(self._deferred) + 1
        result = await self.conn.execute(
            statement.values(last_event_seq=t.c.last_event_seq + count).returning(*t.c)
        )
        row = result.mappings().first()
        if row is None:
            return None, None
        batch = self.take([(kind, data, None)])
        written = await self._insert(batch, int(row["last_event_seq"]))
        return row, written[-1]

    def take(
        self, items: Sequence[tuple[EventKind, dict[str, Any], datetime | None]]
    ) -> PostedEvents:
        """The deferred events then ``items``, taken out of this writer."""
        batch = self._deferred + list(items)
        self._deferred = []
        return batch

    def numbered(self, batch: PostedEvents, last: int) -> list[ExecutionEvent]:
        """``batch`` as events whose seqs end at ``last`` (no I/O)."""
        now = utcnow()
        first = last - len(batch) + 1
        return [
            ExecutionEvent(
                execution_id=self.execution_id, seq=first + i, kind=kind, data=data, at=at or now
            )
            for i, (kind, data, at) in enumerate(batch)
        ]

    async def _insert(self, batch: PostedEvents, last: int) -> list[ExecutionEvent]:
        events = self.numbered(batch, last)
        rows = event_rows(events)
        if len(rows) == 1:
            await self.conn.execute(insert(execution_events).values(rows[0]))
        else:
            await self.conn.execute(insert(execution_events), rows)
        await notify(
            self.conn,
            NOTIFY_CHANNEL,
            {"execution_id": self.execution_id, "seq": last, "origin": self.origin},
        )
        self.events.extend(events)
        return events


async def append_grouped(writers: Mapping[str, EventWriter], grouped: Mapping[str, Items]) -> None:
    """Append ``grouped[id]`` (after its deferred events) through ``writers[id]``
    (and every writer's deferred events), all on the writers' one connection,
    with one seq UPDATE and one INSERT whatever the number of runs."""
    batches = {i: writer.take(grouped.get(i, ())) for i, writer in writers.items()}
    counts = {i: len(batch) for i, batch in batches.items() if batch}
    if not counts:
        return
    conn = writers[next(iter(counts))].conn
    t = pipeline_executions
    result = await conn.execute(
        update(t)
        .where(t.c.id.in_(list(counts)))
        .values(last_event_seq=t.c.last_event_seq + case(counts, value=t.c.id))
        .returning(t.c.id, t.c.last_event_seq)
    )
    last = {execution_id: int(seq) for execution_id, seq in result.all()}
    for execution_id in counts:
        if execution_id not in last:
            raise ExecutionNotFoundError(execution_id)
    events: list[ExecutionEvent] = []
    for execution_id in counts:
        numbered = writers[execution_id].numbered(batches[execution_id], last[execution_id])
        writers[execution_id].events.extend(numbered)
        events.extend(numbered)
    await conn.execute(insert(execution_events), event_rows(events))
    for execution_id in counts:
        await notify(
            conn,
            NOTIFY_CHANNEL,
            {
                "execution_id": execution_id,
                "seq": last[execution_id],
                "origin": writers[execution_id].origin,
            },
        )


def event_rows(events: Sequence[ExecutionEvent]) -> list[dict[str, Any]]:
    """``execution_events`` rows of ``events``."""
    return [
        {"execution_id": e.execution_id, "seq": e.seq, "kind": e.kind, "data": e.data, "at": e.at}
        for e in events
    ]


def change_of(execution_id: str, events: Sequence[ExecutionEvent]) -> ExecutionChange:
    """The summary of one committed batch: its last seq, kinds and newest status."""
    status = None
    for event in events:
        if event.kind == EventKind.STATUS:
            status = str(event.data.get("status"))
    kinds = tuple(sorted({event.kind for event in events}))
    return ExecutionChange(execution_id, events[-1].seq if events else None, status, kinds)


class EventLog:
    """The one writer of ``execution_events`` in this process."""

    def __init__(self, db: Database, bus: EventBus, *, origin: str = "") -> None:
        self._db = db
        self._bus = bus
        self.origin = origin
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}
        self._posted: dict[str, PostedEvents] = {}
        self._flusher: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def writing(
        self, execution_id: str, *, claimed: PostedEvents | None = None
    ) -> AsyncIterator[EventWriter]:
        """Open a write transaction whose appended events are published after commit.

        Other statements may run on ``writer.conn`` in the same transaction (a
        status UPDATE, say): they commit or roll back together with the events.
        Events posted for the execution and not yet written go first (``claimed``
        ones, taken earlier with ``claim_posted``, before those posted since).
        """
        async with self.writing_many([execution_id], claimed=claimed) as writers:
            yield writers[execution_id]

    @asynccontextmanager
    async def writing_many(
        self, execution_ids: Sequence[str], *, claimed: PostedEvents | None = None
    ) -> AsyncIterator[dict[str, EventWriter]]:
        """``writing`` for several executions in one transaction (one writer each,
        all on the same connection; ``claimed`` belongs to the first id).  Their
        locks are taken in id order, so two such writes cannot deadlock."""
        ids = sorted(set(execution_ids))
        for execution_id in ids:
            if execution_id not in self._locks:
                self._locks[execution_id] = asyncio.Lock()
            self._users[execution_id] = self._users.get(execution_id, 0) + 1
        try:
            async with contextlib.AsyncExitStack() as locks:
                for execution_id in ids:
                    await locks.enter_async_context(self._locks[execution_id])
                posted = {i: self._posted.pop(i, []) for i in ids}
                if claimed:
                    first = execution_ids[0]
                    posted[first] = claimed + posted[first]
                try:
                    async with self._db.transaction() as conn:
                        writers = {i: EventWriter(conn, i, self.origin, posted[i]) for i in ids}
                        yield writers
                        await append_grouped(writers, {})
                except BaseException:
                    for i in ids:  # not written: keep them, in order
                        self.unclaim(i, posted[i])
                    raise
                for i, writer in writers.items():
                    topic = execution_topic(i)
                    for event in writer.events:
                        self._bus.publish(topic, event)
                    if writer.events:  # the server-wide feed of live lists (see _changes)
                        self._bus.publish(EXECUTIONS_TOPIC, change_of(i, writer.events))
        finally:
            for execution_id in ids:
                users = self._users[execution_id] - 1
                if users:
                    self._users[execution_id] = users
                else:
                    del self._users[execution_id]
                    del self._locks[execution_id]

    async def append(
        self, execution_id: str, kind: EventKind, data: dict[str, Any]
    ) -> ExecutionEvent:
        """Append one event in its own transaction."""
        async with self.writing(execution_id) as writer:
            return await writer.append(kind, data)

    def post(self, execution_id: str, kind: EventKind, data: dict[str, Any]) -> None:
        """Buffer an event for the next write transaction on ``execution_id``.

        Never blocks.  A flush task is started at once, so the event is written
        promptly even when nothing else writes; a status change that comes
        first takes it into its own transaction instead.  ``at`` is now.
        """
        self._posted.setdefault(execution_id, []).append((kind, data, utcnow()))
        self._ensure_flusher(execution_id)

    def unclaim(self, execution_id: str, events: PostedEvents) -> None:
        """Give back claimed events that were not written (they go first, in order)."""
        if events:
            self._posted[execution_id] = events + self._posted.get(execution_id, [])
            self._ensure_flusher(execution_id)

    def _ensure_flusher(self, execution_id: str) -> None:
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(
                self._flush(), name="factflow-events-posted"
            )

    def claim_posted(self, execution_id: str) -> PostedEvents:
        """Take the events posted for ``execution_id`` so far, to hand them to
        ``writing(claimed=...)``: the status change that ends a run writes them
        in its own transaction instead of a flush task writing them just before."""
        return self._posted.pop(execution_id, [])

    async def _flush(self) -> None:
        # Let the code that posted finish its current step first: a run that is
        # ending posts its last events and then claims them for its terminal
        # transaction, which saves this flush a transaction of its own.
        await asyncio.sleep(0)
        try:
            while self._posted:
                ids = list(self._posted)
                try:  # every run's posted events in one transaction (one seq UPDATE)
                    async with self.writing_many(ids):
                        pass  # writing_many() takes the posted events
                except Exception:
                    for execution_id in ids:  # one by one: a bad one drops only its own
                        await self._flush_one(execution_id)
        finally:
            self._flusher = None

    async def _flush_one(self, execution_id: str) -> None:
        try:
            while self._posted.get(execution_id):
                async with self.writing(execution_id):
                    pass
        except Exception:
            dropped = self._posted.pop(execution_id, [])
            _log.exception(
                "could not write %d event(s) of execution %s; dropped", len(dropped), execution_id
            )

    async def flush_posted(self) -> None:
        """Wait until every posted event is written (or dropped after an error)."""
        while self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)


async def read_events(
    conn: AsyncConnection,
    execution_id: str,
    *,
    after: int = 0,
    limit: int = 500,
    kinds: frozenset[str] | None = None,
) -> list[ExecutionEvent]:
    """Events with ``seq > after`` in seq order (at most ``limit``)."""
    query = (
        select(execution_events)
        .where(execution_events.c.execution_id == execution_id, execution_events.c.seq > after)
        .order_by(execution_events.c.seq)
        .limit(limit)
    )
    if kinds is not None:
        query = query.where(execution_events.c.kind.in_(sorted(kinds | {EventKind.STATUS})))
    rows = (await conn.execute(query)).mappings().all()
    return [
        ExecutionEvent(
            execution_id=row["execution_id"],
            seq=row["seq"],
            kind=row["kind"],
            data=row["data"],
            at=row["at"],
        )
        for row in rows
    ]
