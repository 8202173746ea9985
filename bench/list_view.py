"""4. List view at scale: 100k finished executions, a few running ones holding 1M
lineage rows between them (one of them 1M by itself), seeded with bulk inserts.

Measured in-process (``ExecutionService.list`` / ``stats``) and over HTTP
(``GET /api/v1/executions?limit=50`` unfiltered, by status, by config; the
stats endpoint of the running execution with 1M lineage rows), each p50/p95.
Side by side, alternated: Prefect's ``read_flow_runs(limit=50)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from factflow_execution import ExecutionService

from bench._core import Context, Measurement, timer_ms
from bench._databases import throwaway_database
from bench._factflow import open_service
from bench._prefect import PrefectPeer
from bench._procs import LineWorker
from bench._seed import CONFIG_NAMES, seed
from bench._server import factflow_server, server_binary

NAME = "list_view"
TARGET_P95_MS = 10.0

Call = Callable[[], Awaitable[Any]]


async def _time(call: Call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = timer_ms()
        await call()
        out.append(timer_ms() - started)
    return out


def _http_get(client: httpx.AsyncClient, path: str, **params: Any) -> Call:
    async def call() -> None:
        response = await client.get(path, params=params)
        response.raise_for_status()

    return call


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    finished = ctx.scale(100_000, 10_000)
    big = ctx.scale(1_000_000, 100_000)
    small = ctx.scale(10_000, 1_000)
    per_round = ctx.scale(50, 6)
    rounds = ctx.scale(4, 2)
    prefect_worker: LineWorker | None = None
    prefect_runs = 0
    if peer is not None:
        prefect_worker = await peer.worker(fastest=True)
        await prefect_worker.ask({"op": "seed_flow_runs", "n": ctx.scale(1000, 100)}, timeout=1800)
        prefect_runs = int((await prefect_worker.ask({"op": "count_flow_runs"}))["count"])
    prefect_samples: list[float] = []
    try:
        for db in ctx.databases:
            async with throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url:
                seeded = await seed(
                    url, finished=finished, running=4, big_lineage=big, small_lineage=small
                )
                total_lineage = sum(seeded.lineage_rows.values())
                ctx.notes.append(
                    f"list_view [{db}]: seeded {finished:,} finished + 4 running executions and "
                    f"{total_lineage:,} lineage rows in {seeded.seconds['executions']} s + "
                    f"{seeded.seconds['lineage']} s"
                )
                print(f"    seeded {db}: {seeded.seconds}", flush=True)
                big_id = seeded.big_running_id
                samples: dict[str, list[float]] = {}
                try:
                    server_binary()
                    have_server = True
                except Exception:
                    have_server = False
                async with open_service(
                    url, ctx.work_dir / f"data-{NAME}-{db}", migrate=False
                ) as svc:
                    calls: dict[str, Call] = _in_process_calls(svc, big_id)
                    if have_server:
                        async with (
                            factflow_server(
                                url,
                                ctx.work_dir / f"data-{NAME}-{db}-srv",
                                ctx.work_dir / f"server-{NAME}-{db}.log",
                            ) as server,
                            server.client() as client,
                        ):
                            calls.update(_http_calls(client, big_id))
                            await _measure_rounds(
                                calls, samples, rounds, per_round, prefect_worker, prefect_samples
                            )
                    else:
                        ctx.skip(NAME, "HTTP list", "factflow-server not installed")
                        await _measure_rounds(
                            calls, samples, rounds, per_round, prefect_worker, prefect_samples
                        )
            for label, values in samples.items():
                m = Measurement(NAME, label, "factflow", "ms", values, database=db, stat="p95")
                if label.startswith(("list", "HTTP list")):
                    m.target = f"p95 <= {TARGET_P95_MS:g} ms"
                    m.met = m.summary["p95"] <= TARGET_P95_MS
                ctx.add(m)
        if prefect_samples:
            theirs = ctx.add(
                Measurement(
                    NAME,
                    "read_flow_runs(limit=50)",
                    "prefect (fastest)",
                    "ms",
                    prefect_samples,
                    database="sqlite",
                    stat="p95",
                    notes=f"Prefect's server held {prefect_runs:,} flow runs (not 100k: "
                    "creating them through its API takes too long for one benchmark run)",
                )
            )
            for mine in ctx.measurements:
                if mine.benchmark == NAME and mine.measure == "HTTP list, unfiltered":
                    ctx.compare(
                        NAME,
                        "list 50, Prefect read_flow_runs / FactFlow HTTP list (100k rows)",
                        theirs,
                        mine,
                        database=mine.database,
                    )
    finally:
        if prefect_worker is not None:
            await prefect_worker.close()


def _in_process_calls(svc: ExecutionService, big_id: str) -> dict[str, Call]:
    async def unfiltered() -> None:
        await svc.list(limit=50)

    async def by_status() -> None:
        await svc.list(status="completed", limit=50)

    async def by_config() -> None:
        await svc.list(config_name=CONFIG_NAMES[7], limit=50)

    async def stats() -> None:
        await svc.stats(big_id)

    return {
        "list, in-process, unfiltered": unfiltered,
        "list, in-process, status=completed": by_status,
        "list, in-process, config=cfg-07": by_config,
        "stats of a running execution with 1M lineage rows, in-process": stats,
    }


def _http_calls(client: httpx.AsyncClient, big_id: str) -> dict[str, Call]:
    return {
        "HTTP list, unfiltered": _http_get(client, "/executions", limit=50),
        "HTTP list, status=completed": _http_get(
            client, "/executions", limit=50, status="completed"
        ),
        "HTTP list, config=cfg-07": _http_get(
            client, "/executions", limit=50, config=CONFIG_NAMES[7]
        ),
        "HTTP stats of the running execution with 1M lineage rows": _http_get(
            client, f"/executions/{big_id}/stats"
        ),
    }


async def _measure_rounds(
    calls: dict[str, Call],
    samples: dict[str, list[float]],
    rounds: int,
    per_round: int,
    prefect: LineWorker | None,
    prefect_samples: list[float],
) -> None:
    for call in calls.values():  # warm-up
        await _time(call, 3)
    for _ in range(rounds):
        for label, call in calls.items():
            n = max(3, per_round // 5) if "stats" in label else per_round
            samples.setdefault(label, []).extend(await _time(call, n))
        if prefect is not None:
            reply = await prefect.ask({"op": "read_flow_runs", "n": per_round})
            prefect_samples.extend(float(x) for x in reply["ms"])
