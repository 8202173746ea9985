"""Acknowledging broker deliveries only once their lineage rows are durable.

With a queue that ``needs_ack`` (a broker), a settled message must stay in
the broker until the row recording it is committed: otherwise a crash in
between would lose it without a trace.  Waiting for that per message would
tie every worker to the lineage batch interval, so workers hand settled
messages to one ``AckGate`` and move on; its task asks the lineage sink to
flush (one write covers everything recorded so far) and then acknowledges the
whole batch.  In-memory queues never come here.
"""

from __future__ import annotations

import asyncio
import logging

from factflow_protocols import LineageSink, Message, MessageQueue

__all__ = ["AckGate"]


class AckGate:
    """Acknowledges settled messages after ``lineage.flush()`` made their rows durable."""

    def __init__(self, lineage: LineageSink, logger: logging.Logger) -> None:
        self._lineage = lineage
        self._logger = logger
        self._pending: dict[int, tuple[MessageQueue, list[Message]]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.acknowledged = 0

    def add(self, queue: MessageQueue, message: Message) -> None:
        """``message``, taken from ``queue``, settled and its lineage entry was recorded."""
        slot = self._pending.get(id(queue))
        if slot is None:
            slot = self._pending[id(queue)] = (queue, [])
        slot[1].append(message)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="factflow:acks")
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending:
                await self._ack_durable()
            if self._closing:
                return

    async def _ack_durable(self) -> None:
        batch, self._pending = self._pending, {}
        try:
            await self._lineage.flush()
        except Exception:
            # Not durable: keep them unacknowledged (the recorder retries; a
            # crash leaves them in the broker for a resume).
            self._logger.warning("lineage not durable yet; acknowledgements wait", exc_info=True)
            for key, (queue, messages) in batch.items():
                slot = self._pending.setdefault(key, (queue, []))
                slot[1][:0] = messages
            return
        for queue, messages in batch.values():
            try:
                await queue.ack(messages)
                self.acknowledged += len(messages)
            except Exception:
                self._logger.exception("cannot acknowledge %d messages", len(messages))

    async def close(self) -> None:
        """Acknowledge what is left (one more durable flush), then stop the task.

        What still cannot be acknowledged stays in the broker: a resume finds it.
        """
        self._closing = True
        task = self._task
        if task is None:
            return
        self._wake.set()
        await asyncio.shield(task)
