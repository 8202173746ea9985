"""Aggregates of ``lineage_records``: per route and per execution, many at once.

``route_stats`` and ``execution_totals`` read ``lineage_records_totals`` -
totals per (execution, route, status) that the lineage writer keeps in the
same transaction as the rows - with one ``SELECT`` for any number of
executions: a list page costs one round trip, and an execution with a million
records costs a few rows, not a scan.  ``edge_counts`` (messages per
route→route edge, for the DAG view) joins one execution's records through
their parent ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factflow_infra.db import lineage_records, lineage_records_totals
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["ExecutionTotals", "RouteStats", "edge_counts", "execution_totals", "route_stats"]

_t = lineage_records_totals


@dataclass(frozen=True, slots=True)
class RouteStats:
    """Counts and durations of one route of one execution.

    ``received`` is the number of messages settled at the route, i.e. the sum
    of ``processed``, ``failed``, ``filtered`` and ``cancelled``.  Durations
    are in milliseconds over the records that have a start time;
    ``avg_duration_ms`` / ``max_duration_ms`` are ``None`` when none has.
    """

    received: int = 0
    processed: int = 0
    failed: int = 0
    filtered: int = 0
    cancelled: int = 0
    total_duration_ms: float = 0.0
    avg_duration_ms: float | None = None
    max_duration_ms: float | None = None
    first_started_at: datetime | None = None
    last_finished_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (ISO 8601 timestamps)."""
        return {
            "received": self.received,
            "processed": self.processed,
            "failed": self.failed,
            "filtered": self.filtered,
            "cancelled": self.cancelled,
            "total_duration_ms": self.total_duration_ms,
            "avg_duration_ms": self.avg_duration_ms,
            "max_duration_ms": self.max_duration_ms,
            "first_started_at": _iso(self.first_started_at),
            "last_finished_at": _iso(self.last_finished_at),
        }


@dataclass(frozen=True, slots=True)
class ExecutionTotals(RouteStats):
    """``RouteStats`` summed over every route of one execution.

    ``routes`` counts the routes that settled at least one message; ``roots``
    counts records without a parent (messages that entered the pipeline).
    """

    routes: int = 0
    roots: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (ISO 8601 timestamps)."""
        return {**RouteStats.as_dict(self), "routes": self.routes, "roots": self.roots}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _query(execution_ids: list[str]) -> Any:
    return (
        select(
            _t.c.execution_id,
            _t.c.route,
            _t.c.status,
            _t.c.records,
            _t.c.roots,
            _t.c.duration_ms_total,
            _t.c.duration_count,
            _t.c.duration_ms_max,
            _t.c.first_started_at,
            _t.c.last_finished_at,
        )
        .where(_t.c.execution_id.in_(execution_ids))
        .order_by(_t.c.execution_id, _t.c.route, _t.c.status)
    )


class _Sum:
    """Adds up ``lineage_records_totals`` rows (one per status) into one figure."""

    __slots__ = (
        "cancelled",
        "duration_count",
        "failed",
        "filtered",
        "first",
        "last",
        "maximum",
        "processed",
        "received",
        "roots",
        "routes",
        "total",
    )

    def __init__(self) -> None:
        self.received = self.processed = self.failed = self.filtered = self.cancelled = 0
        self.roots = self.duration_count = 0
        self.total = 0.0
        self.maximum: float | None = None
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.routes: set[str] = set()

    def add(self, row: Any) -> None:
        records = int(row.records)
        self.received += records
        if row.status == "processed":
            self.processed += records
        elif row.status == "failed":
            self.failed += records
        elif row.status == "filtered":
            self.filtered += records
        elif row.status == "cancelled":
            self.cancelled += records
        self.roots += int(row.roots)
        self.routes.add(row.route)
        self.total += float(row.duration_ms_total)
        self.duration_count += int(row.duration_count)
        if row.duration_ms_max is not None:
            value = float(row.duration_ms_max)
            self.maximum = value if self.maximum is None else max(self.maximum, value)
        if row.first_started_at is not None and (
            self.first is None or row.first_started_at < self.first
        ):
            self.first = row.first_started_at
        if row.last_finished_at is not None and (
            self.last is None or row.last_finished_at > self.last
        ):
            self.last = row.last_finished_at

    def fields(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "processed": self.processed,
            "failed": self.failed,
            "filtered": self.filtered,
            "cancelled": self.cancelled,
            "total_duration_ms": self.total,
            "avg_duration_ms": self.total / self.duration_count if self.duration_count else None,
            "max_duration_ms": self.maximum,
            "first_started_at": self.first,
            "last_finished_at": self.last,
        }


async def route_stats(
    conn: AsyncConnection, execution_ids: Sequence[str]
) -> dict[str, dict[str, RouteStats]]:
    """``{execution_id: {route: RouteStats}}`` for every requested execution.

    One query over ``lineage_records_totals`` (a few rows per route, whatever
    the number of records).  An execution without records maps to ``{}``.
    """
    ids = list(dict.fromkeys(execution_ids))
    if not ids:
        return {}
    sums: dict[str, dict[str, _Sum]] = {execution_id: {} for execution_id in ids}
    for row in await conn.execute(_query(ids)):
        per_route = sums[row.execution_id]
        acc = per_route.get(row.route)
        if acc is None:
            acc = per_route[row.route] = _Sum()
        acc.add(row)
    return {
        execution_id: {route: RouteStats(**acc.fields()) for route, acc in routes.items()}
        for execution_id, routes in sums.items()
    }


async def execution_totals(
    conn: AsyncConnection, execution_ids: Sequence[str]
) -> dict[str, ExecutionTotals]:
    """``{execution_id: ExecutionTotals}`` for every requested execution.

    One query over ``lineage_records_totals``.  An execution without records
    gets all-zero totals.
    """
    ids = list(dict.fromkeys(execution_ids))
    if not ids:
        return {}
    sums: dict[str, _Sum] = {}
    for row in await conn.execute(_query(ids)):
        acc = sums.get(row.execution_id)
        if acc is None:
            acc = sums[row.execution_id] = _Sum()
        acc.add(row)
    result = {execution_id: ExecutionTotals() for execution_id in ids}
    for execution_id, acc in sums.items():
        result[execution_id] = ExecutionTotals(
            **acc.fields(), routes=len(acc.routes), roots=acc.roots
        )
    return result


async def edge_counts(conn: AsyncConnection, execution_id: str) -> dict[tuple[str, str], int]:
    """``{(parent route, child route): messages}`` of one execution: how many
    messages each route passed to each other route, joined through parent ids."""
    child = lineage_records.alias("child")
    parent = lineage_records.alias("parent")
    query = (
        select(parent.c.route, child.c.route, func.count())
        .select_from(
            child.join(
                parent,
                and_(
                    parent.c.execution_id == child.c.execution_id,
                    parent.c.message_id == child.c.parent_message_id,
                ),
            )
        )
        .where(child.c.execution_id == execution_id)
        .group_by(parent.c.route, child.c.route)
    )
    return {(r[0], r[1]): int(r[2]) for r in (await conn.execute(query)).all()}
