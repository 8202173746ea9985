"""Bulk seeding of a FactFlow database: finished executions, running ones, lineage.

Executions go in with multi-row ``INSERT``s (SQLAlchemy ``executemany``,
10,000 rows per transaction); lineage rows through the product's own bulk path,
``factflow_lineage.writer.BatchWriter.write`` (``COPY`` on PostgreSQL,
``executemany`` on SQLite).  The running executions belong to a simulated
server process on another host whose heartbeat is fresh for a day, so no
recovery reaps them while the benchmark runs.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from factflow_foundation import new_id
from factflow_infra.db import Database, pipeline_configs, pipeline_executions, upgrade_to_head
from factflow_lineage.writer import BatchWriter
from sqlalchemy import insert

__all__ = ["Seeded", "seed"]

ROUTES = ("discover", "transform", "store")
CONFIG_NAMES = [f"cfg-{i:02d}" for i in range(20)]
_REMOTE_OWNER = "bench-seed-elsewhere:1:seed"


def _definition(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": None,
        "params": {},
        "settings": {
            "timeout": 600.0,
            "on_message_error": "continue",
            "max_retries": 2,
            "retry_backoff": 0.05,
            "retry_backoff_max": 2.0,
        },
        "routes": {
            "discover": {
                "description": None,
                "adapter": {"type": "inline", "with": {"items": [1, 2, 3]}},
                "processors": [{"type": "filter", "with": {}}],
                "to": ["transform"],
                "concurrency": 4,
                "max_retries": None,
            },
            "transform": {
                "description": None,
                "adapter": None,
                "processors": [{"type": "dedupe", "with": {}}],
                "to": ["store"],
                "concurrency": 4,
                "max_retries": None,
            },
            "store": {
                "description": None,
                "adapter": None,
                "processors": [{"type": "storage_write", "with": {}}],
                "to": [],
                "concurrency": 4,
                "max_retries": None,
            },
        },
    }


def _stats(processed: int, failed: int, seconds: float) -> dict[str, Any]:
    routes = {}
    for route in ROUTES:
        routes[route] = {
            "received": processed + failed,
            "processed": processed,
            "failed": failed,
            "filtered": 0,
            "cancelled": 0,
            "in_flight": 0,
            "duration_ms_total": processed * 1.5,
            "duration_ms_avg": 1.5,
            "duration_ms_max": 9.0,
            "first_started_at": None,
            "last_finished_at": None,
        }
    total = len(ROUTES)
    return {
        "totals": {
            "received": total * (processed + failed),
            "processed": total * processed,
            "failed": total * failed,
            "filtered": 0,
            "cancelled": 0,
            "in_flight": 0,
        },
        "routes": routes,
        "storage_objects": processed,
        "storage_bytes": processed * 512,
        "duration_seconds": seconds,
        "failure_events_suppressed": 0,
        "live": False,
    }


@dataclass
class Seeded:
    finished: int
    running_ids: list[str]
    lineage_rows: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def big_running_id(self) -> str:
        return max(self.lineage_rows, key=lambda k: self.lineage_rows[k])


async def seed(
    url: str, *, finished: int, running: int, big_lineage: int, small_lineage: int
) -> Seeded:
    """Migrate ``url`` and fill it; the newest rows are the running executions."""
    rng = random.Random(6)
    db = Database(url)
    seconds: dict[str, float] = {}
    try:
        await upgrade_to_head(db)
        now = datetime.now(UTC)
        configs = []
        for name in CONFIG_NAMES:
            configs.append(
                {
                    "id": new_id(),
                    "name": name,
                    "version": 1,
                    "definition": _definition(name),
                    "checksum": f"{rng.getrandbits(256):064x}",
                    "description": None,
                    "created_at": now - timedelta(days=31),
                    "archived_at": None,
                }
            )
        async with db.transaction() as conn:
            await conn.execute(insert(pipeline_configs), configs)
        snapshots = {
            c["name"]: {
                "definition": c["definition"],
                "params": {},
                "directory": {r: f"factflow.{r}" for r in ROUTES},
                "config": {
                    "id": c["id"],
                    "name": c["name"],
                    "version": 1,
                    "checksum": c["checksum"],
                },
            }
            for c in configs
        }
        started = time.monotonic()
        start = now - timedelta(days=30)
        step = timedelta(days=30) / max(1, finished)
        chunk: list[dict[str, Any]] = []
        for i in range(finished):
            config = configs[rng.randrange(len(configs))]
            created = start + step * i
            roll = rng.random()
            status = "completed" if roll < 0.9 else "failed" if roll < 0.97 else "cancelled"
            processed = rng.randrange(1, 500)
            failed = 0 if status == "completed" else rng.randrange(1, 10)
            seconds_run = rng.uniform(0.05, 30)
            chunk.append(
                _execution_row(
                    new_id(),
                    config,
                    snapshots[config["name"]],
                    status,
                    created,
                    finished_at=created + timedelta(seconds=seconds_run + 0.01),
                    stats=_stats(processed, failed, seconds_run),
                    error=None if status == "completed" else f"{failed} messages failed",
                )
            )
            if len(chunk) >= 10_000:
                await _insert_executions(db, chunk)
                chunk = []
        if chunk:
            await _insert_executions(db, chunk)
        seconds["executions"] = round(time.monotonic() - started, 1)
        running_ids = []
        running_rows = []
        for j in range(running):
            config = configs[j % len(configs)]
            execution_id = new_id()
            running_ids.append(execution_id)
            row = _execution_row(
                execution_id,
                config,
                snapshots[config["name"]],
                "running",
                now - timedelta(seconds=running - j),
            )
            row["owner"] = _REMOTE_OWNER
            row["heartbeat_at"] = now + timedelta(days=1)
            running_rows.append(row)
        await _insert_executions(db, running_rows)
        started = time.monotonic()
        lineage_rows: dict[str, int] = {}
        writer = BatchWriter(db.dialect, max_inline_payload=64 * 1024, storage=None)
        for j, execution_id in enumerate(running_ids):
            count = big_lineage if j == running - 1 else small_lineage
            lineage_rows[execution_id] = count
            await _insert_lineage(db, writer, execution_id, j, count, now)
        seconds["lineage"] = round(time.monotonic() - started, 1)
        return Seeded(finished, running_ids, lineage_rows, seconds)
    finally:
        await db.dispose()


def _execution_row(
    execution_id: str,
    config: dict[str, Any],
    snapshot: dict[str, Any],
    status: str,
    created: datetime,
    *,
    finished_at: datetime | None = None,
    stats: dict[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "id": execution_id,
        "config_id": config["id"],
        "config_name": config["name"],
        "config_version": 1,
        "config_snapshot": snapshot,
        "status": status,
        "source": "api",
        "replay_source": None,
        "parent_execution_id": None,
        "created_at": created,
        "started_at": created + timedelta(milliseconds=5),
        "finished_at": finished_at,
        "error": error,
        "stats": stats,
        "owner": None,
        "heartbeat_at": None,
        "labels": {},
        "last_event_seq": 3 if finished_at else 2,
    }


async def _insert_executions(db: Database, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    async with db.transaction() as conn:
        await conn.execute(insert(pipeline_executions), rows)


async def _insert_lineage(
    db: Database, writer: BatchWriter, execution_id: str, index: int, count: int, now: datetime
) -> None:
    postgres = db.is_postgres
    batch: list[tuple[Any, ...]] = []
    base = now - timedelta(minutes=30)
    for i in range(count):
        route = ROUTES[i % 3]
        status = "processed" if i % 50 else ("failed" if i % 100 else "filtered")
        message_id = f"{index:08x}-0000-7000-8000-{i:012x}"
        parent = None if route == "discover" else f"{index:08x}-0000-7000-8000-{i - 1:012x}"
        origin = f"{index:08x}-0000-7000-8000-{i - i % 3:012x}"
        finished = base + timedelta(microseconds=i * 1700)
        started = finished - timedelta(microseconds=1500)
        batch.append(
            (
                execution_id,
                message_id,
                parent,
                origin,
                route,
                status,
                1,
                started
                if postgres
                else started.replace(tzinfo=None).isoformat(" ", "microseconds"),
                finished
                if postgres
                else finished.replace(tzinfo=None).isoformat(" ", "microseconds"),
                1.5,
                "deliberate failure" if status == "failed" else None,
                1 if status == "processed" else 0,
                f'{{"i": {i}}}',
                None,
            )
        )
        if len(batch) >= 20_000:
            async with db.transaction() as conn:
                await writer.write(conn, batch)
            batch = []
    if batch:
        async with db.transaction() as conn:
            await writer.write(conn, batch)
