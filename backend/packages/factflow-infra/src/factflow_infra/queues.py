"""Queue backends.  ``InMemoryQueueBackend`` is the embedded default.

Queues are scoped per execution: two runs of the same config never share a
queue, even though both resolve a route to the same queue name.
"""

from __future__ import annotations

import asyncio

from factflow_protocols import Message

__all__ = ["InMemoryQueue", "InMemoryQueueBackend"]


class InMemoryQueue:
    """An unbounded asyncio FIFO of messages."""

    __slots__ = ("_name", "_queue")

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: asyncio.Queue[Message] = asyncio.Queue()

    @property
    def name(self) -> str:
        return self._name

    async def put(self, message: Message) -> None:
        self._queue.put_nowait(message)

    def put_nowait(self, message: Message) -> None:
        self._queue.put_nowait(message)

    async def get(self) -> Message:
        return await self._queue.get()

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
        return f"InMemoryQueue({self._name!r}, size={self.qsize()})"


class InMemoryQueueBackend:
    """Process-local queues keyed by ``(execution_id, queue name)``."""

    def __init__(self) -> None:
        self._queues: dict[tuple[str, str], InMemoryQueue] = {}

    def open(self, execution_id: str, name: str) -> InMemoryQueue:
        key = (execution_id, name)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = InMemoryQueue(name)
        return queue

    async def release(self, execution_id: str) -> None:
        for key in [k for k in self._queues if k[0] == execution_id]:
            del self._queues[key]

    def open_count(self) -> int:
        """How many queues exist (for leak checks)."""
        return len(self._queues)
