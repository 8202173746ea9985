"""A route worker: take a message, run the processor chain with retries, settle it.

The hot path: no task per message, no validation, no serialisation.  A
worker is always in one phase, which is what the stop sequence reads to
decide what may be interrupted: ``IDLE`` (no message in hand - cancel at
will), ``PROCESSING`` (chain or retry backoff - may be cancelled after the
grace period) and ``SETTLING`` (enqueueing children and recording lineage -
never interrupted, so no message is half-settled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factflow_foundation import new_id, utcnow
from factflow_protocols import (
    ExecutionStorage,
    LineageEntry,
    LineageSink,
    LineageStatus,
    Message,
    MessageFailure,
)

from factflow_engine.runtime.context import RunContext
from factflow_engine.runtime.ledger import RouteRuntime, RunLedger
from factflow_engine.runtime.pump import CallbackPump
from factflow_engine.runtime.stop import StopSignal

__all__ = [
    "IDLE",
    "PROCESSING",
    "SETTLING",
    "RouteWorker",
    "WorkerEnv",
    "cancelled_entry",
]

IDLE = 0
PROCESSING = 1
SETTLING = 2

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


class RouteWorker:
    """One of a route's ``concurrency`` workers."""

    __slots__ = ("ctx", "current", "env", "phase", "route", "started_at", "task")

    def __init__(self, env: WorkerEnv, route: RouteRuntime) -> None:
        self.env = env
        self.route = route
        self.phase = IDLE
        self.current: Message | None = None
        self.started_at: datetime | None = None
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
        while not control.is_set():
            self.phase = IDLE
            message = await queue.get()
            self.current = message
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
        attempt = 0
        outputs: list[Any] = []
        error: str | None = None
        status: LineageStatus
        while True:
            attempt += 1
            message.attempt = attempt
            try:
                outputs = await self._run_chain(message)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt > route.max_retries:
                    status = "failed"
                    break
                if not control.is_set():
                    await asyncio.sleep(self._backoff(attempt))
                if control.is_set():
                    status = "cancelled"  # a retry was still due; the run stopped first
                    break
                continue
            status = "processed" if outputs else "filtered"
            error = None
            break
        self.phase = SETTLING
        await self._settle(message, status, outputs, error, attempt)

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
        emitted = 0
        if status == "processed":
            for payload in outputs:
                for target in route.downstream:
                    child = Message(
                        new_id(),
                        env.execution_id,
                        target.name,
                        payload,
                        message.origin_id,
                        message.id,
                    )
                    env.ledger.admit(target)
                    await target.queue.put(child)
                    emitted += 1
        await env.lineage.record(
            LineageEntry(
                env.execution_id,
                message.id,
                message.parent_id,
                message.origin_id,
                route.name,
                status,
                attempts,
                self.started_at,
                utcnow(),
                error,
                message.payload,
                len(outputs) if status == "processed" else 0,
            )
        )
        if status == "failed":
            env.pump.post(
                "on_message_failed",
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
        env.ledger.settle(route, status, emitted)


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
