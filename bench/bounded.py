"""10. Bounded path: RSS while a 1,000,000-message source runs through a slow route.

A fresh child process (``python -m bench.bounded URL DATA_DIR N``, so the RSS
is FactFlow's alone) runs ``src`` (adapter: N integers, no processors) ->
``slow`` (the built-in ``sleep`` processor, 0.2 ms, 64 workers), with lineage
recorded on the database.  The adapter is far faster than ``slow``, so
without back-pressure the queue would hold nearly the whole source.  RSS is
sampled every 250 ms from the start of the run to its end; the measure is
the largest growth over the RSS after a warm-up run, and the run must
complete with every message processed at both routes.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

from bench._core import Context, Measurement, timer_ms
from bench._databases import throwaway_database
from bench._prefect import PrefectPeer
from bench._procs import MARK, LineWorker, rss_mb

NAME = "bounded"
TARGET_MB = 50.0
SAMPLE_S = 0.25


def config() -> dict[str, Any]:
    return {
        "name": "bench-bounded",
        "params": {"n": {"type": "integer"}},
        "settings": {"timeout": 7200},
        "routes": {
            "src": {"adapter": {"type": "bench_range", "with": {"n": "{n}"}}, "to": "slow"},
            "slow": {
                "processors": [{"type": "sleep", "with": {"seconds": 0.0002}}],
                "concurrency": 64,
            },
        },
    }


async def _child(url: str, data_dir: Path, n: int) -> None:
    from bench._factflow import open_service

    pid = os.getpid()
    async with open_service(url, data_dir) as service:
        await service.save_config(config())
        warm = await service.run("bench-bounded", params={"n": min(n, 20_000)})
        await service.wait(warm.id, timeout=7200)
        gc.collect()
        baseline = rss_mb(pid, tree=False)
        samples: list[float] = []
        queued_max = 0
        started = timer_ms()
        execution = await service.run("bench-bounded", params={"n": n})
        waiting = asyncio.create_task(service.wait(execution.id, timeout=7200))
        while not waiting.done():
            samples.append(rss_mb(pid, tree=False))
            progress = service.manager.progress(execution.id)
            if progress is not None:
                queued_max = max(queued_max, progress.totals().queued)
            await asyncio.wait({waiting}, timeout=SAMPLE_S)
        result = waiting.result()
        elapsed = (timer_ms() - started) / 1000.0
        stats = result.stats
        processed = {name: route.processed for name, route in stats.routes.items()} if stats else {}
        print(
            MARK
            + json.dumps(
                {
                    "status": result.status,
                    "baseline_mb": baseline,
                    "samples_mb": samples,
                    "processed": processed,
                    "queued_max": queued_max,
                    "seconds": elapsed,
                }
            ),
            flush=True,
        )


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    n = ctx.scale(1_000_000, 1_000)
    for db in ctx.databases:
        async with throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url:
            worker = await LineWorker.start(
                [
                    sys.executable,
                    "-m",
                    "bench.bounded",
                    url,
                    str(ctx.work_dir / f"data-{NAME}-{db}"),
                    str(n),
                ],
                name="bounded-process",
                log=ctx.work_dir / f"bounded-{db}.log",
                ready_timeout=7200,
            )
            await worker.close()
        data = worker.first
        if data["status"] != "completed" or set(data["processed"].values()) != {n}:
            raise RuntimeError(f"bounded run ended {data['status']}: {data['processed']}")
        growth = [s - data["baseline_mb"] for s in data["samples_mb"]]
        measurement = Measurement(
            NAME,
            f"RSS growth while {n:,} messages run through a slow route",
            "factflow",
            "MB",
            growth,
            database=db,
            target=f"<= {TARGET_MB:g} MB",
            stat="max",
            notes=f"baseline {data['baseline_mb']:.0f} MB after a 20,000-message warm-up run; "
            f"{len(growth)} samples every {SAMPLE_S:g} s over {data['seconds']:.0f} s; "
            f"most messages queued at once {data['queued_max']:,} (default queue_depth 1000); "
            f"{n:,} processed at each route",
        )
        measurement.met = max(growth) <= TARGET_MB
        ctx.add(measurement)


if __name__ == "__main__":
    url_arg, data_dir_arg, n_arg = sys.argv[1:4]
    asyncio.run(_child(url_arg, Path(data_dir_arg), int(n_arg)))
