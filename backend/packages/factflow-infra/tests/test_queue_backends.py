"""The ``QueueBackend`` contract, run on the in-memory backend and on real RabbitMQ.

RabbitMQ queues are unique per test (execution ids are fresh UUIDs) and
deleted at the end; the RabbitMQ half skips with the reason when the broker
does not answer (and fails under ``CI=true``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from factflow_foundation import FactFlowSettings, InvalidInputError, new_id
from factflow_infra import InMemoryQueueBackend, queue_backend_from_settings
from factflow_protocols import Message, QueueBackend


@pytest.fixture(params=["memory", "rabbitmq"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[QueueBackend]:
    if request.param == "memory":
        yield InMemoryQueueBackend()
        return
    from factflow_infra.broker import RabbitMQQueueBackend

    url: str = request.getfixturevalue("rabbitmq_url")
    broker = RabbitMQQueueBackend(url)
    request.node.broker_executions = []
    try:
        yield broker
    finally:
        for execution_id in request.node.broker_executions:
            await broker.discard_leftovers(execution_id, ["q", "r"])
        await broker.close()


def _execution(request: pytest.FixtureRequest) -> str:
    execution_id = new_id()
    getattr(request.node, "broker_executions", []).append(execution_id)
    return execution_id


def msg(i: int, execution_id: str, **headers: str) -> Message:
    return Message(f"m{i}", execution_id, "route-a", {"n": i, "text": "é"}, "o", "p", 0, headers)


async def test_messages_round_trip_in_order(
    backend: QueueBackend, request: pytest.FixtureRequest
) -> None:
    eid = _execution(request)
    queue = backend.open(eid, "q", maxsize=10)
    for i in range(3):
        await queue.put(msg(i, eid, h="v"))
    got = [await queue.get() for _ in range(3)]
    assert [(m.id, m.payload, m.route, m.origin_id, m.parent_id) for m in got] == [
        (f"m{i}", {"n": i, "text": "é"}, "route-a", "o", "p") for i in range(3)
    ]
    assert got[0].headers == {"h": "v"} and got[0].execution_id == eid
    await queue.ack(got)
    await backend.release(eid)


async def test_a_full_queue_makes_put_wait_until_a_get(
    backend: QueueBackend, request: pytest.FixtureRequest
) -> None:
    eid = _execution(request)
    queue = backend.open(eid, "q", maxsize=2)
    await queue.put(msg(0, eid))
    await queue.put(msg(1, eid))
    blocked = asyncio.create_task(queue.put(msg(2, eid)))
    for _ in range(50):
        await asyncio.sleep(0)
    assert not blocked.done()
    first = await queue.get()
    await asyncio.wait_for(blocked, 10)
    # A broker delivers at most the depth unacknowledged (its prefetch): ack to go on.
    await queue.ack([first])
    rest = [await queue.get() for _ in range(2)]
    assert [m.id for m in [first, *rest]] == ["m0", "m1", "m2"]
    await queue.ack(rest)
    await backend.release(eid)


async def test_drain_takes_everything_queued(
    backend: QueueBackend, request: pytest.FixtureRequest
) -> None:
    eid = _execution(request)
    queue = backend.open(eid, "q", maxsize=100)
    for i in range(5):
        await queue.put(msg(i, eid))
    first = await queue.get()
    drained = await queue.drain()
    assert first.id == "m0"
    assert sorted(m.id for m in drained) == ["m1", "m2", "m3", "m4"]
    await backend.release(eid)


async def test_unacknowledged_messages_outlive_their_process_only_in_a_broker(
    backend: QueueBackend, request: pytest.FixtureRequest
) -> None:
    eid = _execution(request)
    queue = backend.open(eid, "q", maxsize=100)
    for i in range(4):
        await queue.put(msg(i, eid))
    taken = [await queue.get() for _ in range(2)]
    await queue.ack(taken[:1])  # m0 settled and acknowledged; m1 taken, never acknowledged
    await backend.close()  # the process "dies": its connection goes away
    left = await backend.leftovers(eid, ["q", "r"])
    if not backend.durable:
        assert left == []
        return
    assert sorted(m.id for m in left) == ["m1", "m2", "m3"]
    assert (await backend.leftovers(eid, ["q"])) != [], "reading leftovers must not remove them"
    await backend.discard_leftovers(eid, ["q", "r"])
    assert await backend.leftovers(eid, ["q"]) == []


async def test_release_deletes_a_finished_executions_queues(
    backend: QueueBackend, request: pytest.FixtureRequest
) -> None:
    eid = _execution(request)
    queue = backend.open(eid, "q", maxsize=10)
    await queue.put(msg(0, eid))
    await backend.release(eid)
    assert await backend.leftovers(eid, ["q"]) == []


def test_the_backend_follows_the_queue_url_setting(tmp_path: Any) -> None:
    assert isinstance(
        queue_backend_from_settings(FactFlowSettings(data_dir=tmp_path)), InMemoryQueueBackend
    )
    broker = queue_backend_from_settings(
        FactFlowSettings(data_dir=tmp_path, queue_url="amqp://u:secret@host:5672/")
    )
    assert broker.durable and type(broker).__name__ == "RabbitMQQueueBackend"
    with pytest.raises(InvalidInputError, match="FACTFLOW_QUEUE_URL has scheme 'redis'"):
        queue_backend_from_settings(FactFlowSettings(data_dir=tmp_path, queue_url="redis://x"))


async def test_an_unreachable_broker_is_a_clear_error_without_the_password() -> None:
    from factflow_foundation import InfrastructureError
    from factflow_infra.broker import RabbitMQQueueBackend

    broker = RabbitMQQueueBackend("amqp://guest:hunter2@127.0.0.1:1/")
    queue = broker.open(new_id(), "q", maxsize=1)
    with pytest.raises(InfrastructureError) as caught:
        await queue.put(msg(0, "e"))
    assert "127.0.0.1:1" in str(caught.value) and "hunter2" not in str(caught.value)
