"""Process-level lifecycle: startup recovery, heartbeats, reaping, shutdown.

Each execution row names its owner (``host:pid:token``) and carries a
heartbeat the owner renews every ``heartbeat_interval`` seconds in one
statement.  Any process interrupts a pending or running row whose owner is
gone: at once when the owner was a process on this host that no longer exists,
otherwise when its heartbeat is older than ``heartbeat_timeout`` - seconds, not
minutes.  Heartbeats are inherently periodic; this timer is the only one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING

from factflow_foundation import ConflictError, dumps, get_logger, loads, utcnow
from factflow_infra.db import pipeline_executions, upgrade_to_head
from factflow_infra.pg_listener import PostgresListener
from sqlalchemy import text

from factflow_execution._events import (
    CONTROL_CHANNEL,
    NOTIFY_CHANNEL,
    Wakeup,
    execution_topic,
)
from factflow_execution._manager import parse_owner_id
from factflow_execution._models import PipelineExecution
from factflow_execution._repositories import PipelineExecutionRepository
from factflow_execution._stats import compute_stats
from factflow_execution._transitions import transition

if TYPE_CHECKING:
    from datetime import datetime

    from factflow_execution._service import ExecutionService

__all__ = ["Lifecycle", "pid_alive"]

_log = get_logger("factflow.execution.lifecycle")
_HOST = socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lifecycle:
    """Startup, heartbeat and shutdown duties of one ``ExecutionService``."""

    def __init__(self, service: ExecutionService) -> None:
        self._service = service
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._listener: PostgresListener | None = None
        self._control_tasks: set[asyncio.Task[None]] = set()

    @property
    def _owner(self) -> str:
        return self._service.manager.owner_id

    async def startup(self, *, migrate: bool) -> list[str]:
        if migrate:
            await upgrade_to_head(self._service.db)
        if self._service.db.is_postgres and self._listener is None:
            self._listener = PostgresListener(
                self._service.db.url,
                {NOTIFY_CHANNEL: self._on_event_notify, CONTROL_CHANNEL: self._on_control},
                on_resync=self._resync,
            )
            await self._listener.start()
        interrupted = await self.recover()
        if self._heartbeat_task is None:
            self._heartbeat_task = asyncio.create_task(
                self._heartbeat_loop(), name="factflow-heartbeat"
            )
        if self._service.settings.scheduler:
            await self._service.scheduler.start()
        return interrupted

    # -- cross-process (PostgreSQL LISTEN/NOTIFY) -----------------------------

    def _on_event_notify(self, payload: str) -> None:
        """Another process appended to an execution's log: wake local readers."""
        data = loads(payload)
        if data.get("origin") == self._owner:
            return  # our own event, already published in-process with its record
        execution_id = str(data["execution_id"])
        self._service.bus.publish(
            execution_topic(execution_id), Wakeup(execution_id, data.get("seq"))
        )

    def _resync(self) -> None:
        """The LISTEN connection was lost for a while: wake every local reader."""
        for topic in self._service.bus.topics():
            if topic.startswith("execution:"):
                execution_id = topic.partition(":")[2]
                self._service.bus.publish(topic, Wakeup(execution_id))

    def _on_control(self, payload: str) -> None:
        """A cancel request for an execution; acted on by the process that owns it."""
        data = loads(payload)
        execution_id = str(data.get("execution_id"))
        if data.get("action") != "cancel" or self._service.manager.get(execution_id) is None:
            return
        task = asyncio.create_task(self._cancel_local(execution_id, str(data.get("reason"))))
        self._control_tasks.add(task)
        task.add_done_callback(self._control_tasks.discard)

    async def _cancel_local(self, execution_id: str, reason: str) -> None:
        try:
            await self._service.cancel(execution_id, reason)
        except Exception:  # the run may have finished meanwhile
            _log.info("remote cancel of %s did not apply", execution_id, exc_info=True)

    async def cancel_remote(self, execution: PipelineExecution, reason: str) -> PipelineExecution:
        """Ask the process that owns ``execution`` to cancel it, and wait for the end."""
        service = self._service
        if not service.db.is_postgres:
            raise ConflictError(
                f"execution {execution.id} runs in another process ({execution.owner}); "
                "cancel it through that process's server"
            )
        async with service.db.transaction() as conn:
            await conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {
                    "channel": CONTROL_CHANNEL,
                    "payload": dumps(
                        {"execution_id": execution.id, "action": "cancel", "reason": reason}
                    ),
                },
            )
        limit = service.settings.cancel_grace + service.settings.heartbeat_timeout + 5.0
        result = await service.wait(execution.id, timeout=limit)
        if result.timed_out:
            raise ConflictError(
                f"execution {execution.id} did not stop within {limit:g}s of the cancel "
                f"request sent to its owner ({execution.owner})"
            )
        return await service.get(execution.id)

    def _gone_reason(
        self, owner: str | None, heartbeat_at: datetime | None, cutoff: datetime
    ) -> tuple[str | None, bool]:
        """Why an active row's owner counts as gone (None if it does not), and
        whether the verdict rests on the heartbeat being stale."""
        if owner is None:
            return "it has no owning server process", False
        if owner == self._owner:
            return None, False
        parsed = parse_owner_id(owner)
        if parsed is not None and parsed[0] == _HOST and not pid_alive(parsed[1]):
            return f"its server process ({owner}) is gone", False
        if heartbeat_at is None or heartbeat_at < cutoff:
            last = heartbeat_at.isoformat() if heartbeat_at else "never"
            return (
                f"its server process ({owner}) stopped renewing its heartbeat (last {last})",
                True,
            )
        return None, False

    def owner_is_gone(self, execution: PipelineExecution) -> bool:
        """Whether no live process owns this execution any more."""
        cutoff = utcnow() - timedelta(seconds=self._service.settings.heartbeat_timeout)
        reason, _ = self._gone_reason(execution.owner, execution.heartbeat_at, cutoff)
        return reason is not None

    async def recover(self) -> list[str]:
        """Interrupt every pending/running row whose owner is gone."""
        service = self._service
        cutoff = utcnow() - timedelta(seconds=service.settings.heartbeat_timeout)
        async with service.db.connect() as conn:
            active = await PipelineExecutionRepository(conn).active_ids()
        interrupted = []
        for execution_id, owner, heartbeat_at in active:
            if execution_id in service.manager:
                continue
            reason, stale = self._gone_reason(owner, heartbeat_at, cutoff)
            if reason is None:
                continue
            only_if = None
            if stale:  # the owner may have renewed since we looked
                t = pipeline_executions
                only_if = t.c.heartbeat_at.is_(None) | (t.c.heartbeat_at < cutoff)
            if await self._interrupt(execution_id, f"interrupted: {reason}", only_if=only_if):
                interrupted.append(execution_id)
        if interrupted:
            _log.warning("marked %d orphaned execution(s) interrupted", len(interrupted))
        return interrupted

    async def _interrupt(self, execution_id: str, reason: str, *, only_if: object = None) -> bool:
        service = self._service
        async with service.db.connect() as conn:
            execution = await PipelineExecutionRepository(conn).find(execution_id)
            if execution is None or execution.terminal:
                return False
            now = utcnow()
            stats = (await compute_stats(conn, [execution], live=False, finished_at=now))[
                execution_id
            ]
        async with service.event_log.writing(execution_id) as writer:
            final = await transition(
                writer,
                "interrupted",
                error=reason,
                stats=stats,
                at=now,
                only_if=only_if,  # type: ignore[arg-type]
            )
        return final is not None

    async def beat(self) -> None:
        """Renew this process's heartbeats, then reap rows whose owners are gone."""
        async with self._service.db.transaction() as conn:
            await PipelineExecutionRepository(conn).renew_heartbeats(self._owner)
        await self.recover()

    async def _heartbeat_loop(self) -> None:
        interval = self._service.settings.heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self.beat()
            except Exception:  # keep beating through a database hiccup
                _log.exception("heartbeat failed; retrying in %.1fs", interval)

    async def shutdown(self, grace: float | None) -> list[str]:
        service = self._service
        grace = service.settings.shutdown_grace if grace is None else grace
        await service.scheduler.stop()
        service.manager.stop_accepting()
        still_running = await service.manager.wait_all(grace)
        reason = f"interrupted: the server shut down before it finished (grace {grace:g}s)"
        for execution_id in still_running:
            service.request_interrupt(execution_id, reason)
        hung = await service.manager.wait_all(service.settings.cancel_grace + 5.0)
        interrupted = list(still_running)
        for execution_id in hung:  # never finished even after cancel: do not leave it running
            _log.error("execution %s did not stop; marking it interrupted", execution_id)
            service.manager.discard(execution_id)
            await self._interrupt(execution_id, reason)
        # pending rows this process created but never started
        async with service.db.connect() as conn:
            active = await PipelineExecutionRepository(conn).active_ids()
        for execution_id, owner, _ in active:
            if owner == self._owner and await self._interrupt(execution_id, reason):
                interrupted.append(execution_id)
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat_task
            self._heartbeat_task = None
        await service.event_log.flush_posted()
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None
        await service.lineage.close()
        await service.queues.close()
        return interrupted
