"""A cancel that arrives while its run finishes, on the real databases.

The cancel reads the row as ``running``; before it acts, the run finishes and
this process lets go of it.  The answer must be about the run (it stays
``completed``: the first outcome wins), never a conflict claiming that the
run belongs to "another process" - the very process that answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from factflow_execution import ExecutionService
from factflow_foundation import ConflictError, utcnow
from factflow_infra.db import pipeline_executions
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from .conftest import Gates, inline_config


def _one_gated_item() -> dict:
    return inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": [1]}},
                "processors": [{"type": "gate"}],
            }
        }
    )


async def test_cancel_reading_the_row_as_running_while_it_finishes_gets_the_final_row(
    service: ExecutionService, gates: Gates, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.save_config(_one_gated_item())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    assert (await service.get(execution.id)).status == "running"

    real_connect = service.db.connect
    armed = True

    @asynccontextmanager
    async def connect_then_let_the_run_finish() -> AsyncIterator[AsyncConnection]:
        # The first read the cancel makes sees the row 'running'; right after it,
        # the run drains, its row turns terminal and this process lets go of it.
        nonlocal armed
        async with real_connect() as conn:
            yield conn
        if armed:
            armed = False
            gates.open("default")
            assert (await service.wait(execution.id, timeout=30)).status == "completed"

    monkeypatch.setattr(service.db, "connect", connect_then_let_the_run_finish)
    try:
        final = await service.cancel(execution.id, "too late")
    except ConflictError as exc:  # the old answer: 409 "runs in another process (<us>)"
        pytest.fail(f"cancel answered a conflict instead of the final row: {exc}")
    assert not armed, "the cancel never read the row: the race was not exercised"
    assert final.id == execution.id
    assert final.status == "completed" and final.error is None
    assert final.stats is not None and final.stats.totals.processed == 1


async def test_a_pending_row_another_live_server_created_is_cancelled_directly(
    service: ExecutionService,
) -> None:
    """Nothing runs a pending row, so no owner needs asking (on SQLite there is no
    channel to ask through at all): the conditional UPDATE settles it."""
    await service.save_config(_one_gated_item())
    execution = await service.create_execution("t")
    async with service.db.transaction() as conn:
        await conn.execute(
            update(pipeline_executions)
            .where(pipeline_executions.c.id == execution.id)
            .values(owner="elsewhere:43:cccc", heartbeat_at=utcnow())
        )
    final = await service.cancel(execution.id, "not needed")
    assert (final.status, final.error) == ("cancelled", "not needed")
    assert final.stats is not None
