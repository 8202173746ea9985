"""6. Concurrency: 500 executions running at once in one process.

A fresh child process (so its RSS is FactFlow's alone) starts 500 executions
whose one message waits at a gate (a processor that is as slow as we want),
one after another, then measures RSS with all 500 running, releases them, and
measures RSS again after they finished.  Start latency = ``run()`` call to
``running`` row returned, for each start, with up to 499 others running.
"""

from __future__ import annotations

import sys

from bench._core import Context, Measurement
from bench._databases import throwaway_database
from bench._prefect import PrefectPeer
from bench._procs import LineWorker

NAME = "concurrency"
TARGET_MB = 500.0


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    n = ctx.scale(500, 50)
    for db in ctx.databases:
        async with throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url:
            worker = await LineWorker.start(
                [
                    sys.executable,
                    "-m",
                    "bench._child",
                    "concurrency",
                    url,
                    str(ctx.work_dir / f"data-{NAME}-{db}"),
                    str(n),
                ],
                name="concurrency-process",
                log=ctx.work_dir / f"concurrency-{db}.log",
                ready_timeout=600,
            )
            await worker.close()
        # LineWorker.start consumed the one reply: re-read from the worker's first line
        data = worker.first
        total = Measurement(
            NAME,
            f"process RSS with {data['running']} executions running",
            "factflow",
            "MB",
            [data["during_mb"]],
            database=db,
            target=f"<= {TARGET_MB:g} MB",
            stat="max",
            notes=f"baseline {data['baseline_mb']:.0f} MB after start-up and one run; "
            f"{data['after_mb']:.0f} MB after all finished ({data['statuses']}); all {n} "
            f"started in {data['burst_ms'] / 1000:.1f} s, all finished "
            f"{data['drain_ms'] / 1000:.1f} s after release",
        )
        total.met = data["during_mb"] <= TARGET_MB
        ctx.add(total)
        per_run = (data["during_mb"] - data["baseline_mb"]) / max(1, data["running"])
        ctx.add(
            Measurement(
                NAME,
                "RSS per running execution",
                "factflow",
                "kB",
                [per_run * 1000.0],
                database=db,
                stat="max",
            )
        )
        ctx.add(
            Measurement(
                NAME,
                f"start latency (run -> running), {n} sequential starts",
                "factflow",
                "ms",
                [float(x) for x in data["start_latency_ms"]],
                database=db,
                stat="p99",
            )
        )
