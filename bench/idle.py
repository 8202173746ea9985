"""Idle server RSS: a fresh ``factflow-server`` after start-up and a few requests;
beside it, Prefect's local server RSS right after its start-up."""

from __future__ import annotations

import asyncio

from bench._core import Context, Measurement
from bench._databases import throwaway_database
from bench._prefect import PrefectPeer
from bench._server import factflow_server

NAME = "idle"
TARGET_MB = 100.0


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    samples_n = ctx.scale(10, 3)
    for db in ctx.databases:
        async with (
            throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url,
            factflow_server(
                url, ctx.work_dir / f"data-{NAME}-{db}", ctx.work_dir / f"server-{NAME}-{db}.log"
            ) as server,
        ):
            async with server.client() as client:
                for _ in range(5):
                    (await client.get("/executions", params={"limit": 50})).raise_for_status()
            await asyncio.sleep(ctx.scale(10, 1) / 10)
            values = []
            for _ in range(samples_n):
                values.append(server.rss_mb())
                await asyncio.sleep(0.2)
        m = Measurement(
            NAME,
            "idle server RSS",
            "factflow",
            "MB",
            values,
            database=db,
            target=f"<= {TARGET_MB:g} MB",
            stat="max",
        )
        m.met = max(values) <= TARGET_MB
        ctx.add(m)
    if peer is not None and peer.idle_rss_mb is not None:
        ctx.add(
            Measurement(
                NAME,
                "idle server RSS",
                "prefect (default)",
                "MB",
                [peer.idle_rss_mb],
                database="sqlite",
                notes="prefect server start, 3 s after its health check first answered",
            )
        )
