"""7. CLI: whole-process time of ``factflow execution list`` (interpreter start and
imports included) against a server holding 1,000 executions; alternated with
``prefect flow-run ls`` against Prefect's server holding at least 1,000 flow runs."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bench._core import Context, Measurement, Skip, timer_ms
from bench._databases import throwaway_database
from bench._prefect import PrefectPeer
from bench._seed import seed
from bench._server import factflow_server

NAME = "cli"
TARGET_S = 0.3


def _cli() -> Path:
    binary = Path(sys.executable).parent / "factflow"
    if not binary.exists():
        raise Skip("the factflow CLI is not installed in this venv (factflow-cli package)")
    return binary


async def _whole_process(argv: Sequence[str], env: dict[str, str]) -> float:
    started = timer_ms()
    process = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    elapsed = (timer_ms() - started) / 1000.0
    if process.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {process.returncode}: {err.decode()[-500:]}")
    if not out.strip():
        raise RuntimeError(f"{' '.join(argv)} printed nothing")
    return elapsed


async def run(ctx: Context, peer: PrefectPeer | None) -> None:
    cli = _cli()
    n = ctx.scale(30, 3)
    prefect_env: dict[str, str] = {}
    if peer is not None:
        worker = await peer.worker(fastest=True)
        try:
            have = int((await worker.ask({"op": "count_flow_runs"}))["count"])
            if have < 1000:
                await worker.ask({"op": "seed_flow_runs", "n": 1000 - have}, timeout=1800)
        finally:
            await worker.close()
        prefect_env = peer.env(fastest=False)
    prefect_times: list[float] = []
    for db in ctx.databases:
        times: list[float] = []
        async with throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url:
            await seed(url, finished=1000, running=0, big_lineage=0, small_lineage=0)
            async with factflow_server(
                url, ctx.work_dir / f"data-{NAME}-{db}", ctx.work_dir / f"server-{NAME}-{db}.log"
            ) as server:
                ours = [str(cli), "--server", server.base_url, "execution", "list"]
                theirs = [str(peer.prefect_cli), "flow-run", "ls"] if peer is not None else None
                await _whole_process(ours, {})  # warm the page cache
                if theirs is not None:
                    await _whole_process(theirs, prefect_env)
                for _ in range(n):  # alternate the two
                    times.append(await _whole_process(ours, {}))
                    if theirs is not None:
                        prefect_times.append(await _whole_process(theirs, prefect_env))
        m = Measurement(
            NAME,
            "`factflow execution list`, whole process (1,000 executions)",
            "factflow",
            "s",
            times,
            database=db,
            target=f"p50 <= {TARGET_S:g} s",
        )
        m.met = m.summary["p50"] <= TARGET_S
        ctx.add(m)
    if prefect_times:
        theirs_m = ctx.add(
            Measurement(
                NAME,
                "`prefect flow-run ls`, whole process (>= 1,000 flow runs)",
                "prefect (default)",
                "s",
                prefect_times,
                database="sqlite",
            )
        )
        ours_m = [x for x in ctx.measurements if x.benchmark == NAME and x.system == "factflow"]
        for mine in ours_m:
            ctx.compare(
                NAME, "list command, Prefect / FactFlow", theirs_m, mine, database=mine.database
            )
