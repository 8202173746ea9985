"""RabbitMQ queue backend (aio-pika): a run's queues outlive its process.

Chosen with ``FACTFLOW_QUEUE_URL=amqp://…``; in-memory stays the default.
Each route queue of each execution is one durable RabbitMQ queue named
``<queue name>.<execution id>`` (quorum by default, replicated when the broker
is a cluster).  Guarantees, in order of the message's life:

* ``put`` waits while ``maxsize`` messages are queued (the same back-pressure
  as in memory, so the broker, not the heap, holds at most the configured
  depth per route), then publishes persistently and returns once the broker
  *confirmed* it (publisher confirms): a returned ``put`` survives a crash.
* The consumer's prefetch is the queue's depth: this process never holds more
  than that many deliveries of one queue.
* ``get`` takes a delivery without acknowledging it.  ``ack`` - which the
  engine calls only after the message's lineage row is durable - removes it
  for good.  A process that dies before that leaves it in the broker.
* ``leftovers`` reads (without removing) what a dead process left in an
  execution's queues; ``discard_leftovers`` deletes those queues once a
  resume has recorded all of it.

A lost connection is not papered over: there is no automatic reconnect that
would redeliver messages this run already holds; ``get``/``put`` raise, the
run fails, and what it had not finished stays in the broker for a resume.
Payloads travel as JSON (the same values lineage records).  Constructing the
backend does no I/O; the connection opens on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Literal

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractIncomingMessage,
    AbstractQueue,
)
from aio_pika.exceptions import ChannelClosed
from factflow_foundation import InfrastructureError, dumps, get_logger, loads
from factflow_protocols import Message

__all__ = ["RabbitMQQueue", "RabbitMQQueueBackend", "broker_queue_name"]

_log = get_logger("factflow.infra.broker")

QueueType = Literal["quorum", "classic"]
_ROUTE, _ORIGIN, _PARENT, _HEADERS = (
    "x-factflow-route",
    "x-factflow-origin",
    "x-factflow-parent",
    "x-factflow-headers",
)


def broker_queue_name(name: str, execution_id: str) -> str:
    """The RabbitMQ queue holding route queue ``name`` of ``execution_id``."""
    return f"{name}.{execution_id}"


def _encode(message: Message) -> aio_pika.Message:
    headers: dict[str, Any] = {_ROUTE: message.route, _ORIGIN: message.origin_id}
    if message.parent_id is not None:
        headers[_PARENT] = message.parent_id
    if message.headers:
        headers[_HEADERS] = dict(message.headers)
    return aio_pika.Message(
        dumps(message.payload).encode(),
        message_id=message.id,
        headers=headers,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def _decode(incoming: AbstractIncomingMessage, execution_id: str) -> Message:
    headers = incoming.headers or {}
    extra = headers.get(_HEADERS)
    parent = headers.get(_PARENT)
    return Message(
        str(incoming.message_id),
        execution_id,
        str(headers[_ROUTE]),
        loads(incoming.body),
        str(headers[_ORIGIN]),
        None if parent is None else str(parent),
        0,
        {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {},
    )


class RabbitMQQueue:
    """One route queue of one execution in RabbitMQ (see the module docstring)."""

    needs_ack = True

    def __init__(
        self, backend: RabbitMQQueueBackend, execution_id: str, name: str, maxsize: int
    ) -> None:
        self._backend = backend
        self._execution_id = execution_id
        self._name = name
        self._broker_name = broker_queue_name(name, execution_id)
        self._maxsize = max(0, maxsize)
        self._queued = 0  # published by us or found at declare, not yet delivered
        self._room = asyncio.Event()
        self._buffer: asyncio.Queue[AbstractIncomingMessage | None] = asyncio.Queue()
        self._unacked: dict[int, AbstractIncomingMessage] = {}
        self._queue: AbstractQueue | None = None
        self._channel: AbstractChannel | None = None
        self._consumer: str | None = None
        self._ready = asyncio.Lock()
        self._closing = False
        self._failure: BaseException | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def broker_name(self) -> str:
        return self._broker_name

    @property
    def maxsize(self) -> int:
        return self._maxsize

    def qsize(self) -> int:
        return self._queued + self._buffer.qsize()

    async def _declared(self) -> AbstractQueue:
        if self._queue is not None:
            return self._queue
        async with self._ready:
            if self._queue is None:
                channel = self._channel = await self._backend.channel(
                    prefetch=self._maxsize or 1000
                )
                channel.close_callbacks.add(self._channel_closed)
                queue = await self._backend.declare(channel, self._broker_name)
                result = getattr(queue, "declaration_result", None)
                self._queued += int(getattr(result, "message_count", 0) or 0)
                self._queue = queue
        return self._queue

    def _channel_closed(self, _sender: Any, exc: BaseException | None = None) -> None:
        """The broker or the network closed our channel: wake everyone with an error."""
        if self._closing:
            return
        self._failure = exc or ConnectionError("channel closed")
        self._room.set()
        self._buffer.put_nowait(None)

    def _check(self) -> None:
        if self._failure is not None:
            raise InfrastructureError(
                f"queue {self._broker_name!r}: lost the broker connection: {self._failure!r}"
            ) from self._failure

    async def put(self, message: Message) -> None:
        await self._declared()
        while self._maxsize and self._queued >= self._maxsize:
            self._check()
            self._room.clear()
            await self._room.wait()
        self._check()
        self._queued += 1
        try:
            await self._backend.publish(self._broker_name, _encode(message))
        except BaseException as exc:
            self._queued -= 1
            self._room.set()
            if isinstance(exc, InfrastructureError) or not isinstance(exc, Exception):
                raise
            raise InfrastructureError(
                f"queue {self._broker_name!r}: the broker did not take message"
                f" {message.id}: {exc!r}"
            ) from exc

    async def get(self) -> Message:
        queue = await self._declared()
        if self._consumer is None:
            async with self._ready:
                if self._consumer is None:
                    self._consumer = await queue.consume(self._delivered, no_ack=False)
        incoming = await self._buffer.get()
        if incoming is None:
            self._buffer.put_nowait(None)  # for the other getters
            self._check()
            raise InfrastructureError(f"queue {self._broker_name!r} was closed")
        message = _decode(incoming, self._execution_id)
        self._unacked[id(message)] = incoming
        return message

    async def _delivered(self, incoming: AbstractIncomingMessage) -> None:
        self._queued = max(0, self._queued - 1)
        self._room.set()
        self._buffer.put_nowait(incoming)

    async def ack(self, messages: Sequence[Message]) -> None:
        for message in messages:
            incoming = self._unacked.pop(id(message), None)
            if incoming is not None:
                await incoming.ack()

    async def drain(self) -> list[Message]:
        """Stop consuming and take everything queued (deliveries stay unacknowledged)."""
        queue = self._queue
        if queue is None:
            return []
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await queue.cancel(self._consumer)
            self._consumer = None
        drained: list[Message] = []
        try:
            while self._failure is None:
                incoming = await queue.get(no_ack=False, fail=False)
                if incoming is None:
                    break
                drained.append(_decode(incoming, self._execution_id))
        except Exception:  # the connection went: what is left stays in the broker
            _log.warning("queue %r: cannot drain; the broker keeps the rest", self._broker_name)
        # Deliveries made before the cancel took effect are in the buffer by now
        # (their callbacks were scheduled before the cancel's reply was read).
        while not self._buffer.empty():
            buffered = self._buffer.get_nowait()
            if buffered is not None:
                drained.append(_decode(buffered, self._execution_id))
        self._queued = 0
        return drained

    async def close(self) -> None:
        """Close this queue's channel (unacknowledged deliveries go back to the broker)."""
        self._closing = True
        channel, self._channel = self._channel, None
        self._queue = None
        self._consumer = None
        if channel is not None:
            with contextlib.suppress(Exception):
                await channel.close()

    def __repr__(self) -> str:
        return f"RabbitMQQueue({self._broker_name!r}, size={self.qsize()}, maxsize={self._maxsize})"


