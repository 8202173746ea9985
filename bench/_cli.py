"""``python -m bench [--quick] [--no-peer] [--db sqlite,postgresql] [names...]``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._core import Context, Skip
from bench._databases import DEFAULT_POSTGRES, probe_postgres
from bench._machine import machine_info
from bench._prefect import PrefectPeer, prefect_peer
from bench._report import render_markdown

__all__ = ["BENCHMARKS", "main"]

ROOT = Path(__file__).resolve().parent

#: name -> (module, needs the Prefect peer, what it measures)
BENCHMARKS: dict[str, tuple[str, bool, str]] = {
    "overhead": ("bench.overhead", True, "run overhead in-process, Prefect trivial flow"),
    "overhead_http": ("bench.overhead_http", False, "run overhead over HTTP (uvicorn)"),
    "completion": ("bench.completion", False, "completion detection, in- and cross-process"),
    "throughput": ("bench.throughput", True, "route-steps/s with and without lineage"),
    "list_view": ("bench.list_view", True, "list view at 100k executions + 1M lineage rows"),
    "sse": ("bench.sse", False, "200 SSE subscribers: delay and server RSS"),
    "concurrency": ("bench.concurrency", False, "500 concurrent runs: RSS, start latency"),
    "cli": ("bench.cli", True, "`factflow execution list` whole-process time"),
    "idle": ("bench.idle", True, "idle server RSS"),
    "bounded": ("bench.bounded", False, "RSS while 1,000,000 messages run through a slow route"),
    "ui": ("bench.ui", False, "web UI in Chromium: bundle, list at 100k, a fast run followed"),
    "storage": ("bench.storage", False, "objects/s of a storage-writing pipeline vs pass-through"),
    "list_under_load": (
        "bench.list_under_load",
        False,
        "GET /executions?limit=50 during 50 writing runs and 100 SSE followers",
    ),
}

Runner = Callable[[Context, PrefectPeer | None], Awaitable[None]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all): {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: about a minute in all")
    parser.add_argument("--no-peer", action="store_true", help="do not run the Prefect side")
    parser.add_argument(
        "--db",
        default="sqlite,postgresql",
        help="databases to use, comma-separated (default: sqlite,postgresql)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("FACTFLOW_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="PostgreSQL admin URL; throwaway databases are created and dropped there",
    )
    parser.add_argument("--out", type=Path, default=None, help="results JSON path")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--render", type=Path, default=None, help="print the Markdown table of a results JSON"
    )
    return parser


async def _main(args: argparse.Namespace, argv: list[str]) -> int:
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(
            f"bench: unknown benchmark(s): {', '.join(unknown)}; "
            f"choose from {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results_dir = ROOT / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    out = args.out or results_dir / f"bench-{stamp}{'-quick' if args.quick else ''}.json"
    work_dir = Path(tempfile.mkdtemp(prefix=f"work-{stamp}-", dir=results_dir))
    databases = [d.strip() for d in args.db.split(",") if d.strip()]
    admin_url: str | None = args.postgres
    if "postgresql" in databases:
        reason = await probe_postgres(args.postgres)
        if reason is not None:
            print(f"bench: {reason}; running on SQLite only", file=sys.stderr)
            databases.remove("postgresql")
            admin_url = None
    ctx = Context(
        quick=args.quick,
        databases=databases,
        work_dir=work_dir,
        peer=not args.no_peer,
        postgres_admin_url=admin_url,
    )
    info = await machine_info(admin_url, argv)
    print(
        f"bench: {', '.join(names)} on {', '.join(databases)}; {info['cores']} cores, "
        f"Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL {info['postgresql']}",
        flush=True,
    )
    timings: dict[str, float] = {}
    failures: dict[str, str] = {}
    async with AsyncExitStack() as stack:
        peer: PrefectPeer | None = None
        if ctx.peer and any(BENCHMARKS[n][1] for n in names):
            try:
                peer = await stack.enter_async_context(prefect_peer(work_dir))
                info["prefect"] = peer.version
                print(f"bench: Prefect {peer.version} server at {peer.api_url}", flush=True)
            except Skip as exc:
                ctx.skip("*", "Prefect side", str(exc))
        for name in names:
            module_name, needs_peer, what = BENCHMARKS[name]
            print(f"== {name}: {what}", flush=True)
            started = time.monotonic()
            try:
                module = importlib.import_module(module_name)
                runner: Runner = module.run
                await runner(ctx, peer if needs_peer else None)
            except Skip as exc:
                ctx.skip(name, "whole benchmark", str(exc))
            except Exception as exc:  # one broken benchmark must not lose the others
                traceback.print_exc()
                failures[name] = f"{type(exc).__name__}: {exc}"
            timings[name] = round(time.monotonic() - started, 1)
    info["load_average_at_end"] = list(os.getloadavg())
    document: dict[str, Any] = {
        "machine": info,
        "quick": args.quick,
        "benchmarks": names,
        "seconds": timings,
        "failures": failures,
        "skipped": ctx.skipped,
        "notes": ctx.notes,
        "measurements": [m.to_json() for m in ctx.measurements],
        "comparisons": [c.to_json() for c in ctx.comparisons],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1, default=str) + "\n", encoding="utf-8")
    markdown = render_markdown(document)
    md_path = args.markdown or out.with_suffix(".md")
    md_path.write_text(markdown, encoding="utf-8")
    if failures:
        print(f"bench: logs kept in {work_dir}", flush=True)
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    print(f"bench: results in {out} and {md_path}", flush=True)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(raw)
    if args.render is not None:
        print(render_markdown(json.loads(args.render.read_text(encoding="utf-8"))), end="")
        return 0
    if args.list:
        for name, (_, _, what) in BENCHMARKS.items():
            print(f"{name:14} {what}")
        return 0
    return asyncio.run(_main(args, ["python", "-m", "bench", *raw]))
