"""Three ``python -m factflow_server`` processes on one PostgreSQL and a schedule
firing every second for about 20 s: every fire time yields exactly one
execution - no duplicate, no gap - and after one server is SIGKILLed half way
the two others go on firing each time exactly once.

This is the suite's one test that runs on the wall clock (about 25 s): the
schedule's own pace is the thing under test.  It synchronises on the
database's notifications (each claimed run writes a status event), never on
sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from factflow_infra.db import Database, pipeline_executions, schedule_fires
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from .conftest import API, inline_config
from .test_server_process import _free_port

pytestmark = pytest.mark.dialect("postgresql")

FIRES_BEFORE_KILL = 10
FIRES_IN_ALL = 20


@contextlib.asynccontextmanager
async def _server(
    db_url: str, data_dir: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    port = _free_port()
    env = {
        **os.environ,
        "FACTFLOW_HEARTBEAT_INTERVAL": "0.5",
        "FACTFLOW_HEARTBEAT_TIMEOUT": "3",
        "FACTFLOW_SHUTDOWN_GRACE": "2",
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factflow_server", "--host", "127.0.0.1", "--port", str(port),
        "--database-url", db_url, "--data-dir", str(data_dir),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stderr is not None
    url = f"http://127.0.0.1:{port}"
    log: list[str] = []

    async def _started() -> None:
        assert process.stderr is not None
        while line := (await process.stderr.readline()).decode():
            log.append(line)
            if "Application startup complete" in line:
                return
        raise AssertionError("the server exited during start-up:\n" + "".join(log))

    async def _drain() -> None:  # keep the pipe from filling up
        assert process.stderr is not None
        while line := (await process.stderr.readline()).decode():
            log.append(line)

    drain: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(_started(), 60)
        drain = asyncio.create_task(_drain())
        yield url, process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        if drain is not None:
            await drain


class FireCounter:
    """Counts claimed fire times, re-reading on every event-log notification."""

    def __init__(self, db: Database, schedule_id: str) -> None:
        self._db = db
        self._schedule_id = schedule_id
        self._changed = asyncio.Event()

    def notified(self, *_args: object) -> None:
        self._changed.set()

    async def count(self) -> int:
        async with self._db.connect() as conn:
            query = select(func.count()).where(schedule_fires.c.schedule_id == self._schedule_id)
            return int((await conn.execute(query)).scalar_one())

    async def until(self, n: int, timeout: float = 60) -> None:
        async def _wait() -> None:
            while True:
                self._changed.clear()
                if await self.count() >= n:
                    return
                await self._changed.wait()

        await asyncio.wait_for(_wait(), timeout)


async def test_three_servers_fire_each_time_once_and_survive_a_sigkill(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    plain = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with contextlib.AsyncExitStack() as stack:
        servers = await asyncio.gather(
            *(stack.enter_async_context(_server(db_url, tmp_path / f"s{i}")) for i in range(3))
        )
        async with httpx.AsyncClient(base_url=servers[0][0], timeout=30) as client:
            saved = await client.post(f"{API}/configs", json=inline_config())
            assert saved.status_code == 201, saved.text
        async with httpx.AsyncClient(base_url=servers[1][0], timeout=30) as client:
            created = await client.post(
                f"{API}/schedules",
                json={"name": "tick", "config_name": "t", "interval_seconds": 1},
            )
            assert created.status_code == 201, created.text
        schedule_id = created.json()["id"]

        counter = FireCounter(db, schedule_id)
        listener = await asyncpg.connect(plain)
        stack.push_async_callback(listener.close)
        await listener.add_listener("factflow_events", counter.notified)

        await counter.until(FIRES_BEFORE_KILL)
        async with db.connect() as conn:
            latest = (
                await conn.execute(
                    select(schedule_fires.c.claimed_by, schedule_fires.c.fire_time)
                    .where(schedule_fires.c.schedule_id == schedule_id)
                    .order_by(schedule_fires.c.fire_time.desc())
                    .limit(1)
                )
            ).one()
        pids = {str(process.pid): (url, process) for url, process in servers}
        victim_pid = latest.claimed_by.split(":")[1]  # the server that claimed the latest fire
        victim = pids[victim_pid][1]
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        killed_after = latest.fire_time

        await counter.until(FIRES_IN_ALL)
        survivor = next(url for pid, (url, _p) in pids.items() if pid != victim_pid)
        async with httpx.AsyncClient(base_url=survivor, timeout=30) as client:
            paused = await client.post(f"{API}/schedules/{schedule_id}/pause")
            assert paused.status_code == 200, paused.text
            # every run ends: the victim's orphans are interrupted by the survivors
            query = {"schedule": schedule_id, "limit": 500}
            page = (await client.get(f"{API}/executions", params=query)).json()
            for run in page["items"]:
                wait = f"{API}/executions/{run['id']}/wait"
                waited = await client.get(wait, params={"timeout": 60})
                assert not waited.json()["timed_out"], run

        async with db.connect() as conn:
            fires = (
                await conn.execute(
                    select(schedule_fires)
                    .where(schedule_fires.c.schedule_id == schedule_id)
                    .order_by(schedule_fires.c.fire_time)
                )
            ).all()
            t = pipeline_executions
            runs = (
                await conn.execute(
                    select(t.c.id, t.c.source, t.c.status, t.c.owner).where(
                        t.c.schedule_id == schedule_id
                    )
                )
            ).all()

    times = [f.fire_time for f in fires]
    assert len(times) >= FIRES_IN_ALL
    # no gap: consecutive whole seconds from the first to the last fire time
    assert times == [times[0] + timedelta(seconds=i) for i in range(len(times))]
    assert all(f.outcome == "started" for f in fires), [f.reason for f in fires]
    # no duplicate: one execution per fire time, each a scheduled run of this schedule
    assert sorted(f.execution_id for f in fires) == sorted(r.id for r in runs)
    assert all(r.source == "schedule" for r in runs)
    after_kill = [f for f in fires if f.fire_time > killed_after]
    assert len(after_kill) >= FIRES_IN_ALL - FIRES_BEFORE_KILL
    assert all(f.claimed_by.split(":")[1] != victim_pid for f in after_kill)
    statuses = {r.status for r in runs}
    assert statuses <= {"completed", "interrupted"}, statuses
    claimers = {f.claimed_by for f in fires}
    print(f"\n{len(fires)} fire times, claimed by {len(claimers)} servers; statuses {statuses}")
