"""In-process event bus: topic fan-out with bounded, never-blocking delivery.

A notification is a wake-up, not the record (the persisted event log is).  A
subscriber that falls more than ``buffer`` notifications behind gets its
backlog replaced by one ``OVERFLOW`` marker and must catch up from the log, so
a slow consumer can never block a publisher or grow memory without bound.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from factflow_protocols import OVERFLOW

__all__ = ["InProcessEventBus", "InProcessSubscription"]


class InProcessSubscription:
    """One subscriber's buffer on one topic."""

    __slots__ = ("_buffer", "_bus", "_closed", "_limit", "_topic", "_waiter")

    def __init__(self, bus: InProcessEventBus, topic: str, limit: int) -> None:
        self._bus = bus
        self._topic = topic
        self._limit = limit
        self._buffer: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def closed(self) -> bool:
        return self._closed

    def _deliver(self, payload: Any) -> None:
        if len(self._buffer) >= self._limit:
            self._buffer.clear()
            self._buffer.append(OVERFLOW)
        else:
            self._buffer.append(payload)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pending(self) -> int:
        """Notifications buffered and not yet taken."""
        return len(self._buffer)

    def get_nowait(self) -> Any:
        """The next buffered payload; raises ``LookupError`` when there is none."""
        if not self._buffer:
            raise LookupError("no notification buffered")
        return self._buffer.popleft()

    async def get(self) -> Any:
        while not self._buffer:
            if self._closed:
                raise RuntimeError(f"subscription to {self._topic!r} is closed")
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._buffer.popleft()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._buffer.clear()
            self._bus._remove(self)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def __enter__(self) -> InProcessSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessEventBus:
    """Topic → subscribers, in one process and one event loop."""

    def __init__(self, *, buffer: int = 1024) -> None:
        self._buffer = buffer
        self._topics: dict[str, set[InProcessSubscription]] = {}

    def subscribe(self, topic: str) -> InProcessSubscription:
        subscription = InProcessSubscription(self, topic, self._buffer)
        self._topics.setdefault(topic, set()).add(subscription)
        return subscription

    def publish(self, topic: str, payload: Any) -> None:
        for subscription in tuple(self._topics.get(topic, ())):
            subscription._deliver(payload)

    def topics(self) -> list[str]:
        """Topics that have at least one subscriber."""
        return list(self._topics)

    def subscriber_count(self, topic: str | None = None) -> int:
        if topic is not None:
            return len(self._topics.get(topic, ()))
        return sum(len(s) for s in self._topics.values())

    def _remove(self, subscription: InProcessSubscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._topics[subscription.topic]
