"""``ExecutionStatusCallbackAdapter``: the orchestrator's callback, into the run controller.

Route and progress signals become events in the execution's log; message
failures too, up to a cap (then they are only counted, so a run with a
million failures cannot flood the log); ``on_finished`` asks the
``OrchestratorManager`` to finish the run, which happens after every
orchestrator task has stopped.

These events are *posted* (``EventLog.post``): written promptly by a flush
task, or together with the terminal status when the run ends first, so the
orchestrator never waits on a transaction per signal and a short run does not
pay one commit per route event.
"""

from __future__ import annotations

from factflow_protocols import MessageFailure, ProgressSnapshot, RouteProgress, RunOutcome

from factflow_execution._events import EventKind, EventLog
from factflow_execution._manager import OrchestratorManager
from factflow_execution._metrics import RunMeter

__all__ = ["ExecutionStatusCallbackAdapter"]


class ExecutionStatusCallbackAdapter:
    """Implements ``OrchestratorCallback`` for one execution run by an ``OrchestratorManager``."""

    def __init__(
        self,
        execution_id: str,
        *,
        events: EventLog,
        manager: OrchestratorManager,
        max_failure_events: int,
        meter: RunMeter | None = None,
    ) -> None:
        self._events = events
        self._meter = meter
        self._manager = manager
        self.execution_id = execution_id
        self._max_failure_events = max_failure_events
        self.failure_events = 0
        self.failure_events_suppressed = 0

    async def on_route_started(self, route: str) -> None:
        self._events.post(self.execution_id, EventKind.ROUTE_STARTED, {"route": route})

    async def on_route_drained(self, route: str, progress: RouteProgress) -> None:
        self._events.post(
            self.execution_id,
            EventKind.ROUTE_DRAINED,
            {"route": route, "counts": progress.as_dict()},
        )

    async def on_message_failed(self, failure: MessageFailure) -> None:
        if self.failure_events >= self._max_failure_events:
            self.failure_events_suppressed += 1
            return
        self.failure_events += 1
        self._events.post(
            self.execution_id,
            EventKind.MESSAGE_FAILED,
            {
                "route": failure.route,
                "message_id": failure.message_id,
                "origin_message_id": failure.origin_message_id,
                "attempt": failure.attempt,
                "error": failure.error,
            },
        )

    async def on_progress(self, progress: ProgressSnapshot) -> None:
        if self._meter is not None:
            self._meter.update(progress)
        self._events.post(
            self.execution_id,
            EventKind.PROGRESS,
            {
                "routes": {name: p.as_dict() for name, p in progress.routes.items()},
                "totals": progress.totals().as_dict(),
                "drained_routes": sorted(progress.drained_routes),
                "failure_events_suppressed": self.failure_events_suppressed,
            },
        )

    async def on_finished(self, outcome: RunOutcome) -> None:
        await self._manager.finish(
            self.execution_id, outcome, failure_events_suppressed=self.failure_events_suppressed
        )
