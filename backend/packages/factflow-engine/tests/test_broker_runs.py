"""Runs on real RabbitMQ: deliveries are acknowledged only once their lineage is durable.

Skipped with the reason when RabbitMQ does not answer (failing under
``CI=true``); every queue is unique to its execution and deleted afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from factflow_engine import PipelineOrchestrator, RouteDirectory
from factflow_engine.testing import InMemoryExecutionStorage, RecordingCallback
from factflow_foundation import new_id
from factflow_infra.broker import RabbitMQQueueBackend
from factflow_protocols import LineageEntry

H = Any  # the Harness fixture (tests/conftest.py)


class GatedSink:
    """A lineage sink whose ``flush`` - "your rows are durable" - waits for a test."""

    def __init__(self) -> None:
        self.entries: list[LineageEntry] = []
        self.durable = asyncio.Event()
        self.changed = asyncio.Condition()

    async def record(self, entry: LineageEntry) -> None:
        async with self.changed:
            self.entries.append(entry)
            self.changed.notify_all()

    async def flush(self) -> None:
        await self.durable.wait()

    async def wait_for(self, count: int) -> None:
        async with self.changed:
            await self.changed.wait_for(lambda: len(self.entries) >= count)


@pytest.fixture
async def broker(rabbitmq_url: str) -> AsyncIterator[RabbitMQQueueBackend]:
    backend = RabbitMQQueueBackend(rabbitmq_url)
    yield backend
    await backend.close()


def config(harness: H, n: int, depth: int) -> dict[str, Any]:
    return {
        "name": "t",
        "routes": {
            "src": {**harness.inline(list(range(n)), to="wide"),
                    "processors": [{"type": "double"}], "queue_depth": depth},
            "wide": {"processors": [{"type": "odd"}], "queue_depth": depth},
        },
    }  # fmt: skip


def orchestrator(
    harness: H, broker: RabbitMQQueueBackend, lineage: Any, n: int, depth: int = 3
) -> tuple[str, PipelineOrchestrator, dict[str, str]]:
    execution_id = new_id()
    pipeline = harness.pipeline(config(harness, n, depth))
    names = RouteDirectory().resolve(pipeline)
    return (
        execution_id,
        PipelineOrchestrator(
            execution_id,
            pipeline,
            queue_names=names,
            queues=broker,
            lineage=lineage,
            storage=InMemoryExecutionStorage(execution_id),
            callback=RecordingCallback(),
            registry=harness.registry,
        ),
        names,
    )


async def test_a_pipeline_runs_through_rabbitmq_and_leaves_nothing_behind(
    harness: H, broker: RabbitMQQueueBackend
) -> None:
    lineage = GatedSink()
    lineage.durable.set()
    execution_id, run, names = orchestrator(harness, broker, lineage, 20)
    await run.start()
    outcome = await run.wait()
    assert outcome.status == "completed"
    assert outcome.progress.routes["src"].processed == 20
    assert outcome.progress.routes["wide"].received == 40
    assert sorted(e.payload for e in lineage.entries if e.route == "wide") == sorted(
        v for i in range(20) for v in (i * 10, i * 10 + 1)
    )
    assert await broker.leftovers(execution_id, list(names.values())) == []


async def test_messages_stay_in_the_broker_until_their_lineage_is_durable(
    harness: H, broker: RabbitMQQueueBackend, rabbitmq_url: str
) -> None:
    lineage = GatedSink()  # nothing ever becomes durable until the test says so
    # A broker delivers at most a queue's depth unacknowledged: room for all here.
    execution_id, run, names = orchestrator(harness, broker, lineage, 3, depth=10)
    await run.start()
    await lineage.wait_for(3 + 6)  # every message processed and recorded, none durable
    await broker.close()  # the process "dies" here
    other = RabbitMQQueueBackend(rabbitmq_url)
    try:
        left = await other.leftovers(execution_id, list(names.values()))
        # Every message is still there: recorded, but never acknowledged.
        recorded = {(e.route, e.message_id) for e in lineage.entries}
        assert {(m.route, m.id) for m in left} == recorded
        lineage.durable.set()
        await run.wait()  # the orphaned run ends (its connection is gone)
    finally:
        await other.discard_leftovers(execution_id, list(names.values()))
        await other.close()


async def test_a_lost_broker_connection_fails_the_run_and_keeps_its_messages(
    harness: H, broker: RabbitMQQueueBackend, rabbitmq_url: str
) -> None:
    lineage = GatedSink()
    lineage.durable.set()
    execution_id = new_id()
    pipeline = harness.pipeline(
        {
            "name": "t",
            "routes": {
                "src": harness.inline(list(range(5)), to="held"),
                "held": {"processors": [{"type": "hold"}], "concurrency": 1, "queue_depth": 10},
            },
        }
    )
    names = RouteDirectory().resolve(pipeline)
    run = PipelineOrchestrator(
        execution_id, pipeline, queue_names=names, queues=broker, lineage=lineage,
        storage=InMemoryExecutionStorage(execution_id), callback=RecordingCallback(),
        registry=harness.registry, cancel_grace=0,
    )  # fmt: skip
    await run.start()
    await harness.gate.wait_entered(1)
    connection = broker._connection
    assert connection is not None
    await connection.close()  # the network goes away under the run
    outcome = await asyncio.wait_for(run.wait(), 30)
    assert outcome.status == "failed"
    assert "queue 'factflow.t." in (outcome.error or "")
    assert "broker" in (outcome.error or "")
    # Every message the run admitted is recorded (the unfinished ones cancelled,
    # for a resume), so the run's queues could be deleted.
    for name, progress in outcome.progress.routes.items():
        assert progress.in_flight == 0, name
        assert progress.received == len([e for e in lineage.entries if e.route == name]), name
    other = RabbitMQQueueBackend(rabbitmq_url)
    try:
        assert await other.leftovers(execution_id, list(names.values())) == []
    finally:
        await other.discard_leftovers(execution_id, list(names.values()))
        await other.close()
