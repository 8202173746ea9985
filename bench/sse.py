"""5. Streams: 200 SSE subscribers on one running execution.

A real server runs a pipeline of slow messages (``sleep`` processor) with
progress events every 50 ms; 200 clients follow ``GET
/api/v1/executions/{id}/events`` at once.  Delay = receipt time minus the
event's ``at`` (stamped when it is appended, just before its commit), counted
for events appended after every subscriber was connected.  Server RSS before
(idle, warmed), during (peak) and after the subscribers left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import datetime
from typing import Any

import httpx

from bench._core import Context, Measurement
from bench._databases import throwaway_database
from bench._prefect import PrefectPeer
from bench._server import RunningServer, factflow_server, save_config

NAME = "sse"
TARGET_P99_MS = 50.0


def _config(messages: int) -> dict[str, Any]:
    return {
        "name": "bench-sse",
        "settings": {"timeout": 600},
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": list(range(messages))}},
                "processors": [{"type": "sleep", "with": {"seconds": 0.05}}],
                "concurrency": 1,
            }
        },
    }


async def _subscriber(
    client: httpx.AsyncClient,
    execution_id: str,
    connected: list[float],
    received: list[tuple[float, float]],
) -> int:
    frames = 0
    async with client.stream("GET", f"/executions/{execution_id}/events") as response:
        response.raise_for_status()
        connected.append(time.time())
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            now = time.time()
            event = json.loads(line[5:])
            at = datetime.fromisoformat(event["at"]).timestamp()
            received.append((at, now))
            frames += 1
    return frames


async def _sample_rss(server: RunningServer, out: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        out.append(server.rss_mb())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    subscribers = ctx.scale(200, 30)
    messages = ctx.scale(200, 30)  # x 50 ms: about 10 s (1.5 s quick) of events
    for db in ctx.databases:
        async with (
            throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url,
            factflow_server(
                url,
                ctx.work_dir / f"data-{NAME}-{db}",
                ctx.work_dir / f"server-{NAME}-{db}.log",
                env={"FACTFLOW_PROGRESS_INTERVAL": "0.05"},
            ) as server,
        ):
            limits = httpx.Limits(max_connections=subscribers + 20, max_keepalive_connections=50)
            async with server.client(limits=limits) as client:
                await save_config(client, _config(messages))
                await _warm(client, subscribers)
                await asyncio.sleep(1.0)
                before = [server.rss_mb() for _ in range(3)]
                response = await client.post("/configs/bench-sse/run")
                response.raise_for_status()
                execution_id = response.json()["id"]
                connected: list[float] = []
                received: list[tuple[float, float]] = []
                during: list[float] = []
                stop = asyncio.Event()
                sampler = asyncio.create_task(_sample_rss(server, during, stop))
                tasks = [
                    asyncio.create_task(_subscriber(client, execution_id, connected, received))
                    for _ in range(subscribers)
                ]
                frames = await asyncio.gather(*tasks)
                stop.set()
                await sampler
                waited = await client.get(
                    f"/executions/{execution_id}/wait", params={"timeout": 60}
                )
                status = waited.json()["status"]
            await asyncio.sleep(2.0)
            after = []
            for _ in range(5):
                after.append(server.rss_mb())
                await asyncio.sleep(0.2)
        all_connected = max(connected)
        delays = [(now - at) * 1000.0 for at, now in received if at >= all_connected]
        m = Measurement(
            NAME,
            f"SSE delay, event append -> client receipt ({subscribers} subscribers)",
            "factflow",
            "ms",
            delays,
            database=db,
            target=f"p99 <= {TARGET_P99_MS:g} ms",
            stat="p99",
            notes=f"run {status}; {sum(frames):,} frames received, every subscriber got the "
            f"terminal event; {len(delays):,} counted (appended after all had connected)",
        )
        m.met = m.summary["p99"] <= TARGET_P99_MS
        ctx.add(m)
        for label, values in (
            ("server RSS before subscribers", before),
            (f"server RSS during {subscribers} subscribers", during),
            ("server RSS after they left", after),
        ):
            ctx.add(Measurement(NAME, label, "factflow", "MB", values, database=db, stat="max"))
        back = Measurement(
            NAME,
            "RSS after - before (back to baseline?)",
            "factflow",
            "MB",
            [max(after) - max(before)],
            database=db,
            target="back to baseline (within 5 MB)",
            stat="max",
        )
        back.met = max(after) - max(before) <= 5.0
        ctx.add(back)


async def _warm(client: httpx.AsyncClient, subscribers: int) -> None:
    """One short run with all subscribers, so 'before' is a warmed-up server."""
    response = await client.post("/configs/bench-sse/run")
    response.raise_for_status()
    execution_id = response.json()["id"]
    await asyncio.gather(*(_subscriber(client, execution_id, [], []) for _ in range(subscribers)))
