"""ExecutionWaiter: reactive, no polling, no queries while waiting."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from factflow_execution import ExecutionService, ExecutionWaiter
from factflow_execution._errors import ExecutionNotFoundError
from factflow_infra.db import Database

from .conftest import Gates, count_statements, inline_config


def _gated(items: int = 1) -> dict:
    return inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": list(range(items))}},
                "processors": [{"type": "gate"}],
            }
        }
    )


async def test_waiter_resolves_at_once_for_a_finished_run(service: ExecutionService) -> None:
    await service.save_config(inline_config())
    execution = await service.run("t")
    first = await service.wait(execution.id, timeout=30)
    again = await ExecutionWaiter(execution.id, db=service.db, bus=service.bus).wait(
        timeout=timedelta(0)
    )
    assert again.status == first.status == "completed"
    assert not again.timed_out and again.stats == first.stats


async def test_waiter_times_out_cleanly(service: ExecutionService, gates: Gates) -> None:
    await service.save_config(_gated())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    result = await service.wait(execution.id, timeout=timedelta(milliseconds=20))
    assert result.timed_out and result.status == "running" and result.stats is None
    assert service.bus.subscriber_count() == 0  # the waiter let go of its subscription
    gates.open("default")
    assert (await service.wait(execution.id, timeout=30)).status == "completed"


async def test_waiter_issues_no_query_while_waiting_and_wakes_on_the_terminal_event(
    service: ExecutionService, gates: Gates
) -> None:
    """The waiter gets its own engine so its statements can be told apart: it
    reads the row once, right after subscribing, and never again."""
    await service.save_config(_gated())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    waiter_db = Database(service.db.url)
    try:
        with count_statements(waiter_db) as counter:
            waiter = ExecutionWaiter(execution.id, db=waiter_db, bus=service.bus)
            task = asyncio.create_task(waiter.wait(timeout=timedelta(minutes=1)))
            while service.bus.subscriber_count() == 0:
                await asyncio.sleep(0)
            gates.open("default")
            result = await task
        queries = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
        assert len(queries) == 1, queries
    finally:
        await waiter_db.dispose()
    assert result.status == "completed" and result.stats is not None
    assert result.stats.totals.processed == 1


async def test_waiter_resolves_in_the_same_loop_turn_as_the_terminal_publish(
    service: ExecutionService, gates: Gates
) -> None:
    """The terminal event hands the waiter its result directly: once the event is
    published the waiter needs no I/O, only a scheduling step, to resolve."""
    await service.save_config(_gated())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    task = asyncio.create_task(service.wait(execution.id, timeout=60))
    while service.bus.subscriber_count() == 0:
        await asyncio.sleep(0)
    observer = service.bus.subscribe(f"execution:{execution.id}")
    gates.open("default")
    while True:
        event = await observer.get()
        if getattr(event, "terminal", False):
            break
    observer.close()
    steps = 0
    while not task.done():
        await asyncio.sleep(0)
        steps += 1
    assert steps <= 3
    assert task.result().status == "completed"


async def test_waiting_on_an_unknown_execution_is_not_found(service: ExecutionService) -> None:
    with pytest.raises(ExecutionNotFoundError):
        await service.wait("00000000-0000-7000-8000-000000000000", timeout=1)
    assert service.bus.subscriber_count() == 0
