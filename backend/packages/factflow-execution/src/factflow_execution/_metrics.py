"""What this process's runs did, counted for ``/metrics``.

Plain numbers owned by the execution tier (no Prometheus below the server):
messages settled per config, route and outcome (from each run's progress
snapshots, as deltas, so the final snapshot makes them exact), and latency
histograms of lineage batch writes and storage object writes.  The server
renders them at scrape time; runs by status come from the database then
(``count_by_status``), since every server sharing it sees the same rows.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import Any, Final

from factflow_infra.db import pipeline_executions
from factflow_protocols import ExecutionStorage, ProgressSnapshot, StoredObject
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "LATENCY_BUCKETS",
    "OUTCOMES",
    "ExecutionMetrics",
    "LatencyHistogram",
    "RunMeter",
    "TimedStorage",
    "count_by_status",
]

LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
OUTCOMES: Final = ("processed", "failed", "filtered", "cancelled")


class LatencyHistogram:
    """Observations in fixed buckets (seconds), the way Prometheus histograms count."""

    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, observations ≤ le)`` for every bound, then ``("+Inf", count)``."""
        total = 0
        buckets = []
        for bound, n in zip((*map(str, self.bounds), "+Inf"), self.counts, strict=True):
            total += n
            buckets.append((bound, total))
        return buckets


class ExecutionMetrics:
    """Counters of this process since it started (see the module docstring)."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str, str], int] = {}
        self.lineage_writes = LatencyHistogram()
        self.lineage_rows = 0
        self.storage_writes = LatencyHistogram()
        self.storage_bytes = 0

    def meter(self, config: str) -> RunMeter:
        """A meter for one run of ``config`` (fed its progress snapshots)."""
        return RunMeter(self, config)

    def lineage_batch(self, rows: int, seconds: float) -> None:
        """A batch of ``rows`` lineage rows was committed in ``seconds``."""
        self.lineage_rows += rows
        self.lineage_writes.observe(seconds)

    def storage_write(self, size: int, seconds: float) -> None:
        """An object of ``size`` bytes was stored (and recorded) in ``seconds``."""
        self.storage_bytes += size
        self.storage_writes.observe(seconds)


class RunMeter:
    """Turns one run's cumulative progress snapshots into message counts."""

    __slots__ = ("_config", "_metrics", "_seen")

    def __init__(self, metrics: ExecutionMetrics, config: str) -> None:
        self._metrics = metrics
        self._config = config
        self._seen: dict[tuple[str, str], int] = {}

    def update(self, progress: ProgressSnapshot) -> None:
        messages = self._metrics.messages
        for route, counts in progress.routes.items():
            for outcome in OUTCOMES:
                now = getattr(counts, outcome)
                before = self._seen.get((route, outcome), 0)
                if now > before:
                    self._seen[route, outcome] = now
                    key = (self._config, route, outcome)
                    messages[key] = messages.get(key, 0) + now - before


class TimedStorage:
    """An ``ExecutionStorage`` that times each write into ``observe(size, seconds)``;
    anything else is the wrapped storage's."""

    def __init__(self, inner: ExecutionStorage, observe: Callable[[int, float], None]) -> None:
        self._inner = inner
        self._observe = observe

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        route: str | None = None,
        message_id: str | None = None,
    ) -> StoredObject:
        began = time.perf_counter()
        stored = await self._inner.put(
            key, data, content_type=content_type, route=route, message_id=message_id
        )
        self._observe(stored.size, time.perf_counter() - began)
        return stored


async def count_by_status(conn: AsyncConnection) -> dict[str, int]:
    """Executions per status in the database (every status that has any)."""
    t = pipeline_executions
    rows = await conn.execute(select(t.c.status, func.count()).group_by(t.c.status))
    return {str(status): int(count) for status, count in rows.all()}
