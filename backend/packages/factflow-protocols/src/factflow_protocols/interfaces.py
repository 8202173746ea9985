"""Interfaces between the tiers (``typing.Protocol``; implementations live elsewhere).

Who implements what:

* ``QueueBackend`` / ``MessageQueue`` - ``factflow_infra.queues`` (in-memory) and
  ``factflow_infra.broker`` (RabbitMQ).
* ``StorageBackend`` - ``factflow_infra.storage`` (local filesystem);
  ``ExecutionStorage`` is the per-execution view processors write through.
* ``EventBus`` / ``Subscription`` - ``factflow_infra.bus``.
* ``LineageSink`` - ``factflow_lineage.LineageRecorder``.
* ``Processor`` / ``Adapter`` - ``factflow_engine`` built-ins and third parties.
* ``Orchestrator`` - ``factflow_engine.PipelineOrchestrator``; the honest
  double ``factflow_engine.testing.ScriptedOrchestrator`` passes the same
  contract tests.
* ``OrchestratorCallback`` - ``factflow_execution.ExecutionStatusCallbackAdapter``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from factflow_protocols.values import (
    LineageEntry,
    Message,
    MessageFailure,
    ProgressSnapshot,
    RouteProgress,
    RunLogRecord,
    RunOutcome,
    StoredObject,
)

__all__ = [
    "OVERFLOW",
    "Adapter",
    "AdapterContext",
    "BusOverflow",
    "EventBus",
    "ExecutionStorage",
    "LineageSink",
    "MessageQueue",
    "Orchestrator",
    "OrchestratorCallback",
    "Processor",
    "ProcessorContext",
    "QueueBackend",
    "RunLogSink",
    "StorageBackend",
    "StorageObserver",
    "Subscription",
]


# --- queues -----------------------------------------------------------------


class MessageQueue(Protocol):
    """One named, bounded queue of one execution.

    ``put`` waits while the queue holds ``maxsize`` messages: that wait is the
    back-pressure that keeps a run's memory flat whatever its source's length.
    A backend whose queues outlive the process (a broker) sets ``needs_ack``:
    a message taken with ``get`` stays in the broker until ``ack`` - which the
    engine calls only once the message's lineage row is durable - so a crash
    redelivers it instead of losing it.
    """

    @property
    def name(self) -> str: ...

    @property
    def maxsize(self) -> int:
        """Most messages the queue holds before ``put`` waits (0: unbounded)."""
        ...

    @property
    def needs_ack(self) -> bool:
        """True when taken messages must be acknowledged with ``ack``."""
        ...

    async def put(self, message: Message) -> None:
        """Enqueue; waits while the queue is full (cancellable)."""

    async def get(self) -> Message:
        """Wait for and take the next message (cancellable)."""
        ...

    async def ack(self, messages: Sequence[Message]) -> None:
        """Forget taken messages for good (their lineage is durable); a no-op in memory."""

    async def drain(self) -> list[Message]:
        """Take every queued message at once (used on cancel)."""
        ...

    def qsize(self) -> int: ...


class QueueBackend(Protocol):
    """Where route queues live.  Queue names come from the route directory.

    ``durable`` says whether queues outlive the process: with a broker, what an
    execution left queued when its process died is still there, and
    ``leftovers`` hands it to the run that resumes it.
    """

    @property
    def durable(self) -> bool: ...

    def open(self, execution_id: str, name: str, *, maxsize: int = 0) -> MessageQueue:
        """The queue ``name`` scoped to ``execution_id`` (created on first use; no I/O)."""
        ...

    async def release(self, execution_id: str) -> None:
        """Delete every queue of a finished execution (all it held is recorded)."""

    async def forget(self, execution_id: str) -> None:
        """Let go of an execution's queues but keep what a durable backend holds
        (its lineage could not be made durable, so a resume still needs it)."""

    async def leftovers(self, execution_id: str, names: Sequence[str]) -> list[Message]:
        """Read, without removing, what a dead process left in ``execution_id``'s queues.

        Only a durable backend ever returns messages: at most about each queue's
        depth plus its prefetch, so the list is as bounded as the run was.
        """
        ...

    async def discard_leftovers(self, execution_id: str, names: Sequence[str]) -> None:
        """Delete ``execution_id``'s queues ``names`` once a resume recorded their content."""

    async def close(self) -> None:
        """Release connections (at process shutdown)."""


# --- storage ----------------------------------------------------------------


class StorageBackend(Protocol):
    """Raw object storage addressed by validated relative paths."""

    async def write(self, path: str, data: bytes) -> str:
        """Store ``data`` atomically at ``path``; return its location (file path, URL)."""
        ...

    async def read(self, path: str) -> bytes: ...

    async def delete(self, path: str) -> None: ...

    async def delete_tree(self, prefix: str) -> None:
        """Remove every object under ``prefix/`` (a no-op when there is none)."""
        ...

    async def list_dir(self, prefix: str = "") -> list[str]:
        """Names directly under ``prefix`` (the root when empty); ``[]`` when none."""
        ...

    def locate(self, path: str) -> str:
        """Human-readable location of ``path`` (no I/O)."""
        ...


