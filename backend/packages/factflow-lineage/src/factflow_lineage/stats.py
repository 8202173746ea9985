"""Aggregates over ``lineage_records``: per route and per execution, many at once.

Both queries are one grouped ``SELECT`` for any number of executions (a list
page of executions costs one round trip, not one per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factflow_infra.db import lineage_records
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["ExecutionTotals", "RouteStats", "execution_totals", "route_stats"]

_lr = lineage_records


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


def _count_status(status: str) -> ColumnElement[Any]:
    return func.sum(case((_lr.c.status == status, 1), else_=0))


def _aggregates() -> list[ColumnElement[Any]]:
    return [
        func.count().label("received"),
        _count_status("processed").label("processed"),
        _count_status("failed").label("failed"),
        _count_status("filtered").label("filtered"),
        _count_status("cancelled").label("cancelled"),
        func.sum(_lr.c.duration_ms).label("total_duration_ms"),
        func.avg(_lr.c.duration_ms).label("avg_duration_ms"),
        func.max(_lr.c.duration_ms).label("max_duration_ms"),
        func.min(_lr.c.started_at).label("first_started_at"),
        func.max(_lr.c.finished_at).label("last_finished_at"),
    ]


def _fields(row: Any) -> dict[str, Any]:
    def _float(value: Any) -> float | None:
        return float(value) if value is not None else None

    return {
        "received": int(row.received),
        "processed": int(row.processed or 0),
        "failed": int(row.failed or 0),
        "filtered": int(row.filtered or 0),
        "cancelled": int(row.cancelled or 0),
        "total_duration_ms": _float(row.total_duration_ms) or 0.0,
        "avg_duration_ms": _float(row.avg_duration_ms),
        "max_duration_ms": _float(row.max_duration_ms),
        "first_started_at": row.first_started_at,
        "last_finished_at": row.last_finished_at,
    }


async def route_stats(
    conn: AsyncConnection, execution_ids: Sequence[str]
) -> dict[str, dict[str, RouteStats]]:
    """``{execution_id: {route: RouteStats}}`` for every requested execution.

    One grouped query.  An execution without records maps to ``{}``.
    """
    ids = list(dict.fromkeys(execution_ids))
    if not ids:
        return {}
    query = (
        select(_lr.c.execution_id, _lr.c.route, *_aggregates())
        .where(_lr.c.execution_id.in_(ids))
        .group_by(_lr.c.execution_id, _lr.c.route)
        .order_by(_lr.c.execution_id, _lr.c.route)
    )
    result: dict[str, dict[str, RouteStats]] = {execution_id: {} for execution_id in ids}
    for row in await conn.execute(query):
        result[row.execution_id][row.route] = RouteStats(**_fields(row))
    return result


async def execution_totals(
    conn: AsyncConnection, execution_ids: Sequence[str]
) -> dict[str, ExecutionTotals]:
    """``{execution_id: ExecutionTotals}`` for every requested execution.

    One grouped query.  An execution without records gets all-zero totals.
    """
    ids = list(dict.fromkeys(execution_ids))
    if not ids:
        return {}
    query = (
        select(
            _lr.c.execution_id,
            *_aggregates(),
            func.count(_lr.c.route.distinct()).label("routes"),
            func.sum(case((_lr.c.parent_message_id.is_(None), 1), else_=0)).label("roots"),
        )
        .where(_lr.c.execution_id.in_(ids))
        .group_by(_lr.c.execution_id)
    )
    result = {execution_id: ExecutionTotals() for execution_id in ids}
    for row in await conn.execute(query):
        result[row.execution_id] = ExecutionTotals(
            **_fields(row), routes=int(row.routes), roots=int(row.roots or 0)
        )
    return result
