"""End to end over real HTTP: a ``python -m factflow_server`` process on a free
loopback port, a run held open by a named-pipe gate, an SSE stream read with a
plain HTTP client, a disconnect in the middle and a ``Last-Event-ID`` resume."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import yaml
from factflow_infra.db import Database
from sqlalchemy.engine import make_url

from .conftest import API, YAML, Frame, iter_sse, parse_sse

SUPPORT = Path(__file__).parent / "support"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def server_process(
    db_url: str,
    data_dir: Path,
    log: list[str] | None = None,
    *,
    env: dict[str, str] | None = None,
) -> AsyncIterator[str]:
    """Start the server; yield its base URL once it has announced itself.  What it
    writes to stderr is collected in ``log``; ``env`` adds environment variables."""
    port = _free_port()
    env = {
        **os.environ,
        "FACTFLOW_ALLOW_IMPORT_PATHS": "true",
        "FACTFLOW_SSE_HEARTBEAT": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")])),
        **(env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "factflow_server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        db_url,
        "--data-dir",
        str(data_dir),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    log = [] if log is None else log

    async def _started() -> None:
        assert process.stderr is not None
        while line := (await process.stderr.readline()).decode():
            log.append(line)
            if "storage:" in line:  # the last line of the start-up banner
                return
        raise AssertionError("the server exited during start-up:\n" + "".join(log))

    drain: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(_started(), 60)

        async def _drain() -> None:  # keep the pipe from filling up
            assert process.stderr is not None
            while line := (await process.stderr.readline()).decode():
                log.append(line)

        drain = asyncio.create_task(_drain())
        yield f"http://127.0.0.1:{port}"
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert await asyncio.wait_for(process.wait(), 60) in (0, -signal.SIGTERM)
        await drain
        assert "Application shutdown complete" in "".join(log), "".join(log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if drain is not None:
            await drain


def _release(fifo: Path) -> None:
    with open(fifo, "wb") as pipe:  # blocks until the gate in the server listens
        pipe.write(b"go")


def _config(fifo: Path) -> str:
    return yaml.safe_dump(
        {
            "name": "e2e",
            "routes": {
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"i": i} for i in range(4)]}},
                    "processors": [{"type": "storage_write"}],
                    "to": ["hold"],
                },
                "hold": {
                    "processors": [
                        {"type": "factflow_server_testgate:FifoGate", "with": {"fifo": str(fifo)}}
                    ],
                    "to": ["sink"],
                },
                "sink": {},
            },
        }
    )


async def test_sse_resume_across_a_disconnect_against_a_real_server_process(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    fifo = tmp_path / "gate"
    os.mkfifo(fifo)
    async with (
        server_process(db_url, tmp_path / "data") as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
        stored = await client.post(f"{API}/configs", content=_config(fifo), headers=YAML)
        assert stored.status_code == 201, stored.text
        run = await client.post(f"{API}/configs/e2e/run", json={"source": "cli"})
        assert run.status_code == 202, run.text
        events_url = f"{API}/executions/{run.json()['id']}/events"

        before: list[Frame] = []
        async with client.stream("GET", events_url) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            async for frame in iter_sse(response):
                before.append(frame)
                if len(before) == 3:
                    break  # disconnect in the middle: the gate holds the run open
        assert not before[-1].terminal

        await asyncio.to_thread(_release, fifo)
        after: list[Frame] = []
        resume = {"Last-Event-ID": str(before[-1].id)}
        async with client.stream("GET", events_url, headers=resume) as response:
            after = [frame async for frame in iter_sse(response)]

        everything = parse_sse((await client.get(events_url)).text)
        ids = [f.id for f in before + after]
        assert ids == [f.id for f in everything] == list(range(1, len(everything) + 1))
        assert after[-1].terminal and after[-1].data["data"]["status"] == "completed"
        assert [f.data for f in before + after] == [f.data for f in everything]
        waited = await client.get(f"{API}/executions/{run.json()['id']}/wait")
        assert waited.json()["stats"]["routes"]["sink"]["processed"] == 4


async def test_start_up_announces_the_url_data_dir_and_database_without_its_password(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":  # trust auth: any password is accepted
        url = url.set(password="hunter2-secret")
    log: list[str] = []
    async with (
        server_process(
            url.render_as_string(hide_password=False), tmp_path / "data", log
        ) as base_url,
        httpx.AsyncClient(base_url=base_url) as client,
    ):
        assert (await client.get("/readyz")).status_code == 200
    text = "".join(log)
    assert f"FactFlow API at {base_url} (docs {base_url}/docs)" in text
    assert f"data dir: {tmp_path / 'data'}" in text
    assert f"database: {url.render_as_string(hide_password=True)}" in text
    assert "hunter2" not in text
    assert f"storage:  {tmp_path / 'data' / 'storage'}" in text
