"""Recovery and heartbeats: no row stays ``pending``/``running`` once its owner is gone.

Each execution row names its owner (``host:pid:token``) and carries a
heartbeat the owner renews every ``heartbeat_interval`` seconds in one
statement.  At startup and on every beat, any process interrupts a pending or
running row whose owner is gone: at once when the owner was a process on this
host that no longer exists, otherwise once its heartbeat is older than
``heartbeat_timeout`` - seconds, not minutes.  A ``running`` row this very
process owns but no longer runs (its run could not record its end) counts as
gone too.  A ``pending`` row waiting in the run queue belongs to no process
(any server may start it), so it is left alone.  Heartbeats are inherently
periodic; this timer is the only one.

On PostgreSQL a run is interrupted only once its owner has no session left
(``Database.open_sessions``): a process killed while a ``COMMIT`` was on its
way may still commit it, and nothing may read the run's lineage as final
before.  Recovery ends such sessions (``Database.end_sessions``) and looks
again on the next beat, so a lost host's lingering sessions delay it by one
beat, not by TCP keepalive's hours.

A run interrupted here died with its process, so its lineage cannot grow any
more: the objects it stored for messages whose lineage row never got written
are removed (``reconcile``), since a resume processes those messages again.
After recovery no stored object lacks its message's lineage row.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from factflow_foundation import get_logger, utcnow
from factflow_infra.db import Database, pipeline_executions
from factflow_infra.storage import remove_orphaned_objects
from factflow_protocols import StorageBackend
from sqlalchemy import ColumnElement

from factflow_execution._manager import OrchestratorManager
from factflow_execution._models import PipelineExecution
from factflow_execution._owner import parse_owner_id, pid_alive, this_host
from factflow_execution._queue_repository import RunQueueRepository
from factflow_execution._repositories import ActiveRow, PipelineExecutionRepository
from factflow_execution._transitions import Applied

__all__ = ["Recovery"]

_log = get_logger("factflow.execution.recovery")


class Recovery:
    """Renews this process's heartbeats and interrupts runs whose owner is gone."""

    def __init__(
        self,
        *,
        db: Database,
        manager: OrchestratorManager,
        storage: StorageBackend,
        heartbeat_interval: float,
        heartbeat_timeout: float,
    ) -> None:
        self._db = db
        self._manager = manager
        self._storage = storage
        self._interval = heartbeat_interval
        self._timeout = heartbeat_timeout
        self._task: asyncio.Task[None] | None = None
        self.on_interrupted: list[Callable[[], None]] = []
        """Called after a recovery pass interrupted runs (their slots, and their
        configs' limits, are free again: the run queue looks again)."""

    @property
    def _owner(self) -> str:
        return self._manager.owner_id

    def _gone_reason(self, row: ActiveRow, cutoff: datetime) -> tuple[str | None, bool]:
        """Why an active row's owner counts as gone (None if it does not), and
        whether the verdict rests on the heartbeat being stale."""
        if row.owner is None:
            return "it has no owning server process", False
        if row.owner == self._owner:
            # Runs are released only once their row is terminal, so a running row
            # of ours that is not tracked lost its run; pending rows wait to start.
            if row.status == "running" and row.id not in self._manager:
                return f"its server process ({row.owner}) no longer runs it", False
            return None, False
        parsed = parse_owner_id(row.owner)
        if parsed is not None and parsed[0] == this_host() and not pid_alive(parsed[1]):
            return f"its server process ({row.owner}) is gone", False
        if row.heartbeat_at is None or row.heartbeat_at < cutoff:
            last = row.heartbeat_at.isoformat() if row.heartbeat_at else "never"
            return (
                f"its server process ({row.owner}) stopped renewing its heartbeat (last {last})",
                True,
            )
        return None, False

    def owner_is_gone(self, execution: PipelineExecution) -> bool:
        """Whether no live process owns this execution any more."""
        row = ActiveRow(execution.id, execution.status, execution.owner, execution.heartbeat_at)
        return self._gone_reason(row, self._cutoff())[0] is not None

    def _cutoff(self) -> datetime:
        return utcnow() - timedelta(seconds=self._timeout)

    async def recover(self) -> list[str]:
        """Interrupt every pending/running row whose owner is gone; their ids."""
        cutoff = self._cutoff()
        active = await self._active()
        interrupted = []
        for row in active:
            reason, stale = self._gone_reason(row, cutoff)
            if reason is None:
                continue
            if row.owner not in (None, self._owner) and await self._db.open_sessions(row.owner):
                # A session of the dead owner may still commit (its COMMIT was on
                # the way): its lineage is not final yet.  End those sessions (a
                # lost host's would linger for hours) and look again next beat.
                await self._db.end_sessions(row.owner)
                continue
            only_if: ColumnElement[bool] | None = None
            if stale:  # the owner may have renewed since we looked
                t = pipeline_executions
                only_if = t.c.heartbeat_at.is_(None) | (t.c.heartbeat_at < cutoff)
            if await self._interrupt(row, f"interrupted: {reason}", only_if):
                interrupted.append(row.id)
                await self.reconcile(row.id)
        if interrupted:
            _log.warning("marked %d orphaned execution(s) interrupted", len(interrupted))
            for callback in self.on_interrupted:
                callback()
        return interrupted

    async def reconcile(self, execution_id: str) -> list[str]:
        """Remove the objects a dead run stored for messages it never recorded
        (their keys); call it only for a run nobody runs any more."""
        try:
            return await remove_orphaned_objects(self._db, self._storage, execution_id)
        except Exception:  # recovery goes on; a resume reconciles again first
            _log.exception("execution %s: could not reconcile storage with lineage", execution_id)
            return []

    async def interrupt_own(self, reason: str) -> list[str]:
        """Interrupt this process's active rows it does not run (pending rows it
        created but never started); used at shutdown, after the runs ended."""
        active = await self._active(owner=self._owner)
        return [
            row.id
            for row in active
            if row.id not in self._manager and await self._interrupt(row, reason, None)
        ]

    async def _active(self, owner: str | None = None) -> list[ActiveRow]:
        """Pending and running rows (of ``owner``), without those waiting in the queue."""
        async with self._db.connect() as conn:
            active = await PipelineExecutionRepository(conn).active(owner=owner)
            pending = [row.id for row in active if row.status == "pending"]
            queued = await RunQueueRepository(conn).positions(pending)
        return [row for row in active if row.id not in queued]

    async def _interrupt(
        self, row: ActiveRow, reason: str, only_if: ColumnElement[bool] | None
    ) -> bool:
        # ``expected``: if the row moved on since we read it (a start, an end), leave it.
        result = await self._manager.terminate(
            row.id, "interrupted", reason, expected=(row.status,), only_if=only_if
        )
        return isinstance(result, Applied)

    async def beat(self) -> None:
        """Renew this process's heartbeats, then reap rows whose owners are gone."""
        async with self._db.transaction() as conn:
            await PipelineExecutionRepository(conn).renew_heartbeats(self._owner)
        await self.recover()

    def start(self) -> None:
        """Start the heartbeat task (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="factflow-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.beat()
            except Exception:  # keep beating through a database hiccup
                _log.exception("heartbeat failed; retrying in %.1fs", self._interval)
