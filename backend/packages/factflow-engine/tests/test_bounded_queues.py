"""Bounded queues: producers wait for room, stops never hang on a full queue, nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from factflow_engine import ComponentOptions
from factflow_protocols import AdapterContext
from pydantic import Field

H = Any  # the Harness fixture (tests/conftest.py)


class Counting:
    """Adapter: yields ``0..n-1`` and counts what it has yielded so far."""

    produced = 0

    class Options(ComponentOptions):
        n: int = Field(ge=0)

    def __init__(self, options: Options) -> None:
        self.options = options

    async def produce(self, ctx: AdapterContext) -> AsyncIterator[Any]:
        for i in range(self.options.n):
            Counting.produced += 1
            yield i


async def _turns(count: int = 200) -> None:
    """Let every runnable task run ``count`` times (event-loop turns, not time)."""
    for _ in range(count):
        await asyncio.sleep(0)


@pytest.fixture
def counting(harness: H) -> type[Counting]:
    Counting.produced = 0
    harness.registry.register_adapter("counting", Counting)
    return Counting


async def test_a_full_queue_makes_the_adapter_wait(harness: H, counting: type[Counting]) -> None:
    config = {
        "name": "t",
        "routes": {
            "src": {"adapter": {"type": "counting", "with": {"n": 20_000}}, "to": "slow",
                    "queue_depth": 3, "concurrency": 1},
            "slow": {"processors": [{"type": "hold"}], "concurrency": 2, "queue_depth": 5},
        },
    }  # fmt: skip
    run = await harness.start(config)
    await harness.gate.wait_entered(2)
    await _turns()
    # Held: 2 in the gate, 5 queued at slow, 1 with src's worker waiting for room,
    # 3 queued at src, 1 with the adapter waiting for room.
    assert counting.produced == 2 + 5 + 1 + 3 + 1
    # A message waiting for room counts as queued at its route already.
    progress = run.orchestrator.progress().routes
    assert (progress["slow"].in_progress, progress["slow"].queued) == (2, 5 + 1)
    assert (progress["src"].in_progress, progress["src"].queued) == (1, 3 + 1)
    harness.gate.open()
    outcome = await run.orchestrator.wait()
    assert outcome.status == "completed"
    assert outcome.progress.routes["slow"].processed == 20_000
    assert counting.produced == 20_000


async def test_queue_depth_defaults_from_settings_and_is_set_per_route(harness: H) -> None:
    config = {
        "name": "t",
        "settings": {"queue_depth": 7},
        "routes": {"src": harness.inline([1], to="a"), "a": {"queue_depth": 2}},
    }
    run = await harness.run(config)
    assert run.outcome is not None and run.outcome.status == "completed"
    depths = {route.name: route.queue.maxsize for route in run.orchestrator._routes}
    assert depths == {"src": 7, "a": 2}
    default = harness.pipeline({"name": "t", "routes": {"src": harness.inline([])}})
    assert default.config.settings.queue_depth == 1000


@pytest.mark.parametrize("seed", range(6))
async def test_a_stop_while_producers_wait_for_room_accounts_for_every_message(
    harness: H, seed: int
) -> None:
    # src fans each item out x10 into "mid" (depth 2), whose worker feeds the
    # held "slow" (depth 2): both upstream routes end up waiting for room.
    config = {
        "name": "t",
        "routes": {
            "src": {**harness.inline(list(range(4)), to="mid"), "processors": [{"type": "ten"}],
                    "concurrency": 2},
            "mid": {"to": "slow", "queue_depth": 2, "concurrency": 1},
            "slow": {"processors": [{"type": "hold"}], "queue_depth": 2, "concurrency": 1},
        },
    }  # fmt: skip

    class Ten:
        class Options(ComponentOptions):
            pass

        def __init__(self, options: Options) -> None:
            self.options = options

        async def process(self, message: Any, ctx: Any) -> Any:
            return [message.payload * 10 + i for i in range(10)]

    harness.registry.register_processor("ten", Ten)
    run = await harness.start(config, cancel_grace=0)
    await harness.gate.wait_entered(1)
    await _turns(seed * 7)
    run.orchestrator.cancel("stop")
    outcome = await run.orchestrator.wait()
    assert outcome.status == "cancelled"
    by_route: dict[str, dict[str, int]] = {}
    for entry in run.lineage.entries:
        counts = by_route.setdefault(entry.route, {})
        counts[entry.status] = counts.get(entry.status, 0) + 1
    for name, progress in outcome.progress.routes.items():
        assert progress.in_flight == 0 and progress.in_progress == 0, name
        recorded = by_route.get(name, {})
        assert sum(recorded.values()) == progress.received, name
        assert recorded.get("processed", 0) == progress.processed, name
    # Every output of a processed message reached its route: enqueued, or recorded there.
    outputs = sum(e.outputs for e in run.lineage.entries if e.route == "src")
    assert outputs == outcome.progress.routes["mid"].received
    keys = [(e.route, e.message_id) for e in run.lineage.entries]
    assert len(keys) == len(set(keys))
