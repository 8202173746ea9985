"""3. Throughput: three routes, fan-out x10, trivial processors, >= 100k route-steps.

``src`` (adapter: N integers; processor: fan-out x10) -> ``mid`` (pass) ->
``sink`` (pass): 21 N route-steps.  Steps/s from ``run`` to the waiter holding
the terminal result, with lineage recorded (the ``LineageRecorder`` on the
database) and with lineage recording disabled (``NullLineageSink``), the two
alternated.  With lineage, the rows in ``lineage_records`` must equal the steps.

Side by side: Prefect running 1,000 trivial tasks in one flow, client-side
tasks/s, then how many task runs its server persisted and in which state.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

from factflow_engine import PipelineOrchestrator
from factflow_execution import ExecutionService, OrchestratorRequest
from factflow_infra.db import lineage_records
from factflow_lineage import NullLineageSink
from factflow_protocols import Orchestrator
from sqlalchemy import func, select

from bench._core import Context, Measurement, timer_ms
from bench._databases import throwaway_database
from bench._factflow import open_service
from bench._prefect import PrefectPeer
from bench._procs import LineWorker

NAME = "throughput"
TARGET = 20_000.0
MAX_LINEAGE_COST = 0.30


def config(n: int) -> dict[str, Any]:
    return {
        "name": "bench-throughput",
        "settings": {"timeout": 3600},
        "routes": {
            "src": {
                "adapter": {"type": "bench_range", "with": {"n": n}},
                "processors": [{"type": "bench_fanout", "with": {"k": 10}}],
                "to": "mid",
            },
            "mid": {"processors": [{"type": "bench_pass"}], "to": "sink"},
            "sink": {"processors": [{"type": "bench_pass"}]},
        },
    }


async def _one(service: ExecutionService, steps: int, *, check_rows: bool) -> float:
    started = timer_ms()
    execution = await service.run("bench-throughput")
    result = await service.wait(execution.id, timeout=3600)
    elapsed = (timer_ms() - started) / 1000.0
    if result.status != "completed" or result.stats is None:
        raise RuntimeError(f"throughput run ended {result.status}: {result.error}")
    if check_rows and result.stats.totals.processed != steps:
        raise RuntimeError(f"{result.stats.totals.processed} steps processed, expected {steps}")
    if check_rows:
        async with service.db.connect() as conn:
            rows = (
                await conn.execute(
                    select(func.count()).where(lineage_records.c.execution_id == execution.id)
                )
            ).scalar_one()
        if rows != steps:
            raise RuntimeError(f"lineage lost rows: {rows} rows for {steps} steps")
    return steps / elapsed


async def _prefect_tasks(ctx: Context, worker: LineWorker, n: int) -> dict[str, Any]:
    reply = await worker.ask({"op": "tasks", "n": n}, timeout=1800)
    flow_run_id = reply["flow_run_id"]
    # The server persists task runs from events, after the flow returned: watch it.
    settle = ctx.scale(30, 8)
    counted: dict[str, Any] = {}
    started = timer_ms()
    last = -1
    stable_since = timer_ms()
    while (timer_ms() - started) / 1000.0 < settle:
        counted = await worker.ask({"op": "count_task_runs", "flow_run_id": flow_run_id})
        if counted["count"] != last:
            last = counted["count"]
            stable_since = timer_ms()
        completed = counted["states"].get("COMPLETED", 0)
        if completed >= n or (timer_ms() - stable_since) > 5000:
            break
        await asyncio.sleep(0.5)
    waited = (timer_ms() - started) / 1000.0
    return {
        "client_seconds": reply["seconds"],
        "tasks_per_s": n / reply["seconds"],
        "persisted": counted.get("count", 0),
        "states": counted.get("states", {}),
        "persisted_after_s": round(waited, 1),
        "server_rows_per_s": counted.get("count", 0) / (reply["seconds"] + waited),
    }


class LineageSwitch:
    """Builds the service's ``PipelineOrchestrator``s with its recorder, or with a
    ``NullLineageSink`` while ``off`` (the run controller keeps the parts it was
    built with, so swapping ``service.lineage`` would change nothing)."""

    def __init__(self) -> None:
        self.service: ExecutionService | None = None
        self.off = False
        self._null = NullLineageSink()

    def __call__(self, request: OrchestratorRequest) -> Orchestrator:
        service = self.service
        if service is None:
            raise RuntimeError("LineageSwitch.service is not set")
        return PipelineOrchestrator(
            request.execution_id,
            request.pipeline,
            queue_names=request.queue_names,
            queues=service.queues,
            lineage=self._null if self.off else service.lineage,
            storage=request.storage,
            callback=request.callback,
            registry=service.registry,
            cancel_grace=service.settings.cancel_grace,
            progress_interval=service.settings.progress_interval,
            initial_messages=request.initial_messages,
            resume=request.resume,
            logs=request.logs,
        )


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    n = ctx.scale(5000, 500)
    steps = 21 * n
    reps = ctx.scale(5, 2)
    tasks = ctx.scale(1000, 200)
    with_lineage: dict[str, list[float]] = {db: [] for db in ctx.databases}
    without: dict[str, list[float]] = {db: [] for db in ctx.databases}
    prefect: dict[str, list[dict[str, Any]]] = {"prefect (default)": [], "prefect (fastest)": []}
    async with AsyncExitStack() as stack:
        services: dict[str, ExecutionService] = {}
        switches: dict[str, LineageSwitch] = {}
        for db in ctx.databases:
            url = await stack.enter_async_context(
                throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url)
            )
            switch = switches[db] = LineageSwitch()
            service = await stack.enter_async_context(
                open_service(url, ctx.work_dir / f"data-{NAME}-{db}", orchestrators=switch)
            )
            switch.service = service
            await service.save_config(config(n))
            await _one(service, steps, check_rows=True)  # warm-up
            services[db] = service
        workers: dict[str, LineWorker] = {}
        if peer is not None:
            for fastest in (False, True):
                worker = await peer.worker(fastest)
                stack.push_async_callback(worker.close)
                await worker.ask({"op": "tasks", "n": 5})  # warm-up
                workers["prefect (fastest)" if fastest else "prefect (default)"] = worker
        for rep in range(reps):  # alternate systems and modes, so noise falls on all
            for db, service in services.items():
                with_lineage[db].append(await _one(service, steps, check_rows=True))
                switches[db].off = True
                try:
                    without[db].append(await _one(service, steps, check_rows=False))
                finally:
                    switches[db].off = False
            if rep < ctx.scale(2, 1):
                for system, worker in workers.items():
                    prefect[system].append(await _prefect_tasks(ctx, worker, tasks))
    ours: dict[str, Measurement] = {}
    for db in ctx.databases:
        on = Measurement(
            NAME,
            f"route-steps/s with lineage ({steps:,} steps/run)",
            "factflow",
            "steps/s",
            with_lineage[db],
            database=db,
            target=f">= {TARGET:,.0f} steps/s, rows = steps",
            stat="p50",
            notes="every run checked: lineage rows == route-steps",
        )
        on.met = on.summary["p50"] >= TARGET
        ours[db] = ctx.add(on)
        ctx.add(
            Measurement(
                NAME,
                "route-steps/s, lineage disabled",
                "factflow",
                "steps/s",
                without[db],
                database=db,
            )
        )
        cost = [1.0 - a / b for a, b in zip(with_lineage[db], without[db], strict=True)]
        lineage_cost = Measurement(
            NAME,
            "lineage cost (1 - with/without, paired runs)",
            "factflow",
            "fraction",
            cost,
            database=db,
            target=f"<= {MAX_LINEAGE_COST:.0%}",
        )
        lineage_cost.met = lineage_cost.summary["p50"] <= MAX_LINEAGE_COST
        ctx.add(lineage_cost)
    for system, results in prefect.items():
        if not results:
            continue
        theirs = ctx.add(
            Measurement(
                NAME,
                f"trivial tasks/s, client side ({tasks} tasks in one flow)",
                system,
                "tasks/s",
                [r["tasks_per_s"] for r in results],
                database="sqlite",
                notes="task runs the server had persisted when counting stopped: "
                + "; ".join(
                    f"{r['persisted']}/{tasks} {r['states']} ({r['persisted_after_s']} s after "
                    "the flow returned)"
                    for r in results
                ),
                extra={"runs": results},
            )
        )
        ctx.add(
            Measurement(
                NAME,
                "task runs persisted by the server per second",
                system,
                "runs/s",
                [r["server_rows_per_s"] for r in results],
                database="sqlite",
                notes="persisted task runs / (flow time + time until the count stopped growing)",
            )
        )
        for db, mine in ours.items():
            ctx.compare(
                NAME, "steps/s with lineage, FactFlow / Prefect tasks/s", mine, theirs, database=db
            )
