"""1. Run overhead: a trivial one-message pipeline, run then wait, sequentially.

In-process: ``ExecutionService.run`` + ``ExecutionWaiter`` from "run this
config" to "the caller holds the terminal result".  Side by side: a trivial
Prefect flow call, default and fastest configuration, in the same rounds.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from factflow_execution import ExecutionService

from bench._core import Context, Measurement, timer_ms
from bench._databases import throwaway_database
from bench._factflow import open_service, trivial_config
from bench._prefect import PrefectPeer
from bench._procs import LineWorker

NAME = "overhead"
TARGETS_MS = {"sqlite": 5.0, "postgresql": 10.0}


async def _factflow_batch(service: ExecutionService, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = timer_ms()
        execution = await service.run("bench-trivial")
        result = await service.wait(execution.id, timeout=30)
        times.append(timer_ms() - started)
        if result.status != "completed":
            raise RuntimeError(f"trivial run ended {result.status}: {result.error}")
    return times


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    rounds = ctx.scale(4, 2)
    per_round = ctx.scale(50, 15)
    prefect_default_per_round = ctx.scale(5, 2)
    prefect_fastest_per_round = ctx.scale(15, 5)
    samples: dict[str, list[float]] = {db: [] for db in ctx.databases}
    peer_samples: dict[str, list[float]] = {"prefect (default)": [], "prefect (fastest)": []}
    async with AsyncExitStack() as stack:
        services: dict[str, ExecutionService] = {}
        for db in ctx.databases:
            url = await stack.enter_async_context(
                throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url)
            )
            service = await stack.enter_async_context(
                open_service(url, ctx.work_dir / f"data-{NAME}-{db}")
            )
            await service.save_config(trivial_config())
            await _factflow_batch(service, ctx.scale(20, 5))  # warm-up
            services[db] = service
        workers: dict[str, LineWorker] = {}
        if peer is not None:
            for fastest in (False, True):
                worker = await peer.worker(fastest)
                stack.push_async_callback(worker.close)
                await worker.ask({"op": "flows", "n": 2})  # warm-up
                workers["prefect (fastest)" if fastest else "prefect (default)"] = worker
        for _ in range(rounds):
            for db, service in services.items():
                samples[db] += await _factflow_batch(service, per_round)
            for system, worker in workers.items():
                n = prefect_fastest_per_round if "fastest" in system else prefect_default_per_round
                reply = await worker.ask({"op": "flows", "n": n})
                peer_samples[system] += [float(x) for x in reply["ms"]]
    measure = "run overhead, in-process (run + wait)"
    peers = {}
    for system, values in peer_samples.items():
        if values:
            peers[system] = ctx.add(
                Measurement(
                    NAME,
                    "trivial flow call",
                    system,
                    "ms",
                    values,
                    notes="flow() call to return, against Prefect's local server on SQLite",
                )
            )
    for db, values in samples.items():
        ours = Measurement(
            NAME,
            measure,
            "factflow",
            "ms",
            values,
            database=db,
            target=f"p50 <= {TARGETS_MS[db]:g} ms",
        )
        ours.met = ours.summary["p50"] <= TARGETS_MS[db]
        ctx.add(ours)
        for system, theirs in peers.items():
            ctx.compare(
                NAME,
                "trivial run, Prefect / FactFlow",
                theirs,
                ours,
                database=db,
                at_least=20.0 if system == "prefect (fastest)" else None,
            )
