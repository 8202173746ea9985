"""Rows of the run queue and of per-config limits (SQL only; no transactions here).

A queued execution is a ``pending`` row of ``pipeline_executions`` with one
``run_queue`` row beside it.  The queue row is deleted in the transaction that
starts the run; a queue row whose execution is no longer ``pending`` (it was
cancelled, or started explicitly) is stale: reads ignore it and the next claim
deletes it.  Order: ``priority`` descending, then ``seq`` (insertion) - FIFO
within a priority.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from factflow_foundation import utcnow
from factflow_infra.db import config_limits, pipeline_executions, run_queue
from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._channels import QUEUE_CHANNEL, notify
from factflow_execution._events import EventKind, EventWriter
from factflow_execution._models import PipelineExecution
from factflow_execution._queue_models import ConfigLimit, QueuedRun, QueueEntry

__all__ = ["ConfigLimitRepository", "RunQueueRepository", "enqueue"]

_q = run_queue
_e = pipeline_executions
_l = config_limits


def _waiting() -> Select[tuple[int, str, str, int, datetime]]:
    """Queue rows whose execution is still ``pending``, in start order."""
    return (
        select(_q.c.seq, _q.c.execution_id, _q.c.config_name, _q.c.priority, _q.c.enqueued_at)
        .join(_e, and_(_e.c.id == _q.c.execution_id, _e.c.status == "pending"))
        .order_by(_q.c.priority.desc(), _q.c.seq)
    )


def _running_of(config_name: ColumnElement[str] | str) -> ScalarSelect[int]:
    return (
        select(func.count())
        .select_from(_e)
        .where(_e.c.status == "running", _e.c.config_name == config_name)
        .scalar_subquery()
    )


async def enqueue(writer: EventWriter, execution: PipelineExecution, priority: int) -> None:
    """Put a ``pending`` row (inserted in ``writer``'s transaction) in the queue,
    with its ``pending`` status event, and wake every server's dispatcher at commit."""
    await RunQueueRepository(writer.conn).add(execution.id, execution.config_name, priority)
    data = {"status": "pending", "queued": True, "priority": priority}
    await writer.append(EventKind.STATUS, data)
    await notify(writer.conn, QUEUE_CHANNEL, execution.id)


class RunQueueRepository:
    """Add, look at, lock and remove queued runs."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, execution_id: str, config_name: str, priority: int = 0) -> None:
        await self.conn.execute(
            insert(_q).values(
                execution_id=execution_id,
                config_name=config_name,
                priority=priority,
                enqueued_at=utcnow(),
            )
        )

    async def any_waiting(self) -> bool:
        """Whether any pending execution waits in the queue."""
        row = (await self.conn.execute(_waiting().limit(1))).first()
        return row is not None

    async def candidates(self, limit: int) -> list[QueueEntry]:
        """The first ``limit`` waiting entries whose config is below its limit (a
        hint: the claim checks the limit again under the limit row's lock)."""
        eligible = or_(
            ~exists(select(_l.c.config_name).where(_l.c.config_name == _q.c.config_name)),
            exists(
                select(_l.c.config_name).where(
                    _l.c.config_name == _q.c.config_name,
                    _l.c.max_running > _running_of(_q.c.config_name),
                )
            ),
        )
        rows = (await self.conn.execute(_waiting().where(eligible).limit(limit))).all()
        return [
            QueueEntry(r.seq, r.execution_id, r.config_name, r.priority, r.enqueued_at)
            for r in rows
        ]

    async def lock(self, execution_id: str) -> bool:
        """Lock this execution's queue row for the transaction; False when it is gone
        or another server holds it (PostgreSQL ``FOR UPDATE SKIP LOCKED``; on SQLite
        the one writer already excludes everyone else)."""
        query = (
            select(_q.c.seq)
            .where(_q.c.execution_id == execution_id)
            .with_for_update(skip_locked=True)
        )
        return (await self.conn.execute(query)).first() is not None

    async def remove(self, execution_id: str) -> None:
        await self.conn.execute(delete(_q).where(_q.c.execution_id == execution_id))

    async def positions(self, execution_ids: Sequence[str]) -> dict[str, int]:
        """1-based places in the queue of those of ``execution_ids`` that wait."""
        if not execution_ids:
            return {}
        ranked = select(
            _q.c.execution_id,
            func.row_number().over(order_by=(_q.c.priority.desc(), _q.c.seq)).label("position"),
        ).join(_e, and_(_e.c.id == _q.c.execution_id, _e.c.status == "pending"))
        sub = ranked.subquery()
        query = select(sub.c.execution_id, sub.c.position).where(
            sub.c.execution_id.in_(list(execution_ids))
        )
        return {str(r[0]): int(r[1]) for r in (await self.conn.execute(query)).all()}

    async def waiting(self, limit: int = 100) -> list[QueuedRun]:
        """The first ``limit`` waiting runs with their positions."""
        rows = (await self.conn.execute(_waiting().limit(limit))).all()
        return [
            QueuedRun(
                execution_id=row.execution_id,
                config_name=row.config_name,
                priority=row.priority,
                position=i,
                enqueued_at=row.enqueued_at,
            )
            for i, row in enumerate(rows, start=1)
        ]

    async def length(self, config_name: str | None = None) -> int:
        query = select(func.count()).select_from(_waiting().subquery())
        if config_name is not None:
            sub = _waiting().where(_q.c.config_name == config_name).subquery()
            query = select(func.count()).select_from(sub)
        return int((await self.conn.execute(query)).scalar_one())


class ConfigLimitRepository:
    """Per-config concurrency limits."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def slot_free(self, config_name: str) -> int | None:
        """Lock the config's limit (PostgreSQL ``FOR UPDATE``, until commit) and say
        whether one more of its runs may start: None when it may, else the limit.

        Every start of a run checks this in the transaction that makes it
        ``running``, so two servers cannot both take the config's last slot: the
        second waits for the first to commit, then counts its run.
        """
        query = select(_l.c.max_running).where(_l.c.config_name == config_name).with_for_update()
        limit = (await self.conn.execute(query)).scalar_one_or_none()
        if limit is None:
            return None
        running = (await self.conn.execute(select(_running_of(config_name)))).scalar_one()
        return None if int(running) < limit else int(limit)

    async def get(self, config_name: str) -> ConfigLimit:
        """The limit of ``config_name`` (``max_running`` None when it has none) and
        how many of its runs run and wait now."""
        row = (
            await self.conn.execute(
                select(_l.c.max_running, _l.c.updated_at).where(_l.c.config_name == config_name)
            )
        ).first()
        running = (await self.conn.execute(select(_running_of(config_name)))).scalar_one()
        queued = await RunQueueRepository(self.conn).length(config_name)
        return ConfigLimit(
            config_name=config_name,
            max_running=None if row is None else int(row.max_running),
            running=int(running),
            queued=queued,
            updated_at=None if row is None else row.updated_at,
        )

    async def list(self) -> list[ConfigLimit]:
        names = (await self.conn.execute(select(_l.c.config_name).order_by(_l.c.config_name))).all()
        return [await self.get(str(name[0])) for name in names]

    async def set(self, config_name: str, max_running: int) -> bool:
        """Set (or replace) the limit; whether it changed anything."""
        now = utcnow()
        current = (
            await self.conn.execute(
                select(_l.c.max_running).where(_l.c.config_name == config_name).with_for_update()
            )
        ).scalar_one_or_none()
        if current == max_running:
            return False
        if current is None:
            await self.conn.execute(
                insert(_l).values(config_name=config_name, max_running=max_running, updated_at=now)
            )
        else:
            await self.conn.execute(
                update(_l)
                .where(_l.c.config_name == config_name)
                .values(max_running=max_running, updated_at=now)
            )
        return True

    async def delete(self, config_name: str) -> bool:
        result = await self.conn.execute(delete(_l).where(_l.c.config_name == config_name))
        return bool(result.rowcount)
