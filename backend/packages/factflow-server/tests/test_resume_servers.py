"""SIGKILL a real server mid-run, restart it, resume (issue 11), on each database
(SQLite, PostgreSQL) and each queue backend (in-memory, RabbitMQ).

The kill is triggered by an observed condition: the run's own progress events
(SSE) saying the slow route has processed ``KILL_AT`` messages - never a
delay.  After the restart, recovery marks the run ``interrupted``; its resume
completes, and then parent + resume processed, per route, exactly what an
uninterrupted run of the same deterministic config processes, stored exactly
its objects, and recorded no message twice at a route.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factflow_infra.db import Database, lineage_records, storage_objects
from factflow_lineage import SETTLED_STATUSES
from sqlalchemy import select

from .conftest import API, iter_sse
from .test_server_process import _free_port

ITEMS = 40
KILL_AT = 10

CONFIG: dict[str, Any] = {
    "name": "durable",
    "settings": {"queue_depth": 4},
    "routes": {
        "src": {
            "adapter": {"type": "inline", "with": {"items": [{"i": i} for i in range(ITEMS)]}},
            "to": ["slow"],
        },
        "slow": {"processors": [{"type": "sleep", "with": {"seconds": 0.1}}], "to": ["store"]},
        "store": {"processors": [{"type": "storage_write", "with": {"key": "items/{{i}}.json"}}]},
    },
}


@contextlib.asynccontextmanager
async def _server(
    db_url: str, data_dir: Path, queue_url: str | None
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTFLOW_")}
    env.update(FACTFLOW_HEARTBEAT_INTERVAL="0.5", FACTFLOW_SHUTDOWN_GRACE="2")
    if queue_url:
        env["FACTFLOW_QUEUE_URL"] = queue_url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factflow_server", "--host", "127.0.0.1", "--port", str(port),
        "--database-url", db_url, "--data-dir", str(data_dir),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    log: list[str] = []
    started = asyncio.Event()

    async def _read() -> None:  # also keeps the pipe from filling up
        assert process.stderr is not None
        while line := (await process.stderr.readline()).decode():
            log.append(line)
            if "Application startup complete" in line:
                started.set()
        started.set()  # it exited

    reader = asyncio.create_task(_read())
    try:
        await asyncio.wait_for(started.wait(), 60)
        assert process.returncode is None, "the server exited:\n" + "".join(log)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        await reader


async def _wait(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/executions/{execution_id}/wait", params={"timeout": 120})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _kill_when_processed(
    client: httpx.AsyncClient, execution_id: str, process: asyncio.subprocess.Process
) -> None:
    """SIGKILL the server once the run's progress says ``slow`` processed KILL_AT."""
    async with client.stream("GET", f"{API}/executions/{execution_id}/events") as response:
        async for frame in iter_sse(response):
            if frame.event == "progress":
                routes = frame.data["data"]["routes"]
                if routes["slow"]["processed"] >= KILL_AT:
                    process.send_signal(signal.SIGKILL)
                    await process.wait()
                    return
            assert not frame.terminal, f"the run ended before the kill: {frame.data}"
    raise AssertionError("the event stream ended before the kill")


async def _records(db: Database, ids: list[str]) -> list[tuple[str, str, str]]:
    lr = lineage_records
    async with db.connect() as conn:
        rows = await conn.execute(
            select(lr.c.route, lr.c.message_id, lr.c.status).where(lr.c.execution_id.in_(ids))
        )
        return [(row[0], row[1], row[2]) for row in rows]


async def _keys(db: Database, ids: list[str]) -> list[str]:
    so = storage_objects
    async with db.connect() as conn:
        rows = await conn.execute(select(so.c.key).where(so.c.execution_id.in_(ids)))
        return sorted(row[0] for row in rows)


async def _leftovers(queue_url: str, execution_id: str, directory: dict[str, str]) -> list[Any]:
    """What the run's broker queues hold (read without removing it)."""
    from factflow_infra.broker import RabbitMQQueueBackend

    broker = RabbitMQQueueBackend(queue_url)
    try:
        return await broker.leftovers(execution_id, list(directory.values()))
    finally:
        await broker.close()


def _processed(records: list[tuple[str, str, str]]) -> Counter[str]:
    return Counter(route for route, _, status in records if status == "processed")


@pytest.mark.parametrize("backend", ["memory", "rabbitmq"])
async def test_sigkill_restart_resume_equals_an_uninterrupted_run(
    db: Database, db_url: str, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    queue_url = request.getfixturevalue("rabbitmq_url") if backend == "rabbitmq" else None
    data_dir = tmp_path / "server"
    async with contextlib.AsyncExitStack() as stack:
        url, process = await stack.enter_async_context(_server(db_url, data_dir, queue_url))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
        saved = await client.post(f"{API}/configs", json=CONFIG)
        assert saved.status_code == 201, saved.text
        run = await client.post(f"{API}/configs/durable/run", json={})
        assert run.status_code == 202, run.text
        parent = run.json()["id"]
        directory = run.json()["config_snapshot"]["directory"]
        await _kill_when_processed(client, parent, process)
    if queue_url:  # the dead run's queues still hold messages for the resume to take
        assert await _leftovers(queue_url, parent, directory), "nothing was left in the broker"

    async with contextlib.AsyncExitStack() as stack:
        url, _process = await stack.enter_async_context(_server(db_url, data_dir, queue_url))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
        interrupted = await _wait(client, parent)  # recovery marks it at start-up
        assert interrupted["status"] == "interrupted"
        resumed = await client.post(f"{API}/executions/{parent}/resume")
        assert resumed.status_code == 201, resumed.text
        resume = resumed.json()["id"]
        assert (await _wait(client, resume))["status"] == "completed"

        full_run = await client.post(f"{API}/configs/durable/run", json={})
        full = full_run.json()["id"]
        assert (await _wait(client, full))["status"] == "completed"

    chain = await _records(db, [parent, resume])
    settled = [(route, message_id) for route, message_id, status in chain
               if status in SETTLED_STATUSES]  # fmt: skip
    assert [k for k, n in Counter(settled).items() if n > 1] == [], "recorded twice at a route"
    uninterrupted = await _records(db, [full])
    assert _processed(chain) == _processed(uninterrupted) == {"src": 40, "slow": 40, "store": 40}
    parent_processed = _processed(await _records(db, [parent]))
    assert 0 < parent_processed["slow"] < ITEMS  # killed mid-run, after the observed count
    chain_keys = await _keys(db, [parent, resume])
    assert chain_keys == await _keys(db, [full]), "stored objects differ"
    assert len(chain_keys) == len(set(chain_keys)) == ITEMS
    if queue_url:  # ... and once the resume recorded them, they are gone
        assert await _leftovers(queue_url, parent, directory) == []