class RabbitMQQueueBackend:
    """``QueueBackend`` on a RabbitMQ broker (see the module docstring)."""

    durable = True

    def __init__(self, url: str, *, queue_type: QueueType = "quorum") -> None:
        self._url = url
        self._queue_type = queue_type
        self._connection: AbstractConnection | None = None
        self._publisher: AbstractChannel | None = None
        self._connecting = asyncio.Lock()
        self._queues: dict[tuple[str, str], RabbitMQQueue] = {}

    @property
    def url(self) -> str:
        return self._url

    async def _connected(self) -> AbstractConnection:
        if self._connection is not None and not self._connection.is_closed:
            return self._connection
        async with self._connecting:
            if self._connection is None or self._connection.is_closed:
                try:
                    self._connection = await aio_pika.connect(self._url, timeout=10)
                except Exception as exc:
                    raise InfrastructureError(
                        f"cannot connect to the queue broker at {_redacted(self._url)}: {exc!r}"
                    ) from exc
                self._publisher = None
        return self._connection

    async def channel(self, *, prefetch: int | None = None) -> AbstractChannel:
        """A new channel with publisher confirms (and a prefetch, for consuming)."""
        channel = await (await self._connected()).channel(publisher_confirms=True)
        if prefetch:
            await channel.set_qos(prefetch_count=prefetch)
        return channel

    async def declare(self, channel: AbstractChannel, name: str) -> AbstractQueue:
        arguments: dict[str, Any] = {"x-queue-type": self._queue_type}
        return await channel.declare_queue(name, durable=True, arguments=arguments)

    async def publish(self, routing_key: str, message: aio_pika.Message) -> None:
        """Publish to the default exchange; returns once the broker confirmed it."""
        if self._publisher is None or self._publisher.is_closed:
            self._publisher = await self.channel()
        await self._publisher.default_exchange.publish(message, routing_key=routing_key)

    def open(self, execution_id: str, name: str, *, maxsize: int = 0) -> RabbitMQQueue:
        key = (execution_id, name)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = RabbitMQQueue(self, execution_id, name, maxsize)
        return queue

    async def release(self, execution_id: str) -> None:
        """Delete the execution's queues (its run finished: all it held is recorded)."""
        keys = [k for k in self._queues if k[0] == execution_id]
        queues = [self._queues.pop(k) for k in keys]
        for queue in queues:
            await queue.close()
        if queues:
            await self.discard_leftovers(execution_id, [q.name for q in queues])

    async def forget(self, execution_id: str) -> None:
        """Close the execution's queues but keep them in the broker (its lineage
        is not durable, so a resume must still find what they hold)."""
        for key in [k for k in self._queues if k[0] == execution_id]:
            await self._queues.pop(key).close()

    async def leftovers(self, execution_id: str, names: Sequence[str]) -> list[Message]:
        """Read, without removing, what is still queued for ``execution_id``."""
        found: list[Message] = []
        for name in names:
            channel = await self.channel()
            try:
                try:
                    queue = await channel.declare_queue(
                        broker_queue_name(name, execution_id), passive=True
                    )
                except ChannelClosed:
                    continue  # never declared, or already discarded
                while True:
                    incoming = await queue.get(no_ack=False, fail=False)
                    if incoming is None:
                        break
                    found.append(_decode(incoming, execution_id))
            finally:
                # Closing the channel hands every delivery back to the queue.
                with contextlib.suppress(Exception):
                    await channel.close()
        return found

    async def discard_leftovers(self, execution_id: str, names: Sequence[str]) -> None:
        """Delete the queues of ``execution_id`` named ``names`` (missing ones are fine)."""
        channel = await self.channel()
        try:
            for name in names:
                await channel.queue_delete(broker_queue_name(name, execution_id))
        finally:
            with contextlib.suppress(Exception):
                await channel.close()

    async def close(self) -> None:
        """Close the connection (deliveries not acknowledged go back to their queues)."""
        for queue in list(self._queues.values()):
            await queue.close()
        self._queues.clear()
        connection, self._connection = self._connection, None
        self._publisher = None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


def _redacted(url: str) -> str:
    """``url`` without its password, for error messages."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
