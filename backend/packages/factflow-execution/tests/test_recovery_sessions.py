"""PostgreSQL: recovery does not read a dead owner's run as final while a session
of that owner still exists (a COMMIT on its way could land after the process
died); it ends those sessions and interrupts the run on the next look."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from factflow_execution import ExecutionService
from factflow_foundation import utcnow
from factflow_infra.db import Database, pipeline_executions
from sqlalchemy import select, update

from .conftest import inline_config

pytestmark = pytest.mark.dialect("postgresql")


def _dead_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:dead"


async def test_a_dead_owners_lingering_session_is_ended_before_its_run_is_interrupted(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(inline_config())
    execution = await service.create_execution("t")
    owner = _dead_owner()
    async with db.transaction() as conn:
        await conn.execute(
            update(pipeline_executions)
            .where(pipeline_executions.c.id == execution.id)
            .values(status="running", owner=owner, heartbeat_at=utcnow())
        )
    lingering = Database(db.url, pool_size=1)
    lingering.name_sessions(owner)
    try:
        async with lingering.connect() as conn:  # stays open in the pool: a live session
            await conn.execute(select(1))
        assert await db.open_sessions(owner) == 1

        assert await service.recover() == []  # not while the session exists ...
        assert (await service.get(execution.id)).status == "running"
        assert await db.open_sessions(owner) == 0  # ... which recovery ended
        assert await service.recover() == [execution.id]  # the next look interrupts it
        assert (await service.get(execution.id)).status == "interrupted"
    finally:
        await lingering.dispose()
