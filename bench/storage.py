"""Storage: objects/s of a pipeline whose sink stores one small JSON object per message.

``src`` (adapter: N integers) -> ``store`` (``storage_write``, concurrency 16):
one object per message, each durable (file fsynced, row and ``storage.written``
event committed) before the run completes.  Beside it, in the same run and
alternated in pairs, the same pipeline with ``bench_pass`` instead of the write
(pass-through).  Objects/s from ``run`` to the waiter holding the terminal
result; every storage run is checked: rows = events = files = N.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from factflow_execution import ExecutionService
from factflow_infra.db import execution_events, storage_objects
from sqlalchemy import func, select

from bench._core import Context, Measurement, timer_ms
from bench._databases import throwaway_database
from bench._factflow import open_service
from bench._prefect import PrefectPeer

NAME = "storage"
TARGET = 5_000.0
MIN_RATIO = 0.3


def config(name: str, n: int, processor: str) -> dict[str, Any]:
    return {
        "name": name,
        "settings": {"timeout": 3600},
        "routes": {
            "src": {"adapter": {"type": "bench_range", "with": {"n": n}}, "to": "store"},
            "store": {"processors": [{"type": processor}], "concurrency": 16},
        },
    }


async def _count(service: ExecutionService, execution_id: str) -> tuple[int, int]:
    async with service.db.connect() as conn:
        rows = (
            await conn.execute(
                select(func.count()).where(storage_objects.c.execution_id == execution_id)
            )
        ).scalar_one()
        events = (
            await conn.execute(
                select(func.count()).where(
                    execution_events.c.execution_id == execution_id,
                    execution_events.c.kind == "storage.written",
                )
            )
        ).scalar_one()
    return int(rows), int(events)


async def _one(service: ExecutionService, name: str, n: int, storage_dir: Path | None) -> float:
    started = timer_ms()
    execution = await service.run(name)
    result = await service.wait(execution.id, timeout=3600)
    elapsed = (timer_ms() - started) / 1000.0
    if result.status != "completed":
        raise RuntimeError(f"{name} run ended {result.status}: {result.error}")
    if storage_dir is not None:
        rows, events = await _count(service, execution.id)
        files = sum(1 for p in (storage_dir / execution.id).rglob("*") if p.is_file())
        if not rows == events == files == n:
            raise RuntimeError(f"{n} objects expected: {rows} rows, {events} events, {files} files")
    return n / elapsed


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    n = ctx.scale(3000, 300)
    reps = ctx.scale(5, 2)
    stored: dict[str, list[float]] = {db: [] for db in ctx.databases}
    passed: dict[str, list[float]] = {db: [] for db in ctx.databases}
    async with AsyncExitStack() as stack:
        services: dict[str, tuple[ExecutionService, Path]] = {}
        for db in ctx.databases:
            url = await stack.enter_async_context(
                throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url)
            )
            data_dir = ctx.work_dir / f"data-{NAME}-{db}"
            service = await stack.enter_async_context(open_service(url, data_dir))
            await service.save_config(config("bench-store", n, "storage_write"))
            await service.save_config(config("bench-pass", n, "bench_pass"))
            storage_dir = service.settings.resolved_storage_dir
            await _one(service, "bench-store", n, storage_dir)  # warm-up
            await _one(service, "bench-pass", n, None)
            services[db] = (service, storage_dir)
        for _ in range(reps):  # pairs alternated, so load spikes fall on both
            for db, (service, storage_dir) in services.items():
                stored[db].append(await _one(service, "bench-store", n, storage_dir))
                passed[db].append(await _one(service, "bench-pass", n, None))
    for db in ctx.databases:
        mine = Measurement(
            NAME,
            f"objects/s, storage_write sink ({n:,} objects/run, concurrency 16)",
            "factflow",
            "objects/s",
            stored[db],
            database=db,
            target=f">= {TARGET:,.0f} objects/s",
            notes="every run checked: rows = storage.written events = files = objects",
        )
        mine.met = mine.summary["p50"] >= TARGET
        ctx.add(mine)
        ctx.add(
            Measurement(
                NAME,
                "msg/s, same pipeline with a pass-through sink",
                "factflow",
                "msg/s",
                passed[db],
                database=db,
            )
        )
        ratio = Measurement(
            NAME,
            "storage / pass-through (paired runs)",
            "factflow",
            "ratio",
            [a / b for a, b in zip(stored[db], passed[db], strict=True)],
            database=db,
            target=f">= {MIN_RATIO:g}x",
        )
        ratio.met = ratio.summary["p50"] >= MIN_RATIO
        ctx.add(ratio)
