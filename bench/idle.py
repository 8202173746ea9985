"""Idle server RSS: ``factflow-server`` after start-up and a few requests, on a
database already at the schema head (a server restart: the steady state), and -
for information - on its very first start, when it applies the migrations.
Beside it, Prefect's local server RSS 3 s after its start-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench._core import Context, Measurement
from bench._databases import throwaway_database
from bench._prefect import PrefectPeer
from bench._server import factflow_server

NAME = "idle"
TARGET_MB = 100.0


async def _idle_rss(ctx: Context, url: str, data_dir: Path, log: Path) -> list[float]:
    async with factflow_server(url, data_dir, log) as server:
        async with server.client() as client:
            for _ in range(5):
                (await client.get("/executions", params={"limit": 50})).raise_for_status()
        await asyncio.sleep(ctx.scale(10, 1) / 10)
        values = []
        for _ in range(ctx.scale(10, 3)):
            values.append(server.rss_mb())
            await asyncio.sleep(0.2)
        return values


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    for db in ctx.databases:
        async with throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url:
            data_dir = ctx.work_dir / f"data-{NAME}-{db}"
            first = await _idle_rss(ctx, url, data_dir, ctx.work_dir / f"server-{NAME}-{db}-1.log")
            values = await _idle_rss(ctx, url, data_dir, ctx.work_dir / f"server-{NAME}-{db}.log")
        m = Measurement(
            NAME,
            "idle server RSS (restart on a migrated database)",
            "factflow",
            "MB",
            values,
            database=db,
            target=f"<= {TARGET_MB:g} MB",
            stat="max",
        )
        m.met = max(values) <= TARGET_MB
        ctx.add(m)
        ctx.add(
            Measurement(
                NAME,
                "idle server RSS, first start (it applied the migrations)",
                "factflow",
                "MB",
                first,
                database=db,
                stat="max",
                notes="Alembic (about 11 MB) stays loaded after migrating",
            )
        )
    if peer is not None and peer.idle_rss_mb is not None:
        ctx.add(
            Measurement(
                NAME,
                "idle server RSS",
                "prefect (default)",
                "MB",
                [peer.idle_rss_mb],
                database="sqlite",
                stat="max",
                notes="prefect server start (fresh home), 3 s after its health check answered",
            )
        )
