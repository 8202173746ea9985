"""Child processes of the harness (``python -m bench._child <role> ...``).

``waiter URL DATA_DIR``: a second ``ExecutionService`` (own engine, bus and owner
id, as another server process would be) that waits on executions on request
and reports, on the shared monotonic clock, when each wait resolved.

``concurrency URL DATA_DIR N``: starts N gated executions at once in a fresh
process and reports RSS and start latencies (so the RSS is that of FactFlow
alone, not of the harness).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

from factflow_execution import ExecutionService

from bench._core import timer_ms
from bench._factflow import GATES, gated_config, open_service
from bench._procs import MARK, rss_mb


def reply(data: dict[str, Any]) -> None:
    sys.stdout.write(MARK + json.dumps(data) + "\n")
    sys.stdout.flush()


async def _read_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def waiter(url: str, data_dir: Path) -> None:
    async with open_service(url, data_dir, migrate=False) as service:
        reply({"ready": True, "owner": service.manager.owner_id})
        while True:
            line = await _read_line()
            if not line:
                return
            command = json.loads(line)
            if command["op"] == "exit":
                reply({"bye": True})
                return
            execution_id = command["id"]
            done: asyncio.Future[float] = asyncio.get_running_loop().create_future()

            async def timed(eid: str = execution_id, fut: asyncio.Future[float] = done) -> str:
                result = await service.wait(eid, timeout=60)
                fut.set_result(timer_ms())
                return result.status

            task = asyncio.create_task(timed())
            while service.bus.subscriber_count() == 0:  # noqa: ASYNC110 - a bench probe
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.02)  # let it read the row (running) before the gate opens
            reply({"waiting": True})
            status = await task
            reply({"resolved_at": done.result(), "status": status})


async def concurrency(url: str, data_dir: Path, n: int) -> None:
    pid = os.getpid()
    async with open_service(
        url, data_dir, max_running_executions=n + 10, heartbeat_interval=2.0
    ) as service:
        await service.save_config(gated_config())
        await _warm(service)
        gc.collect()
        baseline = rss_mb(pid, tree=False)
        latencies: list[float] = []
        ids: list[str] = []
        started = timer_ms()
        for _ in range(n):
            t0 = timer_ms()
            execution = await service.run("bench-gated")
            latencies.append(timer_ms() - t0)
            ids.append(execution.id)
        burst = timer_ms() - started
        await GATES.until_entered(n + 1)
        all_in = timer_ms() - started
        await asyncio.sleep(0.5)
        during = rss_mb(pid, tree=False)
        running = len(service.manager)
        for execution_id in ids:
            GATES.open(execution_id)
        finished = timer_ms()
        results = await asyncio.gather(*(service.wait(i, timeout=120) for i in ids))
        drain = timer_ms() - finished
        statuses: dict[str, int] = {}
        for r in results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        for execution_id in ids:
            GATES.forget(execution_id)
        gc.collect()
        await asyncio.sleep(0.5)
        after = rss_mb(pid, tree=False)
        reply(
            {
                "baseline_mb": baseline,
                "during_mb": during,
                "after_mb": after,
                "running": running,
                "start_latency_ms": latencies,
                "burst_ms": burst,
                "all_processing_ms": all_in,
                "drain_ms": drain,
                "statuses": statuses,
            }
        )


async def _warm(service: ExecutionService) -> None:
    execution = await service.run("bench-gated")
    await GATES.entered(execution.id)
    GATES.open(execution.id)
    await service.wait(execution.id, timeout=30)


def main() -> None:
    role, url, data_dir, *rest = sys.argv[1:]
    if role == "waiter":
        asyncio.run(waiter(url, Path(data_dir)))
    elif role == "concurrency":
        asyncio.run(concurrency(url, Path(data_dir), int(rest[0])))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
