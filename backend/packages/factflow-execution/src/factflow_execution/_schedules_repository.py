"""Row access for schedules and their fires (SQL only; the caller owns the transaction).

``lock`` is the one place concurrency is decided: ``SELECT … FOR UPDATE`` on
PostgreSQL (a second server asking for the same schedule waits for the first
one's commit and then sees the advanced cursor), the write lock on SQLite
(``BEGIN IMMEDIATE`` serialises writers, across processes too).  The
``schedule_fires`` primary key backs it up: a fire time can be recorded once.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from factflow_foundation import ensure_utc, loads, new_id
from factflow_infra.db import pipeline_executions, schedule_fires, schedules
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._models import ACTIVE_STATUSES
from factflow_execution._schedules_errors import ScheduleExistsError, ScheduleNotFoundError
from factflow_execution._schedules_models import (
    FireOutcome,
    Schedule,
    ScheduleFire,
    ScheduleSpec,
)

__all__ = ["ScheduleRepository"]


def _row_to_schedule(row: Mapping[Any, Any]) -> Schedule:
    data = dict(row)
    for key in ("params", "labels"):
        if isinstance(data.get(key), str):  # defensive: some drivers hand back text
            data[key] = loads(data[key])
    data["paused"] = bool(data["paused"])
    return Schedule.model_validate(data)


class ScheduleRepository:
    """Schedules: add, find, list, pause, delete, lock and advance; fires: add, list."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self, spec: ScheduleSpec, *, now: datetime, next_fire_at: datetime | None
    ) -> Schedule:
        """Insert a schedule (``ScheduleExistsError`` when the name is taken)."""
        row: dict[str, Any] = {
            **spec.model_dump(),
            "id": new_id(),
            "created_at": now,
            "updated_at": now,
            "next_fire_at": next_fire_at,
            "last_fire_at": None,
        }
        if await self._find_by_name(spec.name) is not None:
            raise ScheduleExistsError(spec.name)
        # A concurrent create of the same name fails the unique constraint at
        # commit at the latest; the service maps that IntegrityError too.
        await self.conn.execute(insert(schedules).values(row))
        return Schedule.model_validate(row)

    async def _find_by_name(self, name: str) -> Schedule | None:
        query = select(schedules).where(schedules.c.name == name)
        row = (await self.conn.execute(query)).mappings().first()
        return None if row is None else _row_to_schedule(row)

    async def find(self, ref: str, *, lock: bool = False) -> Schedule | None:
        """The schedule with id ``ref``, else the one named ``ref``.  ``lock`` takes
        its row lock until the transaction ends (PostgreSQL; SQLite's write
        transaction already excludes other writers)."""
        query = select(schedules).where(or_(schedules.c.id == ref, schedules.c.name == ref))
        if lock:
            query = query.with_for_update()
        rows = (await self.conn.execute(query)).mappings().all()
        # An id wins over a name that happens to look like another schedule's id.
        row = next((r for r in rows if r["id"] == ref), rows[0] if rows else None)
        return None if row is None else _row_to_schedule(row)

    async def get(self, ref: str, *, lock: bool = False) -> Schedule:
        schedule = await self.find(ref, lock=lock)
        if schedule is None:
            raise ScheduleNotFoundError(ref)
        return schedule

    async def list(
        self, *, config_name: str | None = None, paused: bool | None = None
    ) -> builtins.list[Schedule]:
        """Schedules by name."""
        query = select(schedules).order_by(schedules.c.name)
        if config_name is not None:
            query = query.where(schedules.c.config_name == config_name)
        if paused is not None:
            query = query.where(schedules.c.paused == paused)
        rows = (await self.conn.execute(query)).mappings().all()
        return [_row_to_schedule(r) for r in rows]

    async def set_state(
        self, schedule_id: str, *, paused: bool, next_fire_at: datetime | None, now: datetime
    ) -> Schedule:
        """Pause (cursor cleared) or resume (cursor set) a schedule."""
        await self.conn.execute(
            update(schedules)
            .where(schedules.c.id == schedule_id)
            .values(paused=paused, next_fire_at=next_fire_at, updated_at=now)
        )
        return await self.get(schedule_id)

    async def delete(self, schedule_id: str) -> None:
        """Delete a schedule and its fire records (its runs keep their ``schedule_id``)."""
        await self.conn.execute(delete(schedules).where(schedules.c.id == schedule_id))

    async def due_ids(self, now: datetime) -> builtins.list[str]:
        """Ids of unpaused schedules whose cursor is at or before ``now``, most overdue first."""
        query = (
            select(schedules.c.id)
            .where(schedules.c.next_fire_at <= now, schedules.c.paused.is_(False))
            .order_by(schedules.c.next_fire_at, schedules.c.id)
        )
        return [str(r) for r in (await self.conn.execute(query)).scalars()]

    async def earliest_next_fire(self) -> datetime | None:
        """The soonest cursor of any unpaused schedule (when the scheduler must wake)."""
        query = select(func.min(schedules.c.next_fire_at)).where(schedules.c.paused.is_(False))
        value: Any = (await self.conn.execute(query)).scalar_one_or_none()
        if value is None:
            return None
        if isinstance(value, str):  # SQLite's min() loses the column type
            value = datetime.fromisoformat(value)
        return ensure_utc(value)

    async def advance(
        self, schedule_id: str, *, next_fire_at: datetime, last_fire_at: datetime | None
    ) -> None:
        """Move the cursor (and the latest fire time claimed, when one was)."""
        values: dict[str, Any] = {"next_fire_at": next_fire_at}
        if last_fire_at is not None:
            values["last_fire_at"] = last_fire_at
        await self.conn.execute(
            update(schedules).where(schedules.c.id == schedule_id).values(values)
        )

    async def add_fire(
        self,
        schedule_id: str,
        fire_time: datetime,
        *,
        outcome: FireOutcome,
        execution_id: str | None,
        reason: str | None,
        claimed_at: datetime,
        claimed_by: str,
    ) -> ScheduleFire:
        """Record a claimed fire time (an ``IntegrityError`` if it was claimed before)."""
        row = {
            "schedule_id": schedule_id,
            "fire_time": fire_time,
            "outcome": outcome,
            "execution_id": execution_id,
            "reason": reason,
            "claimed_at": claimed_at,
            "claimed_by": claimed_by,
        }
        await self.conn.execute(insert(schedule_fires).values(row))
        return ScheduleFire.model_validate(row)

    async def fires(
        self, schedule_id: str, *, limit: int = 50, before: datetime | None = None
    ) -> builtins.list[ScheduleFire]:
        """Fire records, newest first (``before`` pages back)."""
        t = schedule_fires
        query = select(t).where(t.c.schedule_id == schedule_id)
        if before is not None:
            query = query.where(t.c.fire_time < before)
        query = query.order_by(t.c.fire_time.desc()).limit(limit)
        rows = (await self.conn.execute(query)).mappings().all()
        return [ScheduleFire.model_validate(dict(r)) for r in rows]

    async def active_runs(self, schedule_id: str) -> int:
        """Runs of the schedule that are pending or running."""
        t = pipeline_executions
        query = select(func.count()).where(
            t.c.schedule_id == schedule_id, t.c.status.in_(sorted(ACTIVE_STATUSES))
        )
        return int((await self.conn.execute(query)).scalar_one())
