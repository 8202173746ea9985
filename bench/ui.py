"""11. The web UI in a real browser (Debian's Chromium through Playwright).

* Bundle: the production build's JavaScript and CSS, gzip -9, in KB.
* Executions page at 100k runs (the list_view seed): navigation start -> the
  first execution row on screen, cold (empty cache) and warm, unfiltered and
  filtered; and "Older" (client-side paging) -> the next page's rows.
* Execution page under a fast run: the server runs the throughput
  benchmark's pipeline (``src`` yields integers and fans each out x10 ->
  ``mid`` -> ``sink``, trivial processors: 21 route-steps per source item,
  lineage on), first unwatched, then while the browser shows it from its
  start.  Sampled every 200 ms: how many events of the log the page has
  applied against how many the server has written (the backlog; growing means
  the second half of the run is further behind than the first), how often the
  timeline re-rendered (coalesced: at most 10/s), long tasks, how long after
  the server's terminal commit the page showed the terminal status, and the
  run's route-steps/s watched and unwatched (what the page costs the server).
  The bench components are named by import path (``bench._factflow:…``), so
  the server runs with ``FACTFLOW_ALLOW_IMPORT_PATHS=true`` and the repository
  root on ``PYTHONPATH``.

The browser side is ``frontend/bench/ui-bench.mjs`` (node + playwright-core);
this module seeds, serves, and summarises.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from bench._core import Context, Measurement, Skip
from bench._databases import throwaway_database
from bench._seed import CONFIG_NAMES, seed
from bench._server import factflow_server, save_config

NAME = "ui"
ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
BUILD = ROOT / "backend/packages/factflow-server/src/factflow_server/_ui"
CHROMIUM = Path(os.environ.get("FACTFLOW_CHROMIUM", "/usr/bin/chromium"))
BUNDLE_TARGET_KB = 400.0
USABLE_TARGET_MS = 1000.0
STEPS_TARGET = 20_000.0
RENDERS_PER_S_MAX = 10.0
FOLLOW_CONFIG = "bench-ui-follow"


def follow_config(items: int) -> dict[str, Any]:
    """The throughput benchmark's pipeline, its components named by import path."""
    component = "bench._factflow:"
    return {
        "name": FOLLOW_CONFIG,
        "settings": {"timeout": 3600},
        "routes": {
            "src": {
                "adapter": {"type": f"{component}BenchRange", "with": {"n": items}},
                "processors": [{"type": f"{component}BenchFanout", "with": {"k": 10}}],
                "to": "mid",
            },
            "mid": {"processors": [{"type": f"{component}BenchPass"}], "to": "sink"},
            "sink": {"processors": [{"type": f"{component}BenchPass"}]},
        },
    }


def _require_tools() -> None:
    if shutil.which("node") is None:
        raise Skip("node is not installed (the UI benchmark drives the browser from node)")
    if not (FRONTEND / "node_modules" / "@playwright" / "test").is_dir():
        raise Skip("the frontend's packages are not installed (./dev setup)")
    if not CHROMIUM.exists():
        raise Skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not (BUILD / "index.html").is_file():
        raise Skip("the UI is not built (./dev setup)")


