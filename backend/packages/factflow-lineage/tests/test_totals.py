"""``lineage_records_totals`` always equals aggregating ``lineage_records`` itself,
across batches, statuses, missing durations and several executions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factflow_infra.db import Database, lineage_records
from factflow_lineage import LineageRecorder, RouteStats, execution_totals, route_stats
from sqlalchemy import case, func, select

T0 = datetime(2025, 6, 1, 8, 0, 0, tzinfo=UTC)


async def _aggregate_rows(db: Database, execution_id: str) -> dict[str, RouteStats]:
    t = lineage_records
    query = (
        select(
            t.c.route,
            func.count().label("received"),
            func.sum(case((t.c.status == "processed", 1), else_=0)).label("processed"),
            func.sum(case((t.c.status == "failed", 1), else_=0)).label("failed"),
            func.sum(case((t.c.status == "filtered", 1), else_=0)).label("filtered"),
            func.sum(case((t.c.status == "cancelled", 1), else_=0)).label("cancelled"),
            func.sum(t.c.duration_ms).label("total"),
            func.avg(t.c.duration_ms).label("avg"),
            func.max(t.c.duration_ms).label("max"),
            func.min(t.c.started_at).label("first"),
            func.max(t.c.finished_at).label("last"),
        )
        .where(t.c.execution_id == execution_id)
        .group_by(t.c.route)
    )
    async with db.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {
        r.route: RouteStats(
            received=int(r.received),
            processed=int(r.processed),
            failed=int(r.failed),
            filtered=int(r.filtered),
            cancelled=int(r.cancelled),
            total_duration_ms=float(r.total or 0.0),
            avg_duration_ms=None if r.avg is None else float(r.avg),
            max_duration_ms=None if r.max is None else float(r.max),
            first_started_at=r.first,
            last_finished_at=r.last,
        )
        for r in rows
    }


def _close(a: RouteStats, b: RouteStats) -> bool:
    def same(x: Any, y: Any) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return x == pytest.approx(y)
        return bool(x == y)

    return all(same(getattr(a, f), getattr(b, f)) for f in RouteStats.__slots__)


async def test_totals_match_the_rows_across_many_batches(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    rng = random.Random(7)
    first, second = await make_execution(), await make_execution()
    recorder = LineageRecorder(db, batch_size=37, flush_interval=0.01)
    roots = {first: 0, second: 0}
    for i in range(500):
        execution_id = first if i % 3 else second
        finished = T0 + timedelta(milliseconds=rng.randrange(0, 100_000))
        started = None if i % 11 == 0 else finished - timedelta(milliseconds=rng.randrange(1, 50))
        root = i % 4 == 0
        roots[execution_id] += root
        await recorder.record(
            make_entry(
                execution_id,
                route=rng.choice(["a", "b", "c"]),
                status=rng.choice(["processed", "processed", "failed", "filtered", "cancelled"]),
                started_at=started,
                finished_at=finished,
                parent_message_id=None if root else "parent",
            )
        )
    await recorder.close()
    async with db.connect() as conn:
        stats = await route_stats(conn, [first, second])
        totals = await execution_totals(conn, [first, second])
    for execution_id in (first, second):
        expected = await _aggregate_rows(db, execution_id)
        assert set(stats[execution_id]) == set(expected)
        for route, want in expected.items():
            assert _close(stats[execution_id][route], want), (route, stats[execution_id][route])
        total = totals[execution_id]
        assert total.received == sum(s.received for s in expected.values())
        assert total.roots == roots[execution_id]
        assert total.routes == len(expected)
