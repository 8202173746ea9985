"""Queue backends.  ``InMemoryQueueBackend`` is the embedded default.

Queues are scoped per execution: two runs of the same config never share a
queue, even though both resolve a route to the same queue name.  Each queue
is bounded (``maxsize``): a producer waits for room, so a run's memory does
not grow with its source.  In-memory queues die with the process; what they
held at a crash is rebuilt by a resume from lineage (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from factflow_foundation import FactFlowSettings, InvalidInputError, reveal
from factflow_protocols import Message, QueueBackend

__all__ = ["InMemoryQueue", "InMemoryQueueBackend", "queue_backend_from_settings"]


def queue_backend_from_settings(settings: FactFlowSettings) -> QueueBackend:
    """In-memory queues, or RabbitMQ when ``queue_url`` is an ``amqp(s)://`` URL (no I/O).

    Raises ``InvalidInputError`` for any other URL, naming the setting.
    """
    url = reveal(settings.queue_url)
    if not url:
        return InMemoryQueueBackend()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("amqp", "amqps"):
        from factflow_infra.broker import RabbitMQQueueBackend  # aio-pika only when used

        return RabbitMQQueueBackend(url)
    raise InvalidInputError(
        f"FACTFLOW_QUEUE_URL has scheme {scheme or '(none)'!r}; use amqp:// or amqps:// for"
        " RabbitMQ, or leave it unset for in-memory queues"
    )


class InMemoryQueue:
    """An asyncio FIFO of messages holding at most ``maxsize`` (0: unbounded)."""

    __slots__ = ("_name", "_queue")

    needs_ack = False

    def __init__(self, name: str, maxsize: int = 0) -> None:
        self._name = name
        self._queue: asyncio.Queue[Message] = asyncio.Queue(max(0, maxsize))

    @property
    def name(self) -> str:
        return self._name

    @property
    def maxsize(self) -> int:
        return self._queue.maxsize

    async def put(self, message: Message) -> None:
        await self._queue.put(message)

    async def get(self) -> Message:
        return await self._queue.get()

    async def ack(self, messages: Sequence[Message]) -> None:
        """Nothing to acknowledge: a taken message is gone from memory already."""

    async def drain(self) -> list[Message]:
        drained: list[Message] = []
        while True:
            try:
                drained.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return drained

    def qsize(self) -> int:
        return self._queue.qsize()

    def __repr__(self) -> str:
        return f"InMemoryQueue({self._name!r}, size={self.qsize()}, maxsize={self.maxsize})"


class InMemoryQueueBackend:
    """Process-local queues keyed by ``(execution_id, queue name)``."""

    durable = False

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], InMemoryQueue] = {}

    def open(self, execution_id: str, name: str, *, maxsize: int = 0) -> InMemoryQueue:
        key = (execution_id, name)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = InMemoryQueue(name, maxsize)
        return queue

    async def release(self, execution_id: str) -> None:
        for key in [k for k in self._queues if k[0] == execution_id]:
            del self._queues[key]

    async def forget(self, execution_id: str) -> None:
        """The same as ``release``: nothing in memory outlives the process anyway."""
        await self.release(execution_id)

    async def leftovers(self, execution_id: str, names: Sequence[str]) -> list[Message]:
        """Always empty: in-memory queues do not outlive the process that filled them."""
        return []

    async def discard_leftovers(self, execution_id: str, names: Sequence[str]) -> None:
        """Nothing to delete."""

    async def close(self) -> None:
        """Nothing to close."""

    def open_count(self) -> int:
        """How many queues exist (for leak checks)."""
        return len(self._queues)