class ExecutionStorage(Protocol):
    """The storage view a processor writes through: one execution's namespace."""

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        route: str | None = None,
        message_id: str | None = None,
    ) -> StoredObject:
        """Validate ``key``, store ``data``, record it and announce it (the record
        and announcement may follow in a batch: see ``flush``)."""
        ...

    async def flush(self) -> None:
        """Return once every object put so far is durable (bytes, record and
        announcement); raise if some could not be."""
        ...


class StorageObserver(Protocol):
    """Told about every storage write once it is durable and recorded."""

    async def storage_written(self, obj: StoredObject) -> None: ...


# --- event bus --------------------------------------------------------------


class BusOverflow:
    """Marker delivered once to a subscriber whose buffer overflowed.

    Notifications are wake-ups, not the record: a consumer that receives it
    must re-read what it missed from the persisted log by cursor.
    """

    _instance: BusOverflow | None = None

    def __new__(cls) -> BusOverflow:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OVERFLOW"


OVERFLOW = BusOverflow()


class Subscription(Protocol):
    """A live feed of one topic; close it (or use ``with``) to free it at once."""

    @property
    def topic(self) -> str: ...

    async def get(self) -> Any:
        """Next payload published after the subscription began, or ``OVERFLOW``."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Subscription: ...

    def __exit__(self, *exc: object) -> None: ...


class EventBus(Protocol):
    """Topic fan-out.  ``publish`` never blocks: slow subscribers overflow instead."""

    def subscribe(self, topic: str) -> Subscription: ...

    def publish(self, topic: str, payload: Any) -> None: ...

    def topics(self) -> list[str]:
        """Topics that currently have subscribers."""
        ...

    def subscriber_count(self, topic: str | None = None) -> int: ...


# --- lineage ----------------------------------------------------------------


class LineageSink(Protocol):
    """Receives one entry per settled message per route; batches the writes."""

    async def record(self, entry: LineageEntry) -> None:
        """Buffer ``entry``; waits only when the buffer is over its high-water mark."""

    async def flush(self) -> None:
        """Return once every entry recorded before the call is durable."""


class RunLogSink(Protocol):
    """Receives one run's log records (per execution: it knows which run).

    ``emit`` never blocks and never raises (it is called from logging
    handlers on the hot path); the sink batches the writes and bounds what
    it keeps.  ``close`` is called once, when the run's tasks have stopped:
    it returns once every record emitted before it is durable.
    """

    def emit(self, record: RunLogRecord) -> None: ...

    async def close(self) -> None: ...


# --- processors and adapters ------------------------------------------------


class ProcessorContext(Protocol):
    """What a processor may see and use while handling one message."""

    @property
    def execution_id(self) -> str: ...

    @property
    def route(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...

    @property
    def storage(self) -> ExecutionStorage: ...

    @property
    def logger(self) -> logging.Logger: ...


class AdapterContext(ProcessorContext, Protocol):
    """What a source adapter sees (same as a processor, without a message)."""


@runtime_checkable
class Processor(Protocol):
    """Transforms one message payload.

    Return a payload (passed on), a ``list`` of payloads (fan-out: each goes on
    separately) or ``None`` (filtered: nothing goes on).  Raising marks the
    attempt failed; the engine retries per the route's policy.
    """

    async def process(self, message: Message, ctx: ProcessorContext) -> Any: ...


@runtime_checkable
class Adapter(Protocol):
    """Produces the payloads that enter a source route."""

    def produce(self, ctx: AdapterContext) -> AsyncIterator[Any]: ...


# --- orchestrator callback --------------------------------------------------


class OrchestratorCallback(Protocol):
    """How a ``PipelineOrchestrator`` reports back to whoever owns it.

    ``on_finished`` is called exactly once, after every worker and adapter task
    has stopped; no method is called after it.
    """

    async def on_route_started(self, route: str) -> None: ...

    async def on_route_drained(self, route: str, progress: RouteProgress) -> None: ...

    async def on_message_failed(self, failure: MessageFailure) -> None: ...

    async def on_progress(self, progress: ProgressSnapshot) -> None: ...

    async def on_finished(self, outcome: RunOutcome) -> None: ...


class Orchestrator(Protocol):
    """One run of a pipeline, as the process that owns it drives it.

    The contract (``PipelineOrchestrator`` and its test double keep it alike):

    * ``start()`` returns once the run is under way; it raises only when the run
      could not begin at all (then no callback is ever called), and
      ``RuntimeError`` when called twice.
    * ``cancel(reason)`` asks the run to stop as ``cancelled``; idempotent, and a
      no-op once an outcome was decided: the first outcome wins.
    * The callback's ``on_finished(outcome)`` is called exactly once, after
      every task of the run has stopped; ``wait()`` returns that outcome once
      ``on_finished`` has returned (``RuntimeError`` before ``start``).
    * ``progress()`` is a snapshot of the live counters, callable at any time.
    """

    execution_id: str

    async def start(self) -> None: ...

    def cancel(self, reason: str | None = None) -> None: ...

    async def wait(self) -> RunOutcome: ...

    def progress(self) -> ProgressSnapshot: ...
