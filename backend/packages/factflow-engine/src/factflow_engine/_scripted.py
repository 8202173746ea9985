"""``ScriptedOrchestrator``: the test double of ``PipelineOrchestrator`` (see ``testing``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from factflow_protocols import (
    OrchestratorCallback,
    ProgressSnapshot,
    RouteProgress,
    RunOutcome,
    RunOutcomeStatus,
)

__all__ = ["ScriptedOrchestrator"]

_log = logging.getLogger("factflow_engine.testing")


class ScriptedOrchestrator:
    """An ``Orchestrator`` whose run is driven by the test instead of by messages.

    It keeps ``PipelineOrchestrator``'s contract: ``start`` returns at once (or
    raises ``start_error`` before anything runs, and ``RuntimeError`` when called
    twice); the first outcome wins (``complete``/``fail`` - the run ending by
    itself - or ``cancel``); ``on_finished`` is called exactly once, after the
    run's one task stopped, with a callback error logged and swallowed;
    ``wait`` returns the outcome once ``on_finished`` has returned.

    A cancelled run stays inside its grace period while ``hold_grace()`` is in
    effect, until ``release_grace()`` - like processors still finishing their
    message.  A run held forever models one that does not stop.
    """

    def __init__(
        self,
        execution_id: str,
        callback: OrchestratorCallback,
        *,
        routes: Iterable[str] = ("src",),
        start_error: Exception | None = None,
    ) -> None:
        self.execution_id = execution_id
        self._callback = callback
        self._routes = list(routes)
        self._start_error = start_error
        self._status: RunOutcomeStatus | None = None
        self._error: str | None = None
        self._decided = asyncio.Event()
        self._grace = asyncio.Event()
        self._grace.set()
        self._task: asyncio.Task[None] | None = None
        self._outcome: RunOutcome | None = None
        self._finished = asyncio.Event()
        self.started = asyncio.Event()

    # --- the Orchestrator contract ---------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError(f"orchestrator of execution {self.execution_id} already started")
        if self._start_error is not None:
            raise self._start_error
        self._task = asyncio.create_task(self._run(), name=f"scripted:{self.execution_id[:13]}")
        self.started.set()

    def cancel(self, reason: str | None = None) -> None:
        self._decide("cancelled", reason)

    async def wait(self) -> RunOutcome:
        if self._task is None:
            raise RuntimeError(f"orchestrator of execution {self.execution_id} was not started")
        await self._finished.wait()
        if self._outcome is None:  # pragma: no cover - _run sets it before finishing
            raise RuntimeError("orchestrator finished without an outcome")
        return self._outcome

    def progress(self) -> ProgressSnapshot:
        return ProgressSnapshot(routes={route: RouteProgress() for route in self._routes})

    @property
    def outcome(self) -> RunOutcome | None:
        return self._outcome

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    # --- what the test drives ----------------------------------------------------

    def complete(self) -> None:
        """The run drains by itself (ignored once an outcome was decided)."""
        self._decide("completed", None)

    def fail(self, error: str) -> None:
        """The run fails by itself (ignored once an outcome was decided)."""
        self._decide("failed", error)

    def hold_grace(self) -> None:
        """Keep a cancelled run in its grace period until ``release_grace``."""
        self._grace.clear()

    def release_grace(self) -> None:
        self._grace.set()

    @property
    def decided(self) -> RunOutcomeStatus | None:
        """The outcome decided so far (None while the run goes on)."""
        return self._status

    def _decide(self, status: RunOutcomeStatus, error: str | None) -> None:
        if self._status is None:
            self._status, self._error = status, error
            self._decided.set()

    async def _run(self) -> None:
        await self._decided.wait()
        if self._status == "cancelled":
            await self._grace.wait()
        status = self._status or "failed"
        self._outcome = RunOutcome(status, self.progress(), self._error)
        try:
            await self._callback.on_finished(self._outcome)
        except Exception:
            _log.exception("orchestrator callback on_finished raised; continuing")
        finally:
            self._finished.set()
