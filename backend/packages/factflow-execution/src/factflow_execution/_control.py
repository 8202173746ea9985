"""The PostgreSQL control channel: live events and cancels across server processes.

Several servers may share one PostgreSQL.  Every event written to an
execution's log sends a NOTIFY (see ``_events``); here the listener turns
another process's notification into a ``Wakeup`` on the local bus, so local
waiters and streamers re-read the log by cursor.  A cancel for a run another
live process owns is a NOTIFY on the control channel; the owner's listener
passes it to its ``OrchestratorManager`` as a stop request, and the requester
waits for the terminal event like any waiter.  On SQLite there is one process
per database file worth talking to, so none of this starts.
"""

from __future__ import annotations

from factflow_foundation import ConflictError, get_logger, loads
from factflow_infra.db import Database
from factflow_infra.pg_listener import PostgresListener
from factflow_protocols import EventBus

from factflow_execution._changes import EXECUTIONS_TOPIC, ExecutionChange
from factflow_execution._channels import (
    CONTROL_CHANNEL,
    LOGS_CHANNEL,
    NOTIFY_CHANNEL,
    Wakeup,
    notify,
)
from factflow_execution._events import execution_topic
from factflow_execution._logs_records import logs_topic
from factflow_execution._logs_writer import LogsWritten
from factflow_execution._manager import OrchestratorManager
from factflow_execution._models import PipelineExecution
from factflow_execution._repositories import PipelineExecutionRepository
from factflow_execution._runs import StopKind
from factflow_execution._waiter import ExecutionWaiter

__all__ = ["ControlChannel"]

_log = get_logger("factflow.execution.control")


class ControlChannel:
    """LISTEN for other processes' events and cancel requests; send cancel requests."""

    def __init__(
        self,
        *,
        db: Database,
        bus: EventBus,
        manager: OrchestratorManager,
        remote_cancel_timeout: float,
    ) -> None:
        self._db = db
        self._bus = bus
        self._manager = manager
        self._remote_cancel_timeout = remote_cancel_timeout
        self._listener: PostgresListener | None = None

    async def start(self) -> None:
        """Start listening (PostgreSQL only; idempotent)."""
        if self._db.is_postgres and self._listener is None:
            self._listener = PostgresListener(
                self._db.url,
                {
                    NOTIFY_CHANNEL: self._on_event_notify,
                    LOGS_CHANNEL: self._on_logs_notify,
                    CONTROL_CHANNEL: self._on_control,
                },
                on_resync=self._resync,
            )
            await self._listener.start()

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    def _on_event_notify(self, payload: str) -> None:
        """Another process appended to an execution's log: wake local readers."""
        data = loads(payload)
        if data.get("origin") == self._manager.owner_id:
            return  # our own event, already published in-process with its record
        execution_id = str(data["execution_id"])
        self._bus.publish(execution_topic(execution_id), Wakeup(execution_id, data.get("seq")))
        self._bus.publish(EXECUTIONS_TOPIC, ExecutionChange(execution_id, data.get("seq")))

    def _on_logs_notify(self, payload: str) -> None:
        """Another process wrote records of a run's log: wake local log followers."""
        data = loads(payload)
        if data.get("origin") == self._manager.owner_id:
            return  # ours, already published in-process
        execution_id = str(data["execution_id"])
        self._bus.publish(logs_topic(execution_id), LogsWritten(execution_id, data.get("seq")))

    def _resync(self) -> None:
        """The LISTEN connection was lost for a while: wake every local reader."""
        self._bus.publish(EXECUTIONS_TOPIC, ExecutionChange("", resync=True))
        for topic in self._bus.topics():
            if topic.startswith("execution:"):
                execution_id = topic.partition(":")[2]
                self._bus.publish(topic, Wakeup(execution_id))
            elif topic.startswith("execution-logs:"):
                execution_id = topic.partition(":")[2]
                self._bus.publish(topic, LogsWritten(execution_id))

    def _on_control(self, payload: str) -> None:
        """A cancel request; only the process that runs the execution acts on it."""
        data = loads(payload)
        if data.get("action") == "cancel":
            reason = str(data.get("reason") or "cancelled on request")
            self._manager.stop(str(data.get("execution_id")), StopKind.CANCEL, reason)

    async def cancel_remote(self, execution: PipelineExecution, reason: str) -> PipelineExecution:
        """Ask the live process that owns ``execution`` to cancel it; the row once terminal."""
        if not self._db.is_postgres:
            raise ConflictError(
                f"execution {execution.id} runs in another process ({execution.owner}); "
                "cancel it through that process's server"
            )
        async with self._db.transaction() as conn:
            await notify(
                conn,
                CONTROL_CHANNEL,
                {"execution_id": execution.id, "action": "cancel", "reason": reason},
            )
        limit = self._remote_cancel_timeout
        result = await ExecutionWaiter(execution.id, db=self._db, bus=self._bus).wait(limit)
        if result.timed_out:
            raise ConflictError(
                f"execution {execution.id} did not stop within {limit:g}s of the cancel "
                f"request sent to its owner ({execution.owner})"
            )
        async with self._db.connect() as conn:
            return await PipelineExecutionRepository(conn).get(execution.id)