async def _browser(mode: str, args: dict[str, Any], timeout: float) -> Any:
    process = await asyncio.create_subprocess_exec(
        "node",
        "bench/ui-bench.mjs",
        mode,
        json.dumps(args),
        cwd=FRONTEND,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "FACTFLOW_CHROMIUM": str(CHROMIUM)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(f"the browser benchmark ({mode}) took over {timeout:.0f} s") from None
    if process.returncode != 0:
        raise RuntimeError(f"ui-bench.mjs {mode} failed:\n{err.decode()[-3000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])


def _bundle(ctx: Context) -> None:
    sizes = {
        path.name: len(gzip.compress(path.read_bytes(), compresslevel=9))
        for path in (BUILD / "assets").iterdir()
        if path.suffix in (".js", ".css")
    }
    total_kb = sum(sizes.values()) / 1024
    m = Measurement(NAME, "production bundle, gzip -9 (JS + CSS)", "factflow", "KB", [total_kb])
    m.target = f"<= {BUNDLE_TARGET_KB:g} KB"
    m.met = total_kb <= BUNDLE_TARGET_KB
    m.notes = ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in sorted(sizes.items()))
    ctx.add(m)


async def _list(ctx: Context, db: str, base_url: str) -> None:
    rounds = ctx.scale(15, 1)
    samples = await _browser(
        "list", {"url": base_url, "rounds": rounds, "config": CONFIG_NAMES[7]}, 900
    )
    labels = {
        "cold": "executions page usable (first rows), empty cache",
        "warm": "executions page usable (first rows), cached assets",
        "filtered": "executions page usable, status=completed & config filter",
        "next_page": "'Older' click -> next page's rows",
    }
    for key, label in labels.items():
        m = Measurement(NAME, label, "factflow", "ms", samples[key], database=db, stat="p95")
        if key in ("cold", "warm", "filtered"):
            m.target = f"p95 <= {USABLE_TARGET_MS:g} ms"
            m.met = m.summary["p95"] <= USABLE_TARGET_MS
        ctx.add(m)


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _steps(execution: dict[str, Any]) -> tuple[int, float]:
    """Route-steps of a finished run and their rate over its started -> finished time."""
    routes = (execution.get("stats") or {}).get("routes") or {}
    steps = sum(int(r.get("processed", 0)) + int(r.get("filtered", 0)) for r in routes.values())
    run_s = _seconds(execution["started_at"], execution["finished_at"])
    return steps, (steps / run_s if run_s > 0 else 0.0)


async def _unwatched(api_url: str) -> dict[str, Any]:
    """The same run with no browser watching: what the server does alone."""
    import httpx

    async with httpx.AsyncClient(base_url=api_url, timeout=330.0) as client:
        started = await client.post(f"/configs/{FOLLOW_CONFIG}/run", json={})
        started.raise_for_status()
        execution_id = started.json()["id"]
        for _ in range(12):  # the long poll answers within 300 s; an hour at most
            waited = await client.get(f"/executions/{execution_id}/wait", params={"timeout": 300})
            waited.raise_for_status()
            if not waited.json().get("timed_out"):
                break
        else:
            raise RuntimeError(f"the unwatched run {execution_id} did not finish within an hour")
        row = await client.get(f"/executions/{execution_id}")
        row.raise_for_status()
        result: dict[str, Any] = row.json()
        return result


async def _follow(ctx: Context, db: str, server_url: str, api_url: str) -> None:
    import httpx

    items = ctx.scale(10_000, 200)
    async with httpx.AsyncClient(base_url=api_url, timeout=120.0) as client:
        await save_config(client, follow_config(items))
    alone = await _unwatched(api_url)
    _, alone_rate = _steps(alone)
    result = await _browser("follow", {"url": server_url, "config": FOLLOW_CONFIG}, 1800)
    steps, rate = _steps(result)
    m = ctx.add(
        Measurement(
            NAME,
            f"route-steps/s of the watched run ({steps:,} steps, lineage on)",
            "factflow",
            "steps/s",
            [rate],
            database=db,
            target=f">= {STEPS_TARGET:,.0f} steps/s",
            met=rate >= STEPS_TARGET,
        )
    )
    m.notes = (
        f"status {result['status']}; sink shows {result['dag_sink_processed']} processed; "
        f"the same run unwatched: {alone_rate:,.0f} steps/s"
    )
    backlog = result["backlog"]
    # While the run runs and once the page follows it (its first event shown):
    # the page's start-up before that, and the catch-up after the run ended,
    # are measured apart (the terminal status line below).
    following = next((i for i, s in enumerate(backlog) if s["browser"] > 0), len(backlog))
    steady = [s for s in backlog[following:] if not s["done"]]
    behind = [max(0, s["server"] - s["browser"]) for s in steady]
    half = len(behind) // 2
    first, second = max(behind[:half] or [0]), max(behind[half:] or [0])
    # Growing means the second half is behind by more on average; single
    # samples of a few events are one coalescing window (100 ms) plus the
    # 200 ms sampling, not a trend.
    first_mean = sum(behind[:half]) / max(1, half)
    second_mean = sum(behind[half:]) / max(1, len(behind) - half)
    ctx.add(
        Measurement(
            NAME,
            "events the page is behind the server's log (sampled every 200 ms)",
            "factflow",
            "events",
            [float(b) for b in behind] or [0.0],
            database=db,
            stat="max",
            target="no growing backlog (second half's mean <= first half's + 1 event)",
            met=bool(behind) and second_mean <= first_mean + 1,
            notes=(
                f"{len(behind)} samples while the run ran, after the page's first event "
                f"(at {backlog[following]['t'] if following < len(backlog) else 0:.1f} s); "
                f"first half mean {first_mean:.2f} max {first}, "
                f"second half mean {second_mean:.2f} max {second}; "
                f"{backlog[-1]['server'] if backlog else 0} events in the log"
            ),
        )
    )
    catch_up = ctx.add(
        Measurement(
            NAME,
            "server terminal commit -> page shows the terminal status",
            "factflow",
            "ms",
            [float(result["catch_up_ms"])],
            database=db,
            target="<= 1000 ms",
            met=result["catch_up_ms"] <= 1000,
        )
    )
    catch_up.notes = "includes up to 200 ms of sampling interval"
    watched = max(result["watched_s"], 1e-3)
    renders = result["renders"] / watched
    ctx.add(
        Measurement(
            NAME,
            "timeline re-renders per second while following",
            "factflow",
            "renders/s",
            [renders],
            database=db,
            target=f"<= {RENDERS_PER_S_MAX:g}/s (coalesced)",
            met=renders <= RENDERS_PER_S_MAX,
            notes=f"{result['renders']} renders in {watched:.1f} s",
        )
    )
    ctx.add(
        Measurement(
            NAME,
            "long tasks (> 50 ms) on the page's main thread while following",
            "factflow",
            "ms",
            [float(result["long_task_ms"])],
            database=db,
            notes=f"{result['long_tasks']} long tasks in {watched:.1f} s",
        )
    )


async def run(ctx: Context, peer: object | None) -> None:
    del peer
    _require_tools()
    _bundle(ctx)
    if ctx.quick:
        # The --quick smoke run stays short: starting a browser and a seeded server
        # is left to full runs (the Playwright tests drive the same pages).
        ctx.skip(NAME, "browser measurements", "left to full runs (--quick)")
        return
    finished = ctx.scale(100_000, 2_000)
    for db in ctx.databases:
        async with throwaway_database(db, ctx.work_dir, ctx.postgres_admin_url) as url:
            seeded = await seed(url, finished=finished, running=0, big_lineage=0, small_lineage=0)
            ctx.notes.append(
                f"ui [{db}]: seeded {finished:,} finished executions in "
                f"{seeded.seconds['executions']} s"
            )
            async with factflow_server(
                url,
                ctx.work_dir / f"data-{NAME}-{db}",
                ctx.work_dir / f"server-{NAME}-{db}.log",
                # The followed run's components are the bench's, named by import path.
                env={
                    "FACTFLOW_ALLOW_IMPORT_PATHS": "true",
                    "PYTHONPATH": os.pathsep.join(
                        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
                    ),
                },
            ) as server:
                await _list(ctx, db, server.base_url)
                await _follow(ctx, db, server.base_url, server.api)
