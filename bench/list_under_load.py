"""Reads under write load: the executions list while 50 runs write and 100 clients follow.

A real server runs 50 executions at once, each a steady stream of messages
(``sleep`` 50 ms, concurrency 2, about 40 messages/s per run) that a second
route stores one object each (``storage_write``): about 2,000 messages and
2,000 objects per second in all, lineage recorded.  100 SSE clients follow
their events (two per run).  Meanwhile one client asks
``GET /api/v1/executions?limit=50`` back to back; each request's latency is a
sample.  Idle latency (same database, no run) is measured first, for
comparison.  The runs are cancelled at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from bench._core import Context, Measurement, timer_ms
from bench._databases import throwaway_database
from bench._prefect import PrefectPeer
from bench._server import factflow_server, save_config

NAME = "list_under_load"
TARGET_P99_MS = 50.0


def _config(items: int) -> dict[str, Any]:
    return {
        "name": "bench-load",
        "settings": {"timeout": 3600},
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": list(range(items))}},
                "processors": [{"type": "sleep", "with": {"seconds": 0.05}}],
                "concurrency": 2,
                "to": "store",
            },
            "store": {"processors": [{"type": "storage_write"}], "concurrency": 2},
        },
    }


async def _follow(client: httpx.AsyncClient, execution_id: str, connected: asyncio.Event) -> int:
    frames = 0
    with contextlib.suppress(httpx.HTTPError):
        async with client.stream("GET", f"/executions/{execution_id}/events") as response:
            connected.set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    frames += 1
    return frames


async def _list_latencies(client: httpx.AsyncClient, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        started = timer_ms()
        response = await client.get("/executions", params={"limit": 50})
        response.raise_for_status()
        times.append(timer_ms() - started)
        if len(response.json()["items"]) != 50:
            raise RuntimeError("the list did not return 50 executions")
    return times


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    runs = ctx.scale(50, 10)
    followers_per_run = 2
    samples = ctx.scale(200, 40)
    idle_samples = ctx.scale(100, 20)
    for db in ctx.databases:
        async with (
            throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url,
            factflow_server(
                url, ctx.work_dir / f"data-{NAME}-{db}", ctx.work_dir / f"server-{NAME}-{db}.log"
            ) as server,
        ):
            limits = httpx.Limits(max_connections=runs * followers_per_run + 20)
            async with server.client(limits=limits) as client, server.client() as reader:
                await save_config(client, _config(items=5_000))
                # 50 finished runs first, so the idle list has a full page too.
                await save_config(
                    client,
                    {
                        "name": "bench-done",
                        "routes": {"src": {"adapter": {"type": "inline", "with": {"items": [1]}}}},
                    },
                )
                for _ in range(50):
                    done = (await client.post("/configs/bench-done/run")).json()["id"]
                    await client.get(f"/executions/{done}/wait", params={"timeout": 60})
                idle = await _list_latencies(reader, idle_samples)
                ids = []
                for _ in range(runs):
                    response = await client.post("/configs/bench-load/run")
                    response.raise_for_status()
                    ids.append(response.json()["id"])
                connected = [asyncio.Event() for _ in range(runs * followers_per_run)]
                followers = [
                    asyncio.create_task(_follow(client, ids[i // followers_per_run], event))
                    for i, event in enumerate(connected)
                ]
                await asyncio.gather(*(event.wait() for event in connected))
                loaded = await _list_latencies(reader, samples)
                stats = (await reader.get(f"/executions/{ids[0]}")).json().get("stats") or {}
                for execution_id in ids:
                    await client.post(f"/executions/{execution_id}/cancel")
                frames = await asyncio.gather(*followers)
        for label, values, target in (
            ("list?limit=50, idle (no runs)", idle, None),
            (
                f"list?limit=50 during {runs} runs + {runs * followers_per_run} SSE followers",
                loaded,
                f"p99 <= {TARGET_P99_MS:g} ms",
            ),
        ):
            m = Measurement(
                NAME,
                label,
                "factflow",
                "ms",
                values,
                database=db,
                target=target,
                stat="p99",
                notes=""
                if target is None
                else f"{sum(frames):,} SSE frames delivered; one run had stored "
                f"{stats.get('storage_objects', '?')} objects when measuring ended",
            )
            if target is not None:
                m.met = m.summary["p99"] <= TARGET_P99_MS
            ctx.add(m)
