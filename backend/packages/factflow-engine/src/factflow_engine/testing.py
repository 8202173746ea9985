"""In-memory doubles for running a ``PipelineOrchestrator`` in tests and embedded demos.

They behave honestly (the same contract as the real implementations, minus
durability): ``InMemoryLineageSink`` keeps entries in a list,
``InMemoryExecutionStorage`` keeps objects in a dict and rejects the keys the
real storage rejects, ``RecordingCallback`` records every callback call.
``Gates`` and ``gate_processor`` hold messages in a processor until a test opens
a named gate, so tests synchronise on events instead of sleeps.
``ScriptedOrchestrator`` keeps the ``Orchestrator`` contract of
``PipelineOrchestrator`` (the same contract tests run against both) but runs no
processors: the test decides when and how each run ends.

For plugin authors: ``make_message`` and ``make_context`` build what the
engine hands a processor (``process(message, ctx)``) or an adapter
(``produce(ctx)``), with storage kept in memory and a real logger, so a
component can be unit-tested without a server or a database::

    ctx = make_context(params={"lang": "en"})
    out = await Shout(Shout.Options()).process(make_message({"text": "hi"}), ctx)
    items = [p async for p in MyAdapter(MyAdapter.Options(...)).produce(ctx)]
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from factflow_foundation import InvalidInputError, new_id, utcnow
from factflow_protocols import (
    LineageEntry,
    LineageStatus,
    Message,
    MessageFailure,
    ProcessorContext,
    ProgressSnapshot,
    RouteProgress,
    RunOutcome,
    StoredObject,
)

from factflow_engine._scripted import ScriptedOrchestrator

__all__ = [
    "Gates",
    "InMemoryExecutionStorage",
    "InMemoryLineageSink",
    "RecordingCallback",
    "ScriptedOrchestrator",
    "gate_processor",
    "make_context",
    "make_message",
]


class InMemoryLineageSink:
    """A ``LineageSink`` that appends to ``entries``; ``flush`` only counts calls."""

    def __init__(self) -> None:
        self.entries: list[LineageEntry] = []
        self.flushes = 0

    async def record(self, entry: LineageEntry) -> None:
        self.entries.append(entry)

    async def flush(self) -> None:
        self.flushes += 1

    def by_status(self, status: LineageStatus) -> list[LineageEntry]:
        """Entries with ``status``, in recording order."""
        return [e for e in self.entries if e.status == status]

    def for_route(self, route: str) -> list[LineageEntry]:
        """Entries of ``route``, in recording order."""
        return [e for e in self.entries if e.route == route]


class InMemoryExecutionStorage:
    """An ``ExecutionStorage`` for one execution, objects kept in ``objects``."""

    def __init__(self, execution_id: str = "test-execution", *, max_key_length: int = 512) -> None:
        self.execution_id = execution_id
        self.max_key_length = max_key_length
        self.objects: dict[str, bytes] = {}
        self.written: list[StoredObject] = []
        self.flushes = 0

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        route: str | None = None,
        message_id: str | None = None,
    ) -> StoredObject:
        problem = _key_problem(key, self.max_key_length)
        if problem is not None:
            raise InvalidInputError(f"invalid storage key {key!r}: {problem}")
        self.objects[key] = bytes(data)
        stored = StoredObject(
            execution_id=self.execution_id,
            key=key,
            size=len(data),
            checksum=hashlib.sha256(data).hexdigest(),
            content_type=content_type,
            route=route,
            message_id=message_id,
            written_at=utcnow(),
            location=f"memory://{self.execution_id}/{key}",
        )
        self.written.append(stored)
        return stored

    async def flush(self) -> None:
        self.flushes += 1


def _key_problem(key: str, max_length: int) -> str | None:
    if not key:
        return "it is empty"
    if len(key) > max_length:
        return f"it is longer than {max_length} characters"
    if "\x00" in key:
        return "it contains a NUL character"
    if key.startswith(("/", "\\")) or (len(key) > 1 and key[1] == ":"):
        return "it must be relative"
    if any(part in ("", ".", "..") for part in key.replace("\\", "/").split("/")):
        return "it has an empty, '.' or '..' segment"
    return None


@dataclass
class RecordingCallback:
    """An ``OrchestratorCallback`` that records every call, in order.

    ``calls`` holds ``(method, argument)`` pairs; ``finished`` is set when
    ``on_finished`` returns.  ``raise_in`` names methods that raise after
    recording (to test that callback errors do not kill a run).
    """

    raise_in: Iterable[str] = ()
    calls: list[tuple[str, Any]] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def _record(self, method: str, argument: Any) -> None:
        self.calls.append((method, argument))
        if method in set(self.raise_in):
            raise RuntimeError(f"callback {method} raised on purpose")

    async def on_route_started(self, route: str) -> None:
        self._record("on_route_started", route)

    async def on_route_drained(self, route: str, progress: RouteProgress) -> None:
        self._record("on_route_drained", (route, progress))

    async def on_message_failed(self, failure: MessageFailure) -> None:
        self._record("on_message_failed", failure)

    async def on_progress(self, progress: ProgressSnapshot) -> None:
        self._record("on_progress", progress)

    async def on_finished(self, outcome: RunOutcome) -> None:
        try:
            self._record("on_finished", outcome)
        finally:
            self.finished.set()

    def of(self, method: str) -> list[Any]:
        """The arguments of every call to ``method``, in order."""
        return [argument for name, argument in self.calls if name == method]

    @property
    def outcomes(self) -> list[RunOutcome]:
        """Every outcome passed to ``on_finished`` (exactly one after a run)."""
        return list(self.of("on_finished"))


class Gates:
    """Named asyncio events processors wait on, and counts of who reached them."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
        self._arrivals: dict[str, asyncio.Condition] = {}
        self.entered: dict[str, int] = {}

    def event(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    async def arrive(self, name: str) -> None:
        condition = self._arrivals.setdefault(name, asyncio.Condition())
        async with condition:
            self.entered[name] = self.entered.get(name, 0) + 1
            condition.notify_all()

    async def wait_entered(self, name: str, count: int = 1) -> None:
        """Until ``count`` messages have reached gate ``name``."""
        condition = self._arrivals.setdefault(name, asyncio.Condition())
        async with condition:
            await condition.wait_for(lambda: self.entered.get(name, 0) >= count)

    def open(self, name: str = "default") -> None:
        self.event(name).set()


def gate_processor(gates: Gates) -> type:
    """A processor class (register it under any name) whose ``name`` option picks
    the gate each message waits at before being passed on."""
    from factflow_engine.registry import ComponentOptions

    class Gate:
        """Test processor: waits until its gate opens, then passes the payload on."""

        class Options(ComponentOptions):
            name: str = "default"

        def __init__(self, options: Options) -> None:
            self.options = options

        async def process(self, message: Message, ctx: ProcessorContext) -> Any:
            await gates.arrive(self.options.name)
            await gates.event(self.options.name).wait()
            return message.payload

    return Gate


def make_message(
    payload: Any,
    *,
    route: str = "test",
    execution_id: str = "test-execution",
    message_id: str | None = None,
    parent_id: str | None = None,
    origin_id: str | None = None,
    attempt: int = 1,
    headers: Mapping[str, str] | None = None,
) -> Message:
    """A ``Message`` as a route's worker hands it to a processor (first attempt; a root
    message unless ``parent_id``/``origin_id`` say otherwise)."""
    message_id = message_id or new_id()
    return Message(
        id=message_id,
        execution_id=execution_id,
        route=route,
        payload=payload,
        origin_id=origin_id or message_id,
        parent_id=parent_id,
        attempt=attempt,
        headers=dict(headers or {}),
    )


def make_context(
    *,
    route: str = "test",
    execution_id: str = "test-execution",
    params: Mapping[str, Any] | None = None,
    storage: InMemoryExecutionStorage | None = None,
    logger: logging.Logger | None = None,
) -> ProcessorContext:
    """A context like the engine's (``ProcessorContext`` / ``AdapterContext``): the
    run's id, route and params, an ``InMemoryExecutionStorage`` (read its ``objects``
    and ``written`` afterwards) and a logger (``caplog`` sees its records)."""
    from factflow_engine.runtime.context import RunContext

    return RunContext(
        execution_id,
        route,
        dict(params or {}),
        storage if storage is not None else InMemoryExecutionStorage(execution_id),
        logger or logging.getLogger(f"factflow.test.{route}"),
    )
