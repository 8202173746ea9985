"""``PipelineOrchestrator``: runs one execution of a resolved pipeline.

Lifecycle: ``start()`` builds the components and starts, per route,
``concurrency`` worker tasks, the source adapters and one supervisor; it
returns at once.  The run stops for the first of: drained (``completed``), a
final message failure under ``on_message_error: fail``, an adapter error or
the timeout (``failed``), or ``cancel()`` (``cancelled``).  The stop sequence
then stops adapters, lets in-flight processors finish within ``cancel_grace``,
interrupts the rest, records every unfinished message ``cancelled``, flushes
lineage, releases the queues and calls ``callback.on_finished`` exactly once,
after every task has stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from factflow_protocols import (
    ExecutionStorage,
    LineageSink,
    Message,
    OrchestratorCallback,
    ProgressSnapshot,
    QueueBackend,
    RouteProgress,
    RunOutcome,
)

from factflow_engine.config.resolver import ResolvedPipeline
from factflow_engine.registry import Registry
from factflow_engine.runtime.build import build_routes, check_inputs
from factflow_engine.runtime.feeder import AdapterFeeder
from factflow_engine.runtime.ledger import RouteRuntime, RunLedger
from factflow_engine.runtime.pump import CallbackPump
from factflow_engine.runtime.stop import StopSignal
from factflow_engine.runtime.worker import IDLE, SETTLING, RouteWorker, WorkerEnv, cancelled_entry

__all__ = ["PipelineOrchestrator"]

_default_logger = logging.getLogger("factflow_engine.orchestrator")


class PipelineOrchestrator:
    """Runs one execution: routes, workers, adapters, retries, drain detection, stop.

    ``queue_names`` (route -> queue name) is taken as given - the execution's
    snapshot - and the global route directory is never consulted.  With
    ``initial_messages`` (replay) adapters do not run: those messages, with
    their ids, origins and parents kept, are enqueued at their routes and the
    run drains when they and their descendants have settled.
    """

    def __init__(
        self,
        execution_id: str,
        pipeline: ResolvedPipeline,
        *,
        queue_names: Mapping[str, str],
        queues: QueueBackend,
        lineage: LineageSink,
        storage: ExecutionStorage,
        callback: OrchestratorCallback,
        registry: Registry,
        cancel_grace: float = 5.0,
        progress_interval: float = 0.25,
        initial_messages: Sequence[Message] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        check_inputs(pipeline, queue_names, initial_messages)
        self.execution_id = execution_id
        self.pipeline = pipeline
        self._queue_names = dict(queue_names)
        self._queues = queues
        self._lineage = lineage
        self._storage = storage
        self._registry = registry
        self._cancel_grace = max(0.0, cancel_grace)
        self._initial = list(initial_messages) if initial_messages is not None else None
        self._logger = logger or _default_logger
        self._stop = StopSignal()
        self._pump = CallbackPump(callback, self.progress, progress_interval, self._logger)
        self._routes: list[RouteRuntime] = []
        self._ledger: RunLedger | None = None
        self._workers: list[RouteWorker] = []
        self._feeders: list[AdapterFeeder] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._outcome: RunOutcome | None = None
        self._finished = asyncio.Event()

    # --- public API -----------------------------------------------------------

    @property
    def outcome(self) -> RunOutcome | None:
        """How the run ended; set just before ``callback.on_finished`` is called."""
        return self._outcome

    @property
    def finished(self) -> bool:
        """True once ``callback.on_finished`` has returned."""
        return self._finished.is_set()

    async def start(self) -> None:
        """Build processors and adapters and start every task; returns at once.

        Raises (before any task starts) ``ConfigValidationError`` when a
        component cannot be built, and ``RuntimeError`` when called twice.
        A failure after the tasks started (a queue refusing a replay message)
        ends the run as ``failed`` instead, reported like any other outcome.
        """
        if self._ledger is not None:
            raise RuntimeError(f"orchestrator of execution {self.execution_id} already started")
        replay = self._initial is not None
        self._routes = build_routes(
            self.execution_id,
            self.pipeline,
            queue_names=self._queue_names,
            queues=self._queues,
            registry=self._registry,
            with_adapters=not replay,
            logger=self._logger,
        )
        ledger = self._ledger = RunLedger(self._routes, self._pump, self._stop)
        ledger.wire_sources(adapters_running=not replay)
        settings = self.pipeline.config.settings
        env = WorkerEnv(
            execution_id=self.execution_id,
            params=MappingProxyType(dict(self.pipeline.params)),
            storage=self._storage,
            lineage=self._lineage,
            ledger=ledger,
            pump=self._pump,
            control=self._stop,
            fail_fast=settings.on_message_error == "fail",
            retry_backoff=settings.retry_backoff,
            retry_backoff_max=settings.retry_backoff_max,
        )
        tag = f"factflow:{self.execution_id[:13]}"
        self._pump.start(f"{tag}:callbacks")
        self._supervisor = asyncio.create_task(self._supervise(), name=f"{tag}:supervisor")
        try:
            await self._launch(env, ledger, tag)
        except Exception as exc:  # the supervisor runs already: end the run, do not strand it
            self._logger.exception("execution %s: could not start", self.execution_id)
            self._stop.request_stop("failed", f"could not start: {type(exc).__name__}: {exc}")

    async def _launch(self, env: WorkerEnv, ledger: RunLedger, tag: str) -> None:
        by_name = {route.name: route for route in self._routes}
        for original in self._initial or ():
            route = by_name[original.route]
            ledger.admit(route)
            await route.queue.put(
                Message(
                    original.id,
                    self.execution_id,
                    original.route,
                    original.payload,
                    original.origin_id,
                    original.parent_id,
                    0,
                    dict(original.headers),
                )
            )
        for route in self._routes:
            for index in range(route.concurrency):
                worker = RouteWorker(env, route)
                worker.task = asyncio.create_task(worker.run(), name=f"{tag}:{route.name}:{index}")
                self._workers.append(worker)
            if route.adapter is not None:
                feeder = AdapterFeeder(env, route)
                ledger.adapter_started(route)
                feeder.task = asyncio.create_task(feeder.run(), name=f"{tag}:{route.name}:adapter")
                self._feeders.append(feeder)
        ledger.check_all()

    def cancel(self, reason: str | None = None) -> None:
        """Ask the run to stop as ``cancelled``; idempotent, a no-op once an outcome was decided."""
        self._stop.request_stop("cancelled", reason)

    async def wait(self) -> RunOutcome:
        """The outcome, once ``callback.on_finished(outcome)`` has returned."""
        if self._supervisor is None:
            raise RuntimeError(f"orchestrator of execution {self.execution_id} was not started")
        await self._finished.wait()
        if self._outcome is None:  # pragma: no cover - _finish always sets it first
            raise RuntimeError("orchestrator finished without an outcome")
        return self._outcome

    def progress(self) -> ProgressSnapshot:
        """Live counters per route and the routes drained so far."""
        if self._ledger is None:
            routes = {name: RouteProgress() for name in self.pipeline.config.routes}
            return ProgressSnapshot(routes=routes)
        return self._ledger.snapshot()

    # --- the stop sequence ----------------------------------------------------

    async def _supervise(self) -> None:
        try:
            await self._until_stop()
            await self._shutdown()
        except Exception as exc:  # a bug here must still end the run with one outcome
            self._logger.exception("execution %s: stop sequence failed", self.execution_id)
            self._stop.request_stop("failed", f"internal error while stopping: {exc}")
            await self._cancel_everything()
        finally:
            if not self._finished.is_set():
                await self._finish()

    async def _until_stop(self) -> None:
        timeout = self.pipeline.config.settings.timeout
        if timeout is None:
            await self._stop.wait()
            return
        try:
            async with asyncio.timeout(timeout):
                await self._stop.wait()
        except TimeoutError:
            self._stop.request_stop("failed", f"timed out after {timeout:g} s")

    async def _shutdown(self) -> None:
        for feeder in self._feeders:
            if feeder.task is not None:
                feeder.task.cancel()
        await self._gather([f.task for f in self._feeders])
        for worker in self._workers:
            if worker.phase == IDLE and worker.task is not None:
                worker.task.cancel()
        busy = [w.task for w in self._workers if w.task is not None and not w.task.done()]
        if busy:
            await asyncio.wait(busy, timeout=self._cancel_grace)
        for worker in self._workers:
            if worker.task is not None and not worker.task.done() and worker.phase != SETTLING:
                worker.task.cancel()
        await self._gather([w.task for w in self._workers])
        await self._record_unfinished()

    async def _cancel_everything(self) -> None:
        tasks = [f.task for f in self._feeders] + [w.task for w in self._workers]
        for task in tasks:
            if task is not None:
                task.cancel()
        await self._gather(tasks)

    async def _gather(self, tasks: Sequence[asyncio.Task[None] | None]) -> None:
        for result in await asyncio.gather(*(t for t in tasks if t), return_exceptions=True):
            if isinstance(result, Exception):
                self._logger.error("execution %s: task failed: %r", self.execution_id, result)

    async def _record_unfinished(self) -> None:
        ledger = self._ledger
        if ledger is None:
            return
        reason = self._stop_reason()
        unfinished: list[tuple[RouteRuntime, Message, datetime | None]] = []
        for worker in self._workers:
            if worker.current is not None:
                unfinished.append((worker.route, worker.current, worker.started_at))
                worker.current = None
        for feeder in self._feeders:
            unfinished.extend((feeder.route, message, None) for message in feeder.unqueued)
        for route in self._routes:
            unfinished.extend((route, message, None) for message in await route.queue.drain())
        for route, message, started_at in unfinished:
            entry = cancelled_entry(self.execution_id, message, route.name, started_at, reason)
            try:
                await self._lineage.record(entry)
            except Exception:
                self._logger.exception(
                    "execution %s: cannot record cancelled message %s",
                    self.execution_id,
                    message.id,
                )
            ledger.settle(route, "cancelled")

    def _stop_reason(self) -> str:
        status, error = self._stop.status, self._stop.error
        if status == "cancelled":
            return f"run cancelled: {error}" if error else "run cancelled"
        return f"run {status}: {error}" if error else f"run {status}"

    async def _finish(self) -> None:
        status = self._stop.status or "failed"
        error = self._stop.error
        try:
            await self._lineage.flush()
        except Exception as exc:
            self._logger.exception("execution %s: lineage flush failed", self.execution_id)
            if status == "completed":
                status, error = "failed", f"lineage flush failed: {type(exc).__name__}: {exc}"
        try:
            await self._queues.release(self.execution_id)
        except Exception:
            self._logger.exception("execution %s: releasing queues failed", self.execution_id)
        await self._pump.close()
        outcome = self._outcome = RunOutcome(status, self.progress(), error)
        await self._pump.call("on_progress", outcome.progress)
        await self._pump.call("on_finished", outcome)
        self._finished.set()
