"""Two services over one PostgreSQL, as two server processes would be: waiting,
streaming and cancelling across them ride LISTEN/NOTIFY wake-ups, with the
event log as the record."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from factflow_engine import Registry
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_infra.db import Database

from .conftest import Gates, inline_config

pytestmark = pytest.mark.dialect("postgresql")


@pytest.fixture
async def other(
    settings: FactFlowSettings, db_url: str, registry: Registry
) -> AsyncIterator[ExecutionService]:
    """A second service with its own engine, bus and owner id (another 'process')."""
    database = Database(db_url)
    service = ExecutionService.from_settings(
        settings, db=database, registry=registry, owner_id="elsewhere:1:other"
    )
    await service.startup()
    try:
        yield service
    finally:
        await service.shutdown(grace=0)
        await database.dispose()


def _gated() -> dict:
    return inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": [1, 2]}},
                "processors": [{"type": "gate"}],
            }
        }
    )


async def test_a_waiter_and_a_streamer_in_another_process_follow_the_run(
    service: ExecutionService, other: ExecutionService, gates: Gates
) -> None:
    await service.save_config(_gated())
    execution = await service.run("t")
    await gates.wait_entered("default", 2)
    streamer = other.events(execution.id)
    first = await streamer.__anext__()
    assert first.seq == 1
    waiting = asyncio.create_task(other.wait(execution.id, timeout=60))
    while other.bus.subscriber_count() < 2:
        await asyncio.sleep(0)
    gates.open("default")
    result = await waiting
    assert result.status == "completed"
    assert not result.timed_out
    rest = [e async for e in streamer]
    local = [e.seq async for e in service.events(execution.id)]
    assert [first.seq] + [e.seq for e in rest] == local
    assert rest[-1].terminal


async def test_cancel_from_another_process_reaches_the_owner(
    service: ExecutionService, other: ExecutionService, gates: Gates
) -> None:
    await service.save_config(_gated())
    execution = await service.run("t")
    await gates.wait_entered("default", 2)
    final = await other.cancel(execution.id, "stopped from elsewhere")
    assert final.status == "cancelled"
    assert final.error == "stopped from elsewhere"
    assert len(service.manager) == 0  # the owner stopped its orchestrator
