"""``PipelineOrchestrator``: runs one execution of a resolved pipeline.

Lifecycle: ``start()`` builds the components and starts, per route,
``concurrency`` worker tasks, the source adapters and one supervisor; it
returns at once.  The run stops for the first of: drained (``completed``), a
final message failure under ``on_message_error: fail``, an adapter error or
the timeout (``failed``), or ``cancel()`` (``cancelled``).  The stop sequence
then stops the feeders and the workers waiting for a message or for room in a
full queue, lets in-flight processors finish within ``cancel_grace``,
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

from factflow_foundation import SettingDefaults
from factflow_protocols import (
    ExecutionStorage,
    LineageEntry,
    LineageSink,
    Message,
    OrchestratorCallback,
    ProgressSnapshot,
    QueueBackend,
    RouteProgress,
    RunLogSink,
    RunOutcome,
)

from factflow_engine.config.resolver import ResolvedPipeline
from factflow_engine.registry import Registry
from factflow_engine.runtime.acks import AckGate
from factflow_engine.runtime.build import build_routes, check_inputs
from factflow_engine.runtime.continuation import REGENERATE_HEADER, ResumePlan
from factflow_engine.runtime.feeder import AdapterFeeder, SeedFeeder
from factflow_engine.runtime.ledger import RouteRuntime, RunLedger
from factflow_engine.runtime.pump import CallbackPump
from factflow_engine.runtime.runlog import RunLogger, install_run_log_capture
from factflow_engine.runtime.stop import StopSignal
from factflow_engine.runtime.worker import (
    EMITTING,
    IDLE,
    SETTLING,
    RouteWorker,
    WorkerEnv,
    cancelled_entry,
)

__all__ = ["PipelineOrchestrator"]

_default_logger = logging.getLogger("factflow_engine.orchestrator")


class PipelineOrchestrator:
    """Runs one execution: routes, workers, adapters, retries, drain detection, stop.

    ``queue_names`` (route -> queue name) is taken as given - the execution's
    snapshot - and the global route directory is never consulted.  With
    ``initial_messages`` (replay) adapters do not run: those messages, with
    their ids, origins and parents kept, are enqueued at their routes and the
    run drains when they and their descendants have settled.  With ``resume``
    the run finishes an earlier one as its ``ResumePlan`` says.  With ``logs``
    what processors and adapters log, and every message failure with its
    traceback, goes to that sink too (``runtime.runlog``); it is closed
    (flushed) after every task has stopped, before ``on_finished``.
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
        cancel_grace: float = SettingDefaults.cancel_grace,
        progress_interval: float = SettingDefaults.progress_interval,
        initial_messages: Sequence[Message] | None = None,
        resume: ResumePlan | None = None,
        logger: logging.Logger | None = None,
        logs: RunLogSink | None = None,
    ) -> None:
        if initial_messages is not None and resume is not None:
            raise ValueError("pass initial_messages (replay) or resume, not both")
        if resume is not None:
            initial_messages = [*resume.messages, *map(_regenerating, resume.regenerate)]
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
        self._resume = resume
        self._logs = logs
        base = logger or _default_logger
        self._logger = RunLogger(base.name, logs, None) if logs is not None else base
        self._stop = StopSignal()
        self._pump = CallbackPump(callback, self.progress, progress_interval, self._logger)
        self._acks = AckGate(lineage, self._logger)
        self._routes: list[RouteRuntime] = []
        self._ledger: RunLedger | None = None
        self._workers: list[RouteWorker] = []
        self._feeders: list[AdapterFeeder] = []
        self._seeder: SeedFeeder | None = None
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
        A failure after the tasks started (a queue refusing a message) ends the
        run as ``failed`` instead, reported like any other outcome.
        """
        if self._ledger is not None:
            raise RuntimeError(f"orchestrator of execution {self.execution_id} already started")
        resume = self._resume
        self._routes = build_routes(
            self.execution_id,
            self.pipeline,
            queue_names=self._queue_names,
            queues=self._queues,
            registry=self._registry,
            with_adapters=self._initial is None or (resume is not None and resume.run_adapters),
            logger=self._logger,
            logs=self._logs,
        )
        if self._logs is not None:
            install_run_log_capture()
        ledger = self._ledger = RunLedger(self._routes, self._pump, self._stop)
        settings = self.pipeline.config.settings
        env = WorkerEnv(
            execution_id=self.execution_id,
            params=MappingProxyType(dict(self.pipeline.params)),
            storage=self._storage,
            lineage=self._lineage,
            ledger=ledger,
            pump=self._pump,
            control=self._stop,
            acks=self._acks,
            fail_fast=settings.on_message_error == "fail",
            retry_backoff=settings.retry_backoff,
            retry_backoff_max=settings.retry_backoff_max,
            known=resume.known if resume is not None else None,
            logs=self._logs,
        )
        if self._initial:
            by_name = {route.name: route for route in self._routes}
            self._seeder = SeedFeeder(env, self._initial, by_name)
        ledger.wire_sources(self._seeder.seeded if self._seeder is not None else ())
        tag = f"factflow:{self.execution_id[:13]}"
        self._pump.start(f"{tag}:callbacks")
        self._supervisor = asyncio.create_task(self._supervise(), name=f"{tag}:supervisor")
        try:
            await self._launch(env, ledger, tag)
        except Exception as exc:  # the supervisor runs already: end the run, do not strand it
            self._logger.exception("execution %s: could not start", self.execution_id)
            self._stop.request_stop("failed", f"could not start: {type(exc).__name__}: {exc}")

    async def _launch(self, env: WorkerEnv, ledger: RunLedger, tag: str) -> None:
        resume = self._resume
        namespace = resume.namespace if resume is not None else self.execution_id
        for route in self._routes:
            for index in range(route.concurrency):
                worker = RouteWorker(env, route)
                worker.task = asyncio.create_task(worker.run(), name=f"{tag}:{route.name}:{index}")
                self._workers.append(worker)
            if route.adapter is not None:
                feeder = AdapterFeeder(env, route, namespace, env.known)
                ledger.adapter_started(route)
                feeder.task = asyncio.create_task(feeder.run(), name=f"{tag}:{route.name}:adapter")
                self._feeders.append(feeder)
        seeder = self._seeder
        if seeder is not None:
            seeder.task = asyncio.create_task(seeder.run(), name=f"{tag}:seed")
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

    def _feeder_tasks(self) -> list[asyncio.Task[None] | None]:
        seed = [self._seeder.task] if self._seeder is not None else []
        return [f.task for f in self._feeders] + seed

    async def _shutdown(self) -> None:
        feeders = self._feeder_tasks()
        for task in feeders:
            if task is not None:
                task.cancel()
        await self._gather(feeders)
        for worker in self._workers:
            # Waiting for a message or for room downstream: nothing to finish.
            if worker.phase in (IDLE, EMITTING) and worker.task is not None:
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
        tasks = self._feeder_tasks() + [w.task for w in self._workers]
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
        unfinished: list[tuple[RouteRuntime, Message, datetime | None, bool]] = []
        for worker in self._workers:
            stranded, worker.stranded = worker.stranded, None
            if stranded is not None:
                # Processed, stopped while enqueueing its children: it settles as
                # processed; the children not enqueued are what did not finish.
                if stranded.entry is not None:
                    await self._record(stranded.entry)
                    ledger.settle(worker.route, stranded.entry.status, stranded.emitted)
                else:
                    ledger.settle(worker.route, "regenerated", stranded.emitted)
                unfinished.extend((route, child, None, False) for route, child in stranded.children)
            elif worker.current is not None:
                unfinished.append((worker.route, worker.current, worker.started_at, True))
            worker.current = None
        untaken = [(f.route, m) for f in self._feeders for m in f.unqueued]
        if self._seeder is not None:
            untaken.extend(self._seeder.unqueued)
        for route in self._routes:
            untaken.extend((route, message) for message in await route.queue.drain())
        unfinished.extend((route, message, None, False) for route, message in untaken)
        for route, message, started_at, taken in unfinished:
            # A regenerating message settled in an earlier run: the next resume
            # finds its lost outputs again, so it is not recorded here.
            if not (message.headers and REGENERATE_HEADER in message.headers):
                entry = cancelled_entry(self.execution_id, message, route.name, started_at, reason)
                await self._record(entry)
            ledger.settle(route, "cancelled", taken=taken)

    async def _record(self, entry: LineageEntry) -> None:
        try:
            await self._lineage.record(entry)
        except Exception:
            self._logger.exception(
                "execution %s: cannot record message %s at route %r",
                self.execution_id,
                entry.message_id,
                entry.route,
            )

    def _stop_reason(self) -> str:
        status, error = self._stop.status, self._stop.error
        if status == "cancelled":
            return f"run cancelled: {error}" if error else "run cancelled"
        return f"run {status}: {error}" if error else f"run {status}"

    async def _finish(self) -> None:
        status = self._stop.status or "failed"
        error = self._stop.error
        durable = True
        try:
            # Objects first: the lineage writer waits for them anyway, and a run
            # is never completed before every object it stored is durable.
            await self._storage.flush()
        except Exception as exc:
            self._logger.exception("execution %s: storage flush failed", self.execution_id)
            if status == "completed":
                status, error = "failed", f"storage flush failed: {type(exc).__name__}: {exc}"
        try:
            await self._lineage.flush()
        except Exception as exc:
            durable = False
            self._logger.exception("execution %s: lineage flush failed", self.execution_id)
            if status == "completed":
                status, error = "failed", f"lineage flush failed: {type(exc).__name__}: {exc}"
        if durable:
            await self._acks.close()
        try:
            if durable:
                await self._queues.release(self.execution_id)
                # What this resume took from earlier runs' broker queues is recorded now.
                for earlier, names in self._resume.leftover_queues if self._resume else ():
                    await self._queues.discard_leftovers(earlier, names)
            else:  # a durable broker keeps what lineage could not record, for a resume
                await self._queues.forget(self.execution_id)
        except Exception:
            self._logger.exception("execution %s: releasing queues failed", self.execution_id)
        await self._pump.close()
        if self._logs is not None:
            try:
                await self._logs.close()
            except Exception:
                self._logger.exception(
                    "execution %s: closing the run log failed", self.execution_id
                )
        outcome = self._outcome = RunOutcome(status, self.progress(), error)
        await self._pump.progress(outcome.progress)
        await self._pump.finished(outcome)
        self._finished.set()


def _regenerating(message: Message) -> Message:
    """``message`` marked to run again only to rebuild its outputs (not recorded)."""
    return Message(
        message.id,
        message.execution_id,
        message.route,
        message.payload,
        message.origin_id,
        message.parent_id,
        0,
        {**message.headers, REGENERATE_HEADER: "1"},
    )
