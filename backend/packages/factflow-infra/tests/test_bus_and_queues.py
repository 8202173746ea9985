"""In-process event bus and in-memory queues."""

from __future__ import annotations

import asyncio

import pytest
from factflow_foundation import new_id
from factflow_infra import InMemoryQueueBackend, InProcessEventBus
from factflow_protocols import OVERFLOW, Message


async def test_publish_reaches_every_subscriber_in_order() -> None:
    bus = InProcessEventBus()
    a, b = bus.subscribe("t"), bus.subscribe("t")
    for i in range(3):
        bus.publish("t", i)
    assert [await a.get() for _ in range(3)] == [0, 1, 2]
    assert [await b.get() for _ in range(3)] == [0, 1, 2]
    bus.publish("other", "x")
    assert a.pending() == 0


async def test_waiting_subscriber_wakes_on_publish() -> None:
    bus = InProcessEventBus()
    sub = bus.subscribe("t")
    task = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert not task.done()
    bus.publish("t", "hello")
    assert await task == "hello"


async def test_slow_subscriber_overflows_instead_of_blocking() -> None:
    bus = InProcessEventBus(buffer=4)
    slow, fast = bus.subscribe("t"), bus.subscribe("t")
    for i in range(10):
        bus.publish("t", i)
        assert await fast.get() == i
    assert await slow.get() is OVERFLOW
    # after the marker, later notifications arrive as usual
    assert slow.pending() == 1
    assert await slow.get() == 9


async def test_close_frees_the_subscription_at_once() -> None:
    bus = InProcessEventBus()
    with bus.subscribe("t") as sub:
        assert bus.subscriber_count("t") == 1
    assert bus.subscriber_count() == 0
    with pytest.raises(RuntimeError, match="closed"):
        await sub.get()


async def test_close_wakes_a_pending_get() -> None:
    bus = InProcessEventBus()
    sub = bus.subscribe("t")
    task = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    sub.close()
    with pytest.raises(RuntimeError, match="closed"):
        await task


def _message(route: str = "r") -> Message:
    mid = new_id()
    return Message(id=mid, execution_id="e", route=route, payload={"n": 1}, origin_id=mid)


async def test_queues_are_scoped_per_execution_and_released() -> None:
    backend = InMemoryQueueBackend()
    q1, q2 = backend.open("e1", "ff.split"), backend.open("e2", "ff.split")
    assert q1 is not q2
    assert backend.open("e1", "ff.split") is q1
    m = _message()
    await q1.put(m)
    assert q2.qsize() == 0
    assert await q1.get() is m
    await q1.put(_message())
    await q1.put(_message())
    assert len(await q1.drain()) == 2
    assert q1.qsize() == 0
    await backend.release("e1")
    assert backend.open_count() == 1
