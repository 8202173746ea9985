"""``ExecutionStats`` derived from lineage and storage records.

One grouped lineage query and one grouped storage query serve a whole list
page.  For executions running in this process the orchestrator's live
``received`` counter adds what lineage has not flushed yet, as ``in_flight``.
Terminal executions carry their materialised stats on the row; callers read
those instead of calling here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from factflow_infra.db import pipeline_executions
from factflow_infra.storage import storage_totals
from factflow_lineage import lost_per_route, route_stats
from factflow_protocols import ProgressSnapshot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._models import ExecutionStats, PipelineExecution, RouteStats, StatsCounts

__all__ = ["RouteNames", "compute_stats", "lost_messages", "snapshot_routes"]


def snapshot_routes(snapshot: Mapping[str, object]) -> list[str]:
    """Route names of a config snapshot, in definition order."""
    definition = snapshot.get("definition")
    if isinstance(definition, Mapping):
        routes = definition.get("routes")
        if isinstance(routes, Mapping):
            return [str(r) for r in routes]
    return []


async def lost_messages(conn: AsyncConnection, execution: PipelineExecution) -> dict[str, int]:
    """Per route, what ``execution`` received from recorded parents and never
    recorded - for a run whose process died (a graceful stop records them
    ``cancelled`` instead)."""
    definition = execution.config_snapshot.get("definition")
    routes = definition.get("routes") if isinstance(definition, Mapping) else None
    if not isinstance(routes, Mapping):
        return {}
    downstream = {
        str(name): [str(t) for t in route.get("to") or []] for name, route in routes.items()
    }
    return await lost_per_route(conn, execution.id, downstream)


class RouteNames:
    """Route names of executions by id, read from their snapshots once and kept
    (a snapshot never changes), so a list page does not parse snapshots again."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._names: dict[str, list[str]] = {}
        self._capacity = capacity

    async def of(
        self, conn: AsyncConnection, executions: Sequence[PipelineExecution]
    ) -> dict[str, list[str]]:
        missing = [e.id for e in executions if e.id not in self._names and not e.config_snapshot]
        if missing:
            t = pipeline_executions
            query = select(t.c.id, t.c.config_snapshot).where(t.c.id.in_(missing))
            if len(self._names) + len(missing) > self._capacity:
                self._names.clear()
            for execution_id, snapshot in (await conn.execute(query)).all():
                self._names[execution_id] = snapshot_routes(snapshot or {})
        return {
            e.id: self._names[e.id] if e.id in self._names else snapshot_routes(e.config_snapshot)
            for e in executions
        }


async def compute_stats(
    conn: AsyncConnection,
    executions: Sequence[PipelineExecution],
    *,
    route_names: Mapping[str, list[str]] | None = None,
    progress: Mapping[str, ProgressSnapshot] | None = None,
    live: bool = True,
    finished_at: datetime | None = None,
    failure_events_suppressed: Mapping[str, int] | None = None,
    lost: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, ExecutionStats]:
    """Stats of ``executions`` in two round trips, whatever their number
    (``lost``: per execution and route, from ``lost_messages``)."""
    if not executions:
        return {}
    ids = [e.id for e in executions]
    lineage = await route_stats(conn, ids)
    storage = await storage_totals(conn, ids)
    progress = progress or {}
    suppressed = failure_events_suppressed or {}
    result: dict[str, ExecutionStats] = {}
    for execution in executions:
        per_route = lineage.get(execution.id, {})
        live_progress = progress.get(execution.id)
        names = list(route_names.get(execution.id) or ()) if route_names else []
        if not names:
            names = snapshot_routes(execution.config_snapshot)
        names += [r for r in per_route if r not in names]
        routes: dict[str, RouteStats] = {}
        for name in names:
            settled = per_route.get(name)
            processed = settled.processed if settled else 0
            failed = settled.failed if settled else 0
            filtered = settled.filtered if settled else 0
            cancelled = settled.cancelled if settled else 0
            done = processed + failed + filtered + cancelled
            in_flight = 0
            if live_progress is not None and name in live_progress.routes:
                in_flight = max(0, live_progress.routes[name].received - done)
            missing = (lost or {}).get(execution.id, {}).get(name, 0)
            routes[name] = RouteStats(
                received=done + in_flight + missing,
                lost=missing,
                processed=processed,
                failed=failed,
                filtered=filtered,
                cancelled=cancelled,
                in_flight=in_flight,
                duration_ms_total=settled.total_duration_ms if settled else 0.0,
                duration_ms_avg=settled.avg_duration_ms if settled else None,
                duration_ms_max=settled.max_duration_ms if settled else None,
                first_started_at=settled.first_started_at if settled else None,
                last_finished_at=settled.last_finished_at if settled else None,
            )
        totals = StatsCounts(
            received=sum(r.received for r in routes.values()),
            processed=sum(r.processed for r in routes.values()),
            failed=sum(r.failed for r in routes.values()),
            filtered=sum(r.filtered for r in routes.values()),
            cancelled=sum(r.cancelled for r in routes.values()),
            in_flight=sum(r.in_flight for r in routes.values()),
            lost=sum(r.lost for r in routes.values()),
        )
        count, size = storage.get(execution.id, (0, 0))
        end = finished_at or execution.finished_at
        duration = None
        if execution.started_at is not None and end is not None:
            duration = max(0.0, (end - execution.started_at).total_seconds())
        result[execution.id] = ExecutionStats(
            totals=totals,
            routes=routes,
            storage_objects=count,
            storage_bytes=size,
            duration_seconds=duration,
            failure_events_suppressed=suppressed.get(execution.id, 0),
            live=live,
        )
    return result
