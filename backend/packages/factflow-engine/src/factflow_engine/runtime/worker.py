"""A route worker: take a message, run the processor chain with retries, settle it.

The hot path: no task per message, no validation, no serialisation.  A
worker is always in one phase, which is what the stop sequence reads to
decide what may be interrupted: ``IDLE`` (no message in hand - cancel at
will), ``PROCESSING`` (chain or retry backoff - may be cancelled after the
grace period), ``EMITTING`` (enqueueing children; waits only while a
downstream queue is full - interrupted at once by a stop, the children not
yet enqueued are then recorded ``cancelled`` at their routes) and
``SETTLING`` (recording lineage - never interrupted, so no message is
half-settled).

A message carrying ``REGENERATE_HEADER`` (a resume rebuilding outputs its
parent run lost) runs its chain again, sends on only the outputs whose ids
are not ``known``, and is not recorded: it settled in the earlier run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factflow_foundation import utcnow
from factflow_protocols import (
    ExecutionStorage,
    LineageEntry,
    LineageSink,
    LineageStatus,
    Message,
    MessageFailure,
    RunLogSink,
)

from factflow_engine.runtime.acks import AckGate
from factflow_engine.runtime.context import RunContext
from factflow_engine.runtime.continuation import REGENERATE_HEADER, child_message_id
from factflow_engine.runtime.ledger import RouteRuntime, RunLedger
from factflow_engine.runtime.pump import CallbackPump
from factflow_engine.runtime.runlog import LogScope, current_scope
from factflow_engine.runtime.stop import StopSignal

__all__ = [
    "EMITTING",
    "IDLE",
    "PROCESSING",
    "SETTLING",
    "RouteWorker",
    "Stranded",
    "WorkerEnv",
    "cancelled_entry",
]

IDLE = 0
PROCESSING = 1
EMITTING = 2
SETTLING = 3

# A worker yields to the event loop after this many messages in a row, so a
# queue that never runs dry cannot starve the supervisor, adapters or pump.
FAIRNESS_BATCH = 64


@dataclass(slots=True, frozen=True)
class WorkerEnv:
    """Run-wide things every worker shares."""

    execution_id: str
    params: Mapping[str, Any]
    storage: ExecutionStorage
    lineage: LineageSink
    ledger: RunLedger
    pump: CallbackPump
    control: StopSignal
    fail_fast: bool
    retry_backoff: float
    retry_backoff_max: float
    acks: AckGate
    known: Callable[[str], bool] | None = None  # resume: ids never to create again
    logs: RunLogSink | None = None  # the run's log (scope set around each attempt)


@dataclass(slots=True, frozen=True)
class Stranded:
    """What a worker stopped while enqueueing children still has to settle.

    ``entry`` is the processed message's own lineage entry (its processing
    finished); ``children`` are those not enqueued, already admitted at their
    routes, to be recorded ``cancelled`` there.
    """

    entry: LineageEntry | None
    emitted: int
    children: list[tuple[RouteRuntime, Message]]


class RouteWorker:
    """One of a route's ``concurrency`` workers."""

    __slots__ = ("ctx", "current", "env", "phase", "route", "started_at", "stranded", "task")

    def __init__(self, env: WorkerEnv, route: RouteRuntime) -> None:
        self.env = env
        self.route = route
        self.phase = IDLE
        self.current: Message | None = None
        self.started_at: datetime | None = None
        self.stranded: Stranded | None = None
        self.task: asyncio.Task[None] | None = None
        self.ctx = RunContext(env.execution_id, route.name, env.params, env.storage, route.logger)

    async def run(self) -> None:
        """Serve the route's queue until the run stops."""
        try:
            await self._serve()
        except Exception as exc:  # a queue backend failed: the run cannot go on
            self.route.logger.exception("route %r: worker crashed", self.route.name)
            self.env.control.request_stop(
                "failed", f"route {self.route.name!r}: worker crashed: {type(exc).__name__}: {exc}"
            )

    async def _serve(self) -> None:
        queue = self.route.queue
        control = self.env.control
        in_a_row = 0
        progress = self.route.progress
        while not control.is_set():
            self.phase = IDLE
            message = await queue.get()
            self.current = message
            progress.in_progress += 1
            if control.is_set():
                self.started_at = None  # taken after the stop: never started
                return
            self.phase = PROCESSING
            self.started_at = utcnow()
            try:
                await self._handle(message)
            except Exception as exc:  # lineage sink or queue failed: the run cannot go on
                self.route.logger.exception("route %r: cannot settle a message", self.route.name)
                control.request_stop(
                    "failed",
                    f"route {self.route.name!r}: could not settle message {message.id}:"
                    f" {type(exc).__name__}: {exc}",
                )
                return
            self.current = None
            in_a_row += 1
            if in_a_row >= FAIRNESS_BATCH:
                in_a_row = 0
                self.phase = IDLE
                await asyncio.sleep(0)

    async def _handle(self, message: Message) -> None:
        route = self.route
        control = self.env.control
        logs = self.env.logs
        attempt = 0
        outputs: list[Any] = []
        error: str | None = None
        status: LineageStatus
        while True:
            attempt += 1
            message.attempt = attempt
            scope = (
                current_scope.set(LogScope(logs, route.name, message.id, attempt))
                if logs is not None
                else None
            )
            try:
                outputs = await self._run_chain(message)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                final = attempt > route.max_retries
                self._log_failure(message, attempt, final, exc)
                if final:
                    status = "failed"
                    break
            else:
                status = "processed" if outputs else "filtered"
                error = None
                break
            finally:
                if scope is not None:
                    current_scope.reset(scope)
            if not control.is_set():
                await asyncio.sleep(self._backoff(attempt))
            if control.is_set():
                status = "cancelled"  # a retry was still due; the run stopped first
                break
        self.phase = SETTLING
        await self._settle(message, status, outputs, error, attempt)

    def _log_failure(self, message: Message, attempt: int, final: bool, exc: Exception) -> None:
        """A failed attempt, with its traceback, in the run's log (and the server log at
        INFO / WARNING: a message failure is the run's business, not a server error)."""
        route = self.route
        tries = route.max_retries + 1
        if final:
            text = "message %s failed at route %r after %d attempt(s): %s: %s"
            args: tuple[Any, ...] = (message.id, route.name, attempt, type(exc).__name__, exc)
        else:
            text = "message %s: attempt %d of %d failed at route %r, retrying: %s: %s"
            args = (message.id, attempt, tries, route.name, type(exc).__name__, exc)
        level = logging.WARNING if final else logging.INFO
        route.logger.log(level, text, *args, exc_info=(type(exc), exc, exc.__traceback__))

    def _backoff(self, retry: int) -> float:
        env = self.env
        return float(min(env.retry_backoff * 2 ** (retry - 1), env.retry_backoff_max))

    async def _run_chain(self, message: Message) -> list[Any]:
        ctx = self.ctx
        items: list[Any] = [message.payload]
        for processor in self.route.processors:
            produced: list[Any] = []
            for item in items:
                current = message if item is message.payload else _with_payload(message, item)
                ctx.message = current
                result = await processor.process(current, ctx)
                if result is None:
                    continue
                if isinstance(result, list):
                    produced.extend(r for r in result if r is not None)
                else:
                    produced.append(result)
            items = produced
            if not items:
                break
        ctx.message = None
        return items

    async def _settle(
        self,
        message: Message,
        status: LineageStatus,
        outputs: list[Any],
        error: str | None,
        attempts: int,
    ) -> None:
        env = self.env
        route = self.route
        regenerate = bool(message.headers) and REGENERATE_HEADER in message.headers
        entry = None
        if not regenerate or status == "failed":
            entry = LineageEntry(
                env.execution_id,
                message.id,
                message.parent_id,
                message.origin_id,
                route.name,
                status,
                attempts,
                self.started_at,
                utcnow(),
                error if not regenerate else f"could not regenerate its outputs: {error}",
                message.payload,
                len(outputs) if status == "processed" else 0,
            )
        emitted = 0
        if status == "processed" and route.downstream:
            children = self._children(message, outputs)
            self.phase = EMITTING
            try:
                for target, child in children:
                    env.ledger.admit(target)
                    await target.queue.put(child)
                    emitted += 1
            except BaseException:
                # Stopped, or the queue failed: the message was processed; the
                # children not enqueued are recorded ``cancelled`` by the stop.
                rest = children[emitted:]
                for target, _child in rest[1:]:
                    env.ledger.admit(target)  # the first was admitted before its put
                self.stranded = Stranded(entry, emitted, rest)
                raise
            self.phase = SETTLING
        if entry is not None:
            await env.lineage.record(entry)
        if status == "failed":
            env.pump.message_failed(
                MessageFailure(
                    env.execution_id,
                    route.name,
                    message.id,
                    message.origin_id,
                    attempts,
                    error or "",
                ),
            )
            if env.fail_fast:
                env.control.request_stop(
                    "failed",
                    f"message {message.id} failed at route {route.name!r} after {attempts}"
                    f" attempt{'s' if attempts != 1 else ''}: {error}",
                )
        if regenerate and status in ("processed", "filtered"):
            env.ledger.settle(route, "regenerated", emitted)
        else:
            env.ledger.settle(route, status, emitted)
        if route.acks:
            env.acks.add(route.queue, message)

    def _children(self, message: Message, outputs: list[Any]) -> list[tuple[RouteRuntime, Message]]:
        """The messages ``outputs`` become, one per output and downstream route, ids derived.

        In a resume, a child whose id is ``known`` (recorded earlier, or queued
        by the plan) is not made again.
        """
        env = self.env
        known = env.known
        parent_id = message.id
        origin_id = message.origin_id
        children = []
        for index, payload in enumerate(outputs):
            for target in self.route.downstream:
                child_id = child_message_id(parent_id, index, target.name)
                if known is not None and known(child_id):
                    continue
                children.append(
                    (
                        target,
                        Message(
                            child_id,
                            env.execution_id,
                            target.name,
                            payload,
                            origin_id,
                            parent_id,
                        ),
                    )
                )
        return children


def _with_payload(message: Message, payload: Any) -> Message:
    """The same message carrying an intermediate payload (fan-out inside a chain)."""
    return Message(
        message.id,
        message.execution_id,
        message.route,
        payload,
        message.origin_id,
        message.parent_id,
        message.attempt,
        message.headers,
    )


def cancelled_entry(
    execution_id: str, message: Message, route: str, started_at: datetime | None, reason: str
) -> LineageEntry:
    """The lineage entry of a message the run stopped before it finished (``reason`` why)."""
    return LineageEntry(
        execution_id,
        message.id,
        message.parent_id,
        message.origin_id,
        route,
        "cancelled",
        message.attempt,
        started_at,
        utcnow(),
        reason,
        message.payload,
    )
