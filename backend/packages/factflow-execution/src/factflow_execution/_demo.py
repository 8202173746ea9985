"""The demo: run the example pipeline through ``ExecutionService`` and show it.

``python -m factflow_execution`` (the README's ``./dev demo``) applies
``examples/pipelines/facts.yaml``, runs it over the ``METADATA`` files of the
installed Python packages, waits for the result, prints the execution, its
per-route stats, the DAG and where the artifacts went, then replays the
messages that failed on purpose (the example's flaky sink) to show replay.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import sysconfig
from datetime import timedelta
from pathlib import Path

from factflow_foundation import FactFlowError, FactFlowSettings

from factflow_execution._dag import DAGResponse
from factflow_execution._models import ConfigSourceType, ExecutionStats, ReplaySource
from factflow_execution._service import ExecutionService

__all__ = ["main"]


def _default_config() -> Path:
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "examples" / "pipelines" / "facts.yaml"
        if candidate.is_file():
            return candidate
    raise SystemExit("demo: cannot find examples/pipelines/facts.yaml; pass --config")


def format_stats(stats: ExecutionStats) -> str:
    """A plain-text per-route table."""
    header = f"{'route':<12} {'received':>9} {'processed':>9} {'filtered':>9} {'failed':>7}"
    lines = [header, "-" * len(header)]
    for name, route in stats.routes.items():
        lines.append(
            f"{name:<12} {route.received:>9} {route.processed:>9} "
            f"{route.filtered:>9} {route.failed:>7}"
        )
    t = stats.totals
    lines.append("-" * len(header))
    lines.append(f"{'total':<12} {t.received:>9} {t.processed:>9} {t.filtered:>9} {t.failed:>7}")
    return "\n".join(lines)


def format_dag(dag: DAGResponse) -> str:
    """The DAG as indented arrows, sources first."""
    out: dict[str, list[str]] = {}
    for edge in dag.edges:
        out.setdefault(edge.source, []).append(f"{edge.target} ({edge.messages} msgs)")
    lines = []
    for node in dag.nodes:
        what = node.adapter or ", ".join(node.processors) or "pass-through"
        lines.append(f"[{node.kind}] {node.id}: {what}  ({node.stats.processed} processed)")
        for target in out.get(node.id, []):
            lines.append(f"    └─▶ {target}")
    return "\n".join(lines)


async def run_demo(settings: FactFlowSettings, config_path: Path, source_dir: Path) -> int:
    service = ExecutionService.from_settings(settings)
    await service.startup(migrate=True)
    try:
        text = await asyncio.to_thread(config_path.read_text)
        config, created = await service.save_config(text, filename=str(config_path))
        print(
            f"config {config.name!r} version {config.version}"
            f" ({'new' if created else 'unchanged'}) from {config_path}"
        )
        execution = await service.run(
            config.name, params={"source_dir": str(source_dir)}, source=ConfigSourceType.DEMO
        )
        print(f"execution {execution.id} started over {source_dir}")
        result = await service.wait(execution.id, timeout=timedelta(minutes=10))
        if result.timed_out or result.stats is None:
            print("demo: the run did not finish within 10 minutes", file=sys.stderr)
            return 1
        print(f"status: {result.status}" + (f" ({result.error})" if result.error else ""))
        print(format_stats(result.stats))
        print(
            f"\nstorage: {result.stats.storage_objects} objects, "
            f"{result.stats.storage_bytes} bytes under "
            f"{settings.resolved_storage_dir / execution.id}"
        )
        print("\nDAG:\n" + format_dag(await service.dag(execution.id)))
        if result.stats.totals.failed:
            print(
                f"\n{result.stats.totals.failed} messages failed on purpose (the flaky sink); "
                "replaying them from the run's snapshot:"
            )
            replay = await service.replay(ReplaySource(parent_execution_id=execution.id))
            again = await service.wait(replay.id, timeout=timedelta(minutes=10))
            if again.stats is not None:
                print(
                    f"replay {replay.id}: {again.status}, "
                    f"{again.stats.totals.processed} processed, {again.stats.totals.failed} failed"
                )
        print(f"\ndatabase: {service.db.url}")
        return 0 if result.status == "completed" else 1
    finally:
        await service.shutdown()
        await service.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m factflow_execution", description=__doc__)
    parser.add_argument("--config", type=Path, default=None, help="pipeline config file")
    parser.add_argument(
        "--source-dir",
        type=Path,
        default=Path(sysconfig.get_paths()["purelib"]),
        help="directory the example reads (default: this Python's site-packages)",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="FactFlow data directory")
    args = parser.parse_args(argv)
    overrides = {"data_dir": args.data_dir} if args.data_dir else {}
    settings = FactFlowSettings(**overrides)
    try:
        return asyncio.run(run_demo(settings, args.config or _default_config(), args.source_dir))
    except FactFlowError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
