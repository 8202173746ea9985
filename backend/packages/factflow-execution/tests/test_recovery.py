"""Ownership, heartbeats, startup recovery, shutdown and capacity."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from factflow_engine import Registry
from factflow_execution import ExecutionService
from factflow_execution._errors import ExecutionCapacityError
from factflow_foundation import FactFlowSettings, utcnow
from factflow_infra.db import Database, lineage_records, pipeline_executions
from sqlalchemy import select, update

from .conftest import Gates, inline_config


async def _pretend_owned_by(
    service: ExecutionService, execution_id: str, owner: str, heartbeat_age: float
) -> None:
    async with service.db.transaction() as conn:
        await conn.execute(
            update(pipeline_executions)
            .where(pipeline_executions.c.id == execution_id)
            .values(
                status="running",
                owner=owner,
                heartbeat_at=utcnow() - timedelta(seconds=heartbeat_age),
            )
        )


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def test_recovery_interrupts_rows_whose_owner_is_gone_and_spares_live_ones(
    service: ExecutionService,
) -> None:
    # The heartbeat loop reaps such rows on its own (the stale one is past the
    # timeout, the dead pid is gone); stopped, it cannot race the recover() this
    # test checks the answer of.
    await service.recovery.stop()
    await service.save_config(inline_config())
    stale, dead, live, mine = [await service.create_execution("t") for _ in range(4)]
    import socket

    await _pretend_owned_by(service, stale.id, "elsewhere:42:aaaa", heartbeat_age=600)
    await _pretend_owned_by(
        service, dead.id, f"{socket.gethostname()}:{_dead_pid()}:bbbb", heartbeat_age=0
    )
    await _pretend_owned_by(service, live.id, "elsewhere:43:cccc", heartbeat_age=0)
    interrupted = await service.recover()
    assert set(interrupted) == {stale.id, dead.id}
    stale_row, dead_row = await service.get(stale.id), await service.get(dead.id)
    assert stale_row.status == dead_row.status == "interrupted"
    assert "stopped renewing its heartbeat" in (stale_row.error or "")
    assert "is gone" in (dead_row.error or "")
    assert stale_row.stats is not None  # terminal stats are materialised
    assert (await service.get(live.id)).status == "running"
    assert (await service.get(mine.id)).status == "pending"  # this process's own pending row


async def test_heartbeats_are_renewed_and_a_silent_owner_is_reaped_within_seconds(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [1]}},
                    "processors": [{"type": "gate"}],
                }
            }
        )
    )
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    first = (await service.get(execution.id)).heartbeat_at
    await service.recovery.beat()
    assert (await service.get(execution.id)).heartbeat_at > first  # type: ignore[operator]

    other = await service.create_execution("t")
    await _pretend_owned_by(service, other.id, "elsewhere:44:dddd", heartbeat_age=0)
    # nobody renews 'elsewhere': the heartbeat loop reaps it once it is older than
    # heartbeat_timeout (3 s in tests); the waiter wakes on the status event.
    result = await service.wait(other.id, timeout=service.settings.heartbeat_timeout * 4)
    assert result.status == "interrupted"
    assert (await service.get(execution.id)).status == "running"  # ours is renewed
    gates.open("default")
    await service.wait(execution.id, timeout=30)


def _gated(name: str, gate: str, items: int = 1) -> dict:
    return inline_config(
        name=name,
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": list(range(items))}},
                "processors": [{"type": "gate", "with": {"name": gate}}],
            }
        },
    )


async def test_shutdown_lets_runs_finish_within_the_grace_period(
    settings: FactFlowSettings, db: Database, registry: Registry, gates: Gates
) -> None:
    service = ExecutionService.from_settings(settings, db=db, registry=registry)
    await service.startup()
    await service.save_config(_gated("quick", "q"))
    execution = await service.run("quick")
    await gates.wait_entered("q", 1)
    stopping = asyncio.create_task(service.shutdown(grace=60))
    while service.manager.accepting:
        await asyncio.sleep(0)
    gates.open("q")
    assert await stopping == []
    assert (await service.get(execution.id)).status == "completed"


async def test_shutdown_waits_its_grace_then_interrupts_what_still_runs(
    settings: FactFlowSettings, db: Database, registry: Registry, gates: Gates
) -> None:
    service = ExecutionService.from_settings(settings, db=db, registry=registry)
    await service.startup()
    await service.save_config(_gated("hang", "h", items=2))
    hung = await service.run("hang")
    pending = await service.create_execution("hang")
    await gates.wait_entered("h", 2)
    interrupted = await service.shutdown(grace=0.05)
    assert set(interrupted) == {hung.id, pending.id}
    for execution_id in (hung.id, pending.id):
        row = await service.get(execution_id)
        assert row.status == "interrupted" and "shut down" in (row.error or "")
    hung_row = await service.get(hung.id)
    assert hung_row.stats is not None and hung_row.stats.routes["src"].cancelled == 2
    assert len(service.manager) == 0
    with pytest.raises(Exception, match="shutting down"):
        await service.run("hang")


async def test_capacity_limit_without_queueing_refuses_with_a_clear_error_and_leaves_no_row(
    settings: FactFlowSettings, db: Database, registry: Registry, gates: Gates
) -> None:
    limited = settings.model_copy(update={"max_running_executions": 1})
    service = ExecutionService.from_settings(limited, db=db, registry=registry)
    await service.startup()
    try:
        await service.save_config(
            inline_config(
                routes={
                    "src": {
                        "adapter": {"type": "inline", "with": {"items": [1]}},
                        "processors": [{"type": "gate"}],
                    }
                }
            )
        )
        first = await service.run("t")
        with pytest.raises(ExecutionCapacityError, match="already runs 1 executions"):
            await service.run("t", queue=False)
        assert [e.id for e in (await service.list()).items] == [first.id]
        gates.open("default")
        await service.wait(first.id, timeout=30)
        second = await service.run("t")
        assert (await service.wait(second.id, timeout=30)).status == "completed"
    finally:
        await service.shutdown(grace=0)


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from factflow_foundation import FactFlowSettings
    from factflow_execution import ExecutionService

    CONFIG = {
        "name": "killme",
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": list(range(10))}},
                "to": ["slow"],
            },
            "slow": {"processors": [{"type": "sleep", "with": {"seconds": 600}}]},
        },
    }

    async def main() -> None:
        settings = FactFlowSettings(
            data_dir=sys.argv[1], database_url=sys.argv[2], lineage_flush_interval=0.01
        )
        service = ExecutionService.from_settings(settings)
        await service.startup()
        await service.save_config(CONFIG)
        execution = await service.run("killme")
        async for event in service.events(execution.id):
            if event.kind == "route.drained" and event.data["route"] == "src":
                break
        await service.lineage.flush()
        print("READY", execution.id, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_a_server_killed_mid_run_leaves_its_execution_interrupted_and_lineage_intact(
    settings: FactFlowSettings, db: Database, registry: Registry, tmp_path: Path
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        str(tmp_path / "child"),
        db.url,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout is not None
        line = (await asyncio.wait_for(child.stdout.readline(), timeout=60)).decode().split()
        assert line[:1] == ["READY"], line
        execution_id = line[1]
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    async with db.connect() as conn:
        before = (
            await conn.execute(
                select(lineage_records.c.route, lineage_records.c.status).where(
                    lineage_records.c.execution_id == execution_id
                )
            )
        ).all()
        status = (
            await conn.execute(
                select(pipeline_executions.c.status).where(pipeline_executions.c.id == execution_id)
            )
        ).scalar_one()
    assert status == "running"  # the killed process could not say anything
    assert sorted(before) == [("src", "processed")] * 10

    restarted = ExecutionService.from_settings(settings, db=db, registry=registry)
    interrupted = await restarted.startup()
    try:
        assert execution_id in interrupted
        row = await restarted.get(execution_id)
        assert row.status == "interrupted" and "is gone" in (row.error or "")
        assert row.stats is not None and row.stats.routes["src"].processed == 10
        records = await restarted.lineage_records(execution_id, limit=100)
        assert len(records) == 10
    finally:
        await restarted.shutdown(grace=0)
