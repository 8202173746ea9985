"""``ScheduleService``: schedules' operations, and claiming their fire times.

Exactly once across servers: every fire time is claimed in one transaction
that locks the schedule row, checks its cursor (``next_fire_at``) is still
where this server saw it, inserts the execution (``pending``, ``source =
schedule``, linked by ``schedule_id``) with its first status event, records
the fire (primary key (schedule, fire time)), and advances the cursor.  A
second server asking for the same fire time waits for that lock and then sees
the cursor moved on; a server killed before its commit leaves nothing, so the
next one claims the time.  A run's row is therefore created exactly once per
fire time, and put in the run queue in the same transaction: this server
starts it at once when it has a slot, any server sharing the database when a
slot frees (a server killed after the commit loses nothing).

Changes (create, pause, resume, delete) wake the scheduler loop of this
process at once, and of every other server through ``pg_notify`` on
PostgreSQL, so a new schedule's first fire time is never slept through.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from factflow_engine import ConfigGate, Registry, RouteDirectory
from factflow_foundation import FactFlowError, get_logger, new_id, utcnow
from factflow_infra.db import Database
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._channels import SCHEDULE_CHANNEL, notify
from factflow_execution._events import EventLog
from factflow_execution._manager import OrchestratorManager
from factflow_execution._models import ConfigSourceType
from factflow_execution._queue_repository import enqueue
from factflow_execution._repositories import PipelineExecutionRepository
from factflow_execution._schedules_errors import InvalidScheduleError, ScheduleExistsError
from factflow_execution._schedules_models import (
    FireOutcome,
    Schedule,
    ScheduleFire,
    ScheduleSpec,
)
from factflow_execution._schedules_repository import ScheduleRepository
from factflow_execution._schedules_timing import Trigger
from factflow_execution._snapshots import config_snapshot

__all__ = ["SCHEDULE_CHANNEL", "ScheduleHost", "ScheduleService", "parse_spec", "trigger_of"]

_log = get_logger("factflow.execution.schedules")

_MAX_NEXT = 100


class QueuePump(Protocol):
    async def pump(self) -> int: ...


class ScheduleHost(Protocol):
    """What schedules need of the service that hosts them (``ExecutionService`` is
    one): its database, event log and run controller, what a snapshot is resolved
    with, and the run queue that starts queued runs.  A protocol, so this module
    never imports the service back."""

    db: Database
    registry: Registry
    config_gate: ConfigGate
    directory: RouteDirectory
    event_log: EventLog
    manager: OrchestratorManager

    @property
    def run_queue(self) -> QueuePump: ...


def parse_spec(fields: Mapping[str, Any]) -> ScheduleSpec:
    """A ``ScheduleSpec`` from plain fields, or ``InvalidScheduleError`` naming each
    field that is wrong and why."""
    try:
        return ScheduleSpec.model_validate(dict(fields))
    except ValidationError as exc:
        issues = [
            {
                "path": ".".join(str(part) for part in error["loc"]) or "(schedule)",
                "message": str(error["msg"]).removeprefix("Value error, "),
                "line": None,
            }
            for error in exc.errors()
        ]
        summary = "; ".join(f"{i['path']}: {i['message']}" for i in issues)
        raise InvalidScheduleError(
            f"invalid schedule: {summary}", extra={"issues": issues}
        ) from None


def trigger_of(schedule: ScheduleSpec) -> Trigger:
    return Trigger(schedule.cron, schedule.timezone, schedule.interval_seconds, schedule.anchor)


@dataclass(frozen=True)
class _Plan:
    """What one claim step does: run ``fire_time`` (or nothing), then move the cursor."""

    fire_time: datetime | None
    next_cursor: datetime
    dropped: int


def plan_step(schedule: Schedule, now: datetime) -> _Plan | None:
    """The catch-up policy applied to the fire times due at ``now`` (None: none due).

    ``all`` and ``skip`` run due fire times one per step, oldest first - ``all``
    the newest ``catchup_limit`` of them, ``skip`` those at most
    ``misfire_grace_seconds`` late (and at most ``catchup_limit``); ``once``
    runs only the latest.  The cursor moves to the next time to consider.
    """
    cursor = schedule.next_fire_at
    if cursor is None or cursor > now:
        return None
    trigger = trigger_of(schedule)
    after_now = trigger.next_after(now)
    if schedule.catchup == "once":
        due = trigger.due(cursor, now, 1)
        if not due.times:  # the cursor sat on a time the trigger no longer yields
            return _Plan(None, after_now, 0)
        return _Plan(due.times[-1], after_now, due.total - 1)
    since = cursor
    if schedule.catchup == "skip":
        since = max(cursor, now - timedelta(seconds=schedule.misfire_grace_seconds))
    due = trigger.due(since, now, schedule.catchup_limit)
    dropped = due.total - len(due.times)
    if since > cursor:
        dropped += trigger.due(cursor, since - timedelta(microseconds=1), 1).total
    if not due.times:
        return _Plan(None, after_now, dropped)
    following = due.times[1] if len(due.times) > 1 else after_now
    return _Plan(due.times[0], following, dropped)


class ScheduleService:
    """Create, list, pause, resume and delete schedules; claim due fire times."""

    def __init__(self, service: ScheduleHost, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._service = service
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []
        self._fire_listeners: list[Callable[[ScheduleFire], None]] = []

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after any schedule of this process changed (the loop's wake-up)."""
        self._listeners.append(callback)

    def on_fire(self, callback: Callable[[ScheduleFire], None]) -> None:
        """Call ``callback`` with each fire this process claimed, once its run was started."""
        self._fire_listeners.append(callback)

    # -- operations -------------------------------------------------------------

    async def create(self, spec: ScheduleSpec | Mapping[str, Any]) -> Schedule:
        """Store a schedule; its first fire time is the first one after now.

        ``spec`` may be a mapping of ``ScheduleSpec`` fields (``InvalidScheduleError``
        names each bad one).  The config must exist and the params must resolve
        against it (checked now, so a typo fails here rather than at 2 a.m.).
        """
        if not isinstance(spec, ScheduleSpec):
            spec = parse_spec(spec)
        svc = self._service
        await config_snapshot(
            svc.db,
            svc.config_gate,
            svc.directory,
            spec.config_name,
            spec.config_version,
            spec.params,
        )
        now = self.clock()
        cursor = None if spec.paused else trigger_of(spec).next_after(now)
        try:
            async with svc.db.transaction() as conn:
                schedule = await ScheduleRepository(conn).add(spec, now=now, next_fire_at=cursor)
                await self._notify(conn, schedule.id)
        except IntegrityError:
            raise ScheduleExistsError(spec.name) from None
        self._changed()
        return schedule

    async def get(self, ref: str) -> Schedule:
        """The schedule with this id or name (``ScheduleNotFoundError``)."""
        async with self._service.db.connect() as conn:
            return await ScheduleRepository(conn).get(ref)

    async def list(
        self, *, config_name: str | None = None, paused: bool | None = None
    ) -> builtins.list[Schedule]:
        async with self._service.db.connect() as conn:
            return await ScheduleRepository(conn).list(config_name=config_name, paused=paused)

    async def pause(self, ref: str) -> Schedule:
        """Stop firing (idempotent).  Runs already started carry on."""
        return await self._set_paused(ref, True)

    async def resume(self, ref: str) -> Schedule:
        """Fire again from the next fire time after now (idempotent).  Time spent
        paused is not downtime: nothing is caught up for it."""
        return await self._set_paused(ref, False)

    async def _set_paused(self, ref: str, paused: bool) -> Schedule:
        async with self._service.db.transaction() as conn:
            repo = ScheduleRepository(conn)
            schedule = await repo.get(ref, lock=True)
            if schedule.paused == paused:
                return schedule
            now = self.clock()
            cursor = None if paused else trigger_of(schedule).next_after(now)
            schedule = await repo.set_state(
                schedule.id, paused=paused, next_fire_at=cursor, now=now
            )
            await self._notify(conn, schedule.id)
        self._changed()
        return schedule

    async def delete(self, ref: str) -> Schedule:
        """Delete a schedule and its fire records; its runs stay (with ``schedule_id``)."""
        async with self._service.db.transaction() as conn:
            repo = ScheduleRepository(conn)
            schedule = await repo.get(ref, lock=True)
            await repo.delete(schedule.id)
            await self._notify(conn, schedule.id)
        self._changed()
        return schedule

    async def next_fire_times(self, ref: str, count: int = 5) -> builtins.list[datetime]:
        """The next ``count`` fire times (from the cursor; from now when paused)."""
        schedule = await self.get(ref)
        count = max(1, min(count, _MAX_NEXT))
        start = schedule.next_fire_at
        trigger = trigger_of(schedule)
        times: builtins.list[datetime] = []
        moment = self.clock() if start is None else start - timedelta(microseconds=1)
        for at in trigger.iter_after(moment):
            times.append(at)
            if len(times) == count:
                break
        return times

    async def fires(
        self, ref: str, *, limit: int = 50, before: datetime | None = None
    ) -> builtins.list[ScheduleFire]:
        """The schedule's claimed fire times, newest first."""
        async with self._service.db.connect() as conn:
            repo = ScheduleRepository(conn)
            schedule = await repo.get(ref)
            return await repo.fires(schedule.id, limit=limit, before=before)

    # -- firing -----------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> datetime | None:
        """Claim and start every fire time due at ``now`` (default: the clock);
        return the soonest fire time still ahead (when to tick next)."""
        now = now or self.clock()
        async with self._service.db.connect() as conn:
            due = await ScheduleRepository(conn).due_ids(now)
        for schedule_id in due:
            try:
                while await self._step(schedule_id, now):
                    pass
            except FactFlowError:
                _log.exception("schedule %s could not fire", schedule_id)
        async with self._service.db.connect() as conn:
            return await ScheduleRepository(conn).earliest_next_fire()

    async def _step(self, schedule_id: str, now: datetime) -> bool:
        """Apply one step of the schedule's plan; False when nothing is due (any more)."""
        svc = self._service
        async with svc.db.connect() as conn:
            seen = await ScheduleRepository(conn).find(schedule_id)
        if seen is None or seen.paused:
            return False
        plan = plan_step(seen, now)
        if plan is None:
            return False
        snapshot: tuple[Any, dict[str, Any]] | None = None
        failure: str | None = None
        if plan.fire_time is not None:
            try:
                snapshot = await config_snapshot(
                    svc.db,
                    svc.config_gate,
                    svc.directory,
                    seen.config_name,
                    seen.config_version,
                    seen.params,
                )
            except FactFlowError as exc:
                failure = f"could not create the run: {exc}"
        execution_id = new_id()
        created = False
        fire: ScheduleFire | None = None
        async with svc.event_log.writing(execution_id) as writer:
            repo = ScheduleRepository(writer.conn)
            current = await repo.find(schedule_id, lock=True)
            if current is None or current.paused or current.next_fire_at != seen.next_fire_at:
                return current is not None and not current.paused  # another server moved it
            if plan.dropped:
                _log.warning(
                    "schedule %s: %d missed fire time(s) dropped (catchup=%s)",
                    seen.name,
                    plan.dropped,
                    seen.catchup,
                )
            if plan.fire_time is not None:
                outcome: FireOutcome = "started"
                reason = failure
                limit = seen.max_active_runs
                if failure is not None:
                    outcome = "failed"
                elif limit is not None and await repo.active_runs(schedule_id) >= limit:
                    outcome = "skipped"
                    reason = f"{limit} run(s) of this schedule still active (max_active_runs)"
                elif snapshot is not None:
                    config, data = snapshot
                    row = await PipelineExecutionRepository(writer.conn).add(
                        execution_id=execution_id,
                        config=config,
                        config_name=config.name,
                        snapshot=data,
                        source=ConfigSourceType.SCHEDULE,
                        labels=seen.labels,
                        owner=svc.manager.owner_id,
                        schedule_id=schedule_id,
                    )
                    await enqueue(writer, row, 0)
                    created = True
                fire = await repo.add_fire(
                    schedule_id,
                    plan.fire_time,
                    outcome=outcome,
                    execution_id=execution_id if created else None,
                    reason=reason,
                    claimed_at=now,
                    claimed_by=svc.manager.owner_id,
                )
            await repo.advance(
                schedule_id, next_fire_at=plan.next_cursor, last_fire_at=plan.fire_time
            )
        if created:
            await self._start()
        if fire is not None:
            for callback in self._fire_listeners:
                callback(fire)
        return True

    async def _start(self) -> None:
        """Start what this process can of the queue (the run just queued first,
        unless runs queued earlier wait); the rest starts as slots free."""
        try:
            await self._service.run_queue.pump()
        except Exception:  # the queue's own dispatcher tries again
            _log.warning("could not start queued runs after a fire", exc_info=True)

    # -- change notification ------------------------------------------------------

    async def _notify(self, conn: AsyncConnection, schedule_id: str) -> None:
        await notify(conn, SCHEDULE_CHANNEL, schedule_id)  # delivered at commit

    def _changed(self) -> None:
        for callback in self._listeners:
            callback()
