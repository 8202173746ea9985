"""``OrchestratorManager``: the run controller, sole owner of this process's runs.

One per process (the seed: "one Python process owns all running
executions").  It keeps one ``LocalRun`` per execution it admitted - the
reserved slot, the orchestrator, the row as it became ``running``, the first
stop request - and nothing else in the process keeps run state.  Its verbs:

* ``admit(id)`` - an async context manager holding a capacity slot; the slot is
  given back on exit unless the run was launched (then finishing gives it back).
  Admission is separate from creating the row, so a row may wait ``pending``
  and be admitted later.
* ``Admission.launch(orchestrator, row)`` - start a run whose row is ``running``.
* ``stop(id, kind, reason)`` - the first stop request wins (``StopKind``).
* ``finish(id, outcome)`` - the orchestrator stopped: make the row terminal.
* ``terminate(id, status, error)`` - the one helper that computes the final
  stats and makes the conditional transition, used by every terminal path.
* ``wait_all(timeout)`` and ``shutdown(grace, stop_timeout, reason)``.
* ``on_release(callback)`` - told each time a slot is given back (the run
  queue's in-process wake-up).

Invariant: a run is released only after its row is terminal (or after the
transition was refused because the row already was), so the row never says
``running`` for a run nobody here owns - the cancel path relies on it - and
is never terminal while its orchestrator still works.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from datetime import datetime

from factflow_foundation import CapacityExceededError, ConflictError, get_logger, utcnow
from factflow_protocols import LineageSink, Orchestrator, ProgressSnapshot, RunOutcome
from sqlalchemy import ColumnElement

from factflow_execution._errors import ExecutionCapacityError
from factflow_execution._event_models import PostedEvents
from factflow_execution._events import EventLog
from factflow_execution._models import ExecutionStatus, PipelineExecution
from factflow_execution._owner import default_owner_id
from factflow_execution._repositories import PipelineExecutionRepository
from factflow_execution._runs import LocalRun, RunPhase, StopKind, StopRequest
from factflow_execution._stats import compute_stats, lost_messages
from factflow_execution._transitions import Applied, Refused, TransitionResult, transition

__all__ = ["Admission", "OrchestratorManager"]

_log = get_logger("factflow.execution.manager")


class Admission:
    """A capacity slot held for one execution (from ``OrchestratorManager.admit``)."""

    def __init__(self, manager: OrchestratorManager, run: LocalRun) -> None:
        self._manager = manager
        self._run = run
        self.launched = False

    @property
    def execution_id(self) -> str:
        return self._run.execution_id

    @property
    def stop(self) -> StopRequest | None:
        """A stop request that arrived while the run was still being started."""
        return self._run.stop

    async def launch(self, orchestrator: Orchestrator, row: PipelineExecution) -> PipelineExecution:
        """Start ``orchestrator`` for ``row`` (already ``running``); returns the row.

        From here on the run is the manager's until ``finish``.  An orchestrator
        that cannot start at all makes the row ``failed`` (and the error is
        re-raised).  A stop requested while the run was being started is passed
        on as soon as it has started, so it ends through the one finish path.
        """
        run = self._run
        if self.launched or run.phase is not RunPhase.RESERVED:
            raise RuntimeError(f"execution {run.execution_id} was already launched")
        run.orchestrator, run.row = orchestrator, row
        run.phase = RunPhase.RUNNING if run.stop is None else RunPhase.STOPPING
        try:
            await orchestrator.start()
        except Exception as exc:
            run.phase = RunPhase.FINISHING
            result: TransitionResult | None = None
            try:
                result = await self._manager.terminate(
                    run.execution_id, "failed", f"could not start: {exc}", row=row
                )
            finally:
                self._manager._release(run, result)
            raise
        except BaseException:
            # Cancelled mid-start: the orchestrator's tasks may run already, and
            # they end through ``finish`` like any run's, so the run stays ours.
            self.launched = True
            if run.request_stop(StopRequest(StopKind.CANCEL, "its start was cancelled")):
                orchestrator.cancel("its start was cancelled")
            raise
        self.launched = True
        if run.stop is not None:
            orchestrator.cancel(run.stop.reason)
        return row


class OrchestratorManager:
    """Owns this process's runs keyed by execution id (see the module docstring)."""

    def __init__(
        self,
        *,
        events: EventLog,
        lineage: LineageSink,
        capacity: int,
        owner_id: str | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.owner_id = owner_id or default_owner_id()
        self.events = events
        self._lineage = lineage
        self._runs: dict[str, LocalRun] = {}
        self._accepting = True
        self._release_listeners: list[Callable[[LocalRun], None]] = []

    def on_release(self, callback: Callable[[LocalRun], None]) -> None:
        """Call ``callback(run)`` whenever a run gives its slot back (never raises into
        the caller: a listener that fails is logged)."""
        self._release_listeners.append(callback)

    # -- admission and launch -------------------------------------------------

    @asynccontextmanager
    async def admit(self, execution_id: str) -> AsyncIterator[Admission]:
        """Hold a slot for ``execution_id`` while it is started.

        Raises ``ExecutionCapacityError`` when full, ``CapacityExceededError``
        while shutting down and ``ConflictError`` when the execution is already
        being started or run here.  The slot is released on exit unless
        ``launch`` succeeded, whatever ends the block.
        """
        if not self._accepting:
            raise CapacityExceededError(
                "this server is shutting down and starts no new executions; "
                "retry against another server or after it restarts"
            )
        if execution_id in self._runs:
            raise ConflictError(f"execution {execution_id} is already being started here")
        if len(self._runs) >= self.capacity:
            raise ExecutionCapacityError(self.capacity)
        run = self._runs[execution_id] = LocalRun(execution_id)
        admission = Admission(self, run)
        try:
            yield admission
        finally:
            if not admission.launched and run.phase is RunPhase.RESERVED:
                self._release(run, None)

    # -- stopping and finishing ----------------------------------------------

    def stop(self, execution_id: str, kind: StopKind, reason: str) -> LocalRun | None:
        """Ask a run of this process to stop; None when this process does not run it.

        The first request wins: a later one (a shutdown's interrupt after a
        user's cancel) changes nothing.  Await ``run.ended()`` for the end.
        """
        run = self._runs.get(execution_id)
        if run is None:
            return None
        if run.request_stop(StopRequest(kind, reason)) and run.orchestrator is not None:
            run.orchestrator.cancel(reason)
        return run

    async def finish(
        self, execution_id: str, outcome: RunOutcome, *, failure_events_suppressed: int = 0
    ) -> TransitionResult:
        """Make the row terminal once its orchestrator has stopped, then release the run.

        A run stopped on request ends with the status and reason of the first
        stop request; one that reached its own outcome first keeps it.
        """
        # Take the run's last posted events (route drained, final progress) before
        # the first await, so they commit with the terminal status, not just before.
        claimed = self.events.claim_posted(execution_id)
        run = self._runs.get(execution_id)
        status: ExecutionStatus = outcome.status
        error = outcome.error
        row = None
        if run is not None:
            run.phase = RunPhase.FINISHING
            row = run.row
            if status == "cancelled" and run.stop is not None:
                status, error = run.stop.kind.status, run.stop.reason
        result: TransitionResult | None = None
        try:
            try:
                await self._lineage.flush()
            except Exception as exc:  # the row must still end: say why it failed
                _log.exception("execution %s: lineage flush failed at finish", execution_id)
                if status == "completed":
                    status, error = "failed", f"lineage flush failed: {type(exc).__name__}: {exc}"
            result = await self.terminate(
                execution_id,
                status,
                error,
                row=row,
                claimed=claimed,
                failure_events_suppressed=failure_events_suppressed,
            )
            if isinstance(result, Refused):
                _log.warning(
                    "execution %s was already %s when its run finished",
                    execution_id,
                    result.current,
                )
            return result
        finally:
            if run is not None:
                self._release(run, result)

    async def terminate(
        self,
        execution_id: str,
        status: ExecutionStatus,
        error: str | None,
        *,
        row: PipelineExecution | None = None,
        expected: Collection[ExecutionStatus] | None = None,
        only_if: ColumnElement[bool] | None = None,
        claimed: PostedEvents | None = None,
        failure_events_suppressed: int = 0,
        at: datetime | None = None,
    ) -> TransitionResult:
        """Materialise the final stats and make the terminal transition, in one
        transaction: every path that ends a run (finish, a cancel nobody runs,
        recovery, shutdown) comes through here.

        Stats are read inside the transaction: they come from per-route lineage
        totals (a few rows whatever the run's size), so this holds the write
        lock no longer than a separate read would cost.
        """
        now = at or utcnow()
        async with self.events.writing(execution_id, claimed=claimed) as writer:
            execution = row or await PipelineExecutionRepository(writer.conn).find(execution_id)
            stats = None
            if execution is not None and not execution.terminal:
                lost = None
                if status == "interrupted":  # what the dead process held (see RouteStats.lost)
                    lost = {execution_id: await lost_messages(writer.conn, execution)}
                stats = (
                    await compute_stats(
                        writer.conn,
                        [execution],
                        live=False,
                        finished_at=now,
                        failure_events_suppressed={execution_id: failure_events_suppressed},
                        lost=lost,
                    )
                )[execution_id]
            return await transition(
                writer,
                status,
                error=error,
                stats=stats,
                at=now,
                expected=expected,
                only_if=only_if,
            )

    def _release(self, run: LocalRun, result: TransitionResult | None) -> None:
        if self._runs.get(run.execution_id) is run:
            del self._runs[run.execution_id]
        if isinstance(result, Applied):
            run.final = result.row
        run.released.set()
        for callback in self._release_listeners:
            try:
                callback(run)
            except Exception:
                _log.exception("a release listener failed for execution %s", run.execution_id)

    # -- waiting and shutting down -------------------------------------------

    async def wait_all(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds for every run to end; the ids still running."""
        runs = list(self._runs.values())
        if runs:
            waiters = [asyncio.ensure_future(run.released.wait()) for run in runs]
            _, pending = await asyncio.wait(waiters, timeout=timeout)
            for waiter in pending:
                waiter.cancel()
        return list(self._runs)

    async def shutdown(self, grace: float, stop_timeout: float, reason: str) -> list[str]:
        """Stop admitting; give runs ``grace`` seconds to end by themselves; then ask
        the rest to stop (``interrupt``; an earlier cancel keeps its claim) and
        wait ``stop_timeout`` more; a run that still has not stopped gets its row
        made terminal anyway and is let go.  Returns the ids that ended
        ``interrupted``."""
        self._accepting = False
        asked = [self._runs[i] for i in await self.wait_all(grace) if i in self._runs]
        for run in asked:
            self.stop(run.execution_id, StopKind.INTERRUPT, reason)
        for execution_id in await self.wait_all(stop_timeout):
            hung = self._runs.get(execution_id)
            if hung is None:
                continue
            await self._abandon(hung, reason)
        return [
            run.execution_id
            for run in asked
            if run.final is not None and run.final.status == "interrupted"
        ]

    async def _abandon(self, run: LocalRun, reason: str) -> None:
        """End the row of a run whose orchestrator does not stop, and let go of it."""
        _log.error("execution %s did not stop; marking it ended anyway", run.execution_id)
        request = run.stop or StopRequest(StopKind.INTERRUPT, reason)
        run.phase = RunPhase.FINISHING
        result: TransitionResult | None = None
        try:
            result = await self.terminate(
                run.execution_id, request.kind.status, request.reason, row=run.row
            )
        finally:
            self._release(run, result)

    # -- queries ---------------------------------------------------------------

    def get(self, execution_id: str) -> LocalRun | None:
        """The run of ``execution_id`` if this process runs it (or is starting it)."""
        return self._runs.get(execution_id)

    def __contains__(self, execution_id: object) -> bool:
        return execution_id in self._runs

    def __len__(self) -> int:
        return len(self._runs)

    def ids(self) -> list[str]:
        """Executions this process owns right now (starting, running or finishing)."""
        return list(self._runs)

    def progress(self, execution_id: str) -> ProgressSnapshot | None:
        run = self._runs.get(execution_id)
        if run is None or run.orchestrator is None:
            return None
        return run.orchestrator.progress()

    @property
    def accepting(self) -> bool:
        return self._accepting
