"""1. Run overhead over HTTP: ``POST /configs/{name}/run`` then ``GET /executions/{id}/wait``
against a real uvicorn process, one keep-alive client, sequential runs."""

from __future__ import annotations

import httpx

from bench._core import Context, Measurement, timer_ms
from bench._databases import throwaway_database
from bench._factflow import trivial_config
from bench._prefect import PrefectPeer
from bench._server import factflow_server, save_config

NAME = "overhead_http"
TARGET_MS = 20.0


async def _batch(client: httpx.AsyncClient, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = timer_ms()
        response = await client.post("/configs/bench-trivial/run")
        response.raise_for_status()
        execution_id = response.json()["id"]
        waited = await client.get(f"/executions/{execution_id}/wait", params={"timeout": 30})
        waited.raise_for_status()
        times.append(timer_ms() - started)
        if waited.json()["status"] != "completed":
            raise RuntimeError(f"trivial run over HTTP ended {waited.json()}")
    return times


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    n = ctx.scale(200, 30)
    for db in ctx.databases:
        async with (
            throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url,
            factflow_server(
                url, ctx.work_dir / f"data-{NAME}-{db}", ctx.work_dir / f"server-{NAME}-{db}.log"
            ) as server,
            server.client() as client,
        ):
            await save_config(client, trivial_config())
            await _batch(client, ctx.scale(20, 5))  # warm-up
            values = await _batch(client, n)
        m = Measurement(
            NAME,
            "run overhead, HTTP (run + wait endpoints)",
            "factflow",
            "ms",
            values,
            database=db,
            target=f"p50 <= {TARGET_MS:g} ms",
        )
        m.met = m.summary["p50"] <= TARGET_MS
        ctx.add(m)
