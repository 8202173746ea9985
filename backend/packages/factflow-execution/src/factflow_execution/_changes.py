"""The server-wide feed of execution changes (new runs, status changes, progress).

Every committed batch of an execution's events is also published, summarised,
on one topic, ``EXECUTIONS_TOPIC``; other processes' batches arrive there
through the same ``LISTEN/NOTIFY`` wake-ups the streamers use.  It is a
notification feed, not a log: it carries no cursor and is not replayed, so a
client reads the executions it shows again when it (re)connects and whenever
a change concerns them.  A subscriber that falls behind gets one
``resync=True`` change instead of the ones it missed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final

from factflow_protocols import OVERFLOW, EventBus

__all__ = ["EXECUTIONS_TOPIC", "ExecutionChange", "ExecutionChangeStream"]

EXECUTIONS_TOPIC: Final = "executions"


@dataclass(frozen=True, slots=True)
class ExecutionChange:
    """Something happened to ``execution_id`` (its log reached ``seq``)."""

    execution_id: str
    seq: int | None = None
    status: str | None = None
    kinds: tuple[str, ...] = field(default=())
    resync: bool = False


class ExecutionChangeStream:
    """``async for change in service.changes()``: every change from now on, until closed."""

    def __init__(self, bus: EventBus) -> None:
        self._subscription = bus.subscribe(EXECUTIONS_TOPIC)

    def __aiter__(self) -> AsyncIterator[ExecutionChange]:
        return self._run()

    async def _run(self) -> AsyncIterator[ExecutionChange]:
        while True:
            payload = await self._subscription.get()
            if payload is OVERFLOW:
                yield ExecutionChange("", resync=True)
            elif isinstance(payload, ExecutionChange):
                yield payload

    async def aclose(self) -> None:
        """Free the subscription at once."""
        self._subscription.close()
