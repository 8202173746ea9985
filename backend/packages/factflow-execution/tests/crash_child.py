"""A process that runs (or resumes) one execution and may die at a seeded crash point.

Run as ``python crash_child.py DATA_DIR DATABASE_URL run|resume:ID``; it prints
``STARTED <id>`` and, if it lives, ``DONE <id> <status>``.  The environment
variable ``CRASH`` = ``<point>:<k>`` names where it kills itself with SIGKILL
(a real crash: no cleanup, no flush):

* ``mid:<k>`` - inside the k-th message the ``mid`` route processes in this
  process: between processing and the lineage flush (the message in progress
  and the lineage batch not yet written die with it);
* ``store:<k>`` - after the k-th object the ``store`` route stored (bytes and
  ``storage_objects`` row committed: it waits for the storage group commit),
  before its message's lineage row.

Lineage is written in batches of 3 and otherwise only on demand, so a crash
always finds unwritten rows.  Startup recovery of the next process interrupts
the dead one's run at once (same host, its pid is gone).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from factflow_engine import Registry
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_protocols import Message, ProcessorContext
from pydantic import BaseModel, ConfigDict

ITEMS = 16

CONFIG: dict[str, Any] = {
    "name": "crashy",
    "settings": {"queue_depth": 3, "max_retries": 0},
    "routes": {
        "src": {
            "adapter": {"type": "inline", "with": {"items": [{"i": i} for i in range(ITEMS)]}},
            "processors": [{"type": "twice"}],
            "to": ["mid"],
        },
        "mid": {"processors": [{"type": "crash_point", "with": {"route": "mid"}}],
                "to": ["store"], "concurrency": 2},
        "store": {"processors": [{"type": "crash_point", "with": {"route": "store"}}]},
    },
}  # fmt: skip
"""16 roots, each fanned out to 2: src 16, mid 32, store 32 processed, 32 objects."""

_seen: dict[str, int] = {}


def _crash_at(route: str) -> int | None:
    point, _, k = os.environ.get("CRASH", "").partition(":")
    return int(k) if point == route and k else None


def _count(route: str) -> bool:
    """Count one message at ``route``; whether this is the one to die at."""
    _seen[route] = _seen.get(route, 0) + 1
    return _seen[route] == _crash_at(route)


class Twice:
    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return [{**message.payload, "j": j} for j in range(2)]


class CrashPoint:
    """At ``mid``: passes the payload on; at ``store``: stores it, keyed by its content."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        route: str

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        payload = message.payload
        if self.options.route == "mid":
            if _count("mid"):
                os.kill(os.getpid(), signal.SIGKILL)
            return payload
        key = f"out/{payload['i']}-{payload['j']}.txt"
        await ctx.storage.put(
            key, f"{payload}".encode(), route=ctx.route, message_id=message.id
        )  # fmt: skip
        if _count("store"):
            flush = getattr(ctx.storage, "flush", None)  # the group commit: row durable
            if flush is not None:
                await flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return payload


def registry() -> Registry:
    found = Registry.from_entry_points()
    found.register_processor("twice", Twice)
    found.register_processor("crash_point", CrashPoint)
    return found


async def main(data_dir: str, database_url: str, what: str) -> None:
    settings = FactFlowSettings(
        data_dir=data_dir,
        database_url=database_url,
        lineage_batch_size=3,
        lineage_flush_interval=3600,
        cancel_grace=0,
        heartbeat_interval=0.5,
        scheduler=False,
    )
    service = ExecutionService.from_settings(settings, registry=registry())
    await service.startup()
    try:
        if what == "run":
            await service.save_config(CONFIG)
            execution = await service.run("crashy")
        else:
            parent = what.removeprefix("resume:")
            # Recovery interrupts the dead run at startup, or (PostgreSQL) on a
            # later beat once the dead process's last session is gone.
            await service.wait(parent, timeout=60)
            execution = await service.resume(parent)
        print("STARTED", execution.id, flush=True)
        result = await service.wait(execution.id, timeout=120)
        print("DONE", execution.id, result.status, flush=True)
    finally:
        await service.shutdown(grace=5)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
