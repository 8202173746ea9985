"""Reading lineage: one record, a message's ancestry and descendants, pages, replay sets.

Every function takes an ``AsyncConnection`` (``Database.connect()`` is
enough) and never commits.  Tree walks are recursive CTEs, one round trip on
SQLite and PostgreSQL alike; they stop at ``MAX_DEPTH`` levels so a corrupt
cycle of parent ids cannot loop forever.  The aggregates (``route_stats``,
``execution_totals``, ``edge_counts``) live in ``factflow_lineage.stats`` and
are re-exported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from factflow_foundation import InvalidInputError, NotFoundError
from factflow_infra.db import lineage_records
from factflow_protocols import LINEAGE_STATUSES
from sqlalchemy import Integer, and_, exists, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from factflow_lineage.records import LineageRecord
from factflow_lineage.stats import (
    ExecutionTotals,
    RouteStats,
    edge_counts,
    execution_totals,
    route_stats,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_PAGE",
    "SUBTREE_DEPTH",
    "SUBTREE_LIMIT",
    "ExecutionTotals",
    "ReplayMode",
    "RouteStats",
    "Subtree",
    "ancestry",
    "descendants",
    "edge_counts",
    "execution_totals",
    "get_record",
    "list_records",
    "route_stats",
    "select_for_replay",
    "subtree",
]

ReplayMode: TypeAlias = Literal["failed", "cancelled", "unfinished", "all", "ids"]
REPLAY_MODES: tuple[ReplayMode, ...] = ("failed", "cancelled", "unfinished", "all", "ids")

#: Deepest parent/child chain the tree walks follow.
MAX_DEPTH = 10_000
#: Largest page ``list_records`` returns.
MAX_PAGE = 10_000
#: Default levels and records ``subtree`` returns (each at most ``MAX_DEPTH`` / ``MAX_PAGE``).
SUBTREE_DEPTH = 100
SUBTREE_LIMIT = 1_000

_lr = lineage_records


async def _records(conn: AsyncConnection, query: Select[Any]) -> list[LineageRecord]:
    return [LineageRecord.from_row(row) for row in (await conn.execute(query)).mappings()]


def _missing_message(execution_id: str, message_id: str) -> NotFoundError:
    return NotFoundError(
        f"no lineage record for message {message_id!r} in execution {execution_id!r}",
        extra={"execution_id": execution_id, "message_id": message_id},
    )


async def get_record(conn: AsyncConnection, execution_id: str, message_id: str) -> LineageRecord:
    """The record of ``message_id`` in ``execution_id`` (the latest if several).

    Raises:
        NotFoundError: the execution has no record of that message.
    """
    query = (
        select(_lr)
        .where(_lr.c.execution_id == execution_id, _lr.c.message_id == message_id)
        .order_by(_lr.c.id.desc())
        .limit(1)
    )
    found = await _records(conn, query)
    if not found:
        raise _missing_message(execution_id, message_id)
    return found[0]


async def ancestry(
    conn: AsyncConnection, execution_id: str, message_id: str
) -> list[LineageRecord]:
    """The chain from the root down to ``message_id`` (root first, the message last).

    Follows ``parent_message_id`` within the execution; a parent recorded in
    another execution (a replay's source) ends the chain.

    Raises:
        NotFoundError: the execution has no record of ``message_id``.
    """
    depth0 = literal_column("0", Integer).label("depth")
    chain = (
        select(_lr.c.id, _lr.c.parent_message_id, depth0)
        .where(_lr.c.execution_id == execution_id, _lr.c.message_id == message_id)
        .cte("ancestry", recursive=True)
    )
    parent = _lr.alias("parent")
    chain = chain.union_all(
        select(parent.c.id, parent.c.parent_message_id, chain.c.depth + 1).where(
            parent.c.execution_id == execution_id,
            parent.c.message_id == chain.c.parent_message_id,
            chain.c.depth < MAX_DEPTH,
        )
    )
    query = select(_lr).join(chain, _lr.c.id == chain.c.id).order_by(chain.c.depth.desc(), _lr.c.id)
    found = await _records(conn, query)
    if not found:
        raise _missing_message(execution_id, message_id)
    return found


async def descendants(
    conn: AsyncConnection, execution_id: str, message_id: str
) -> list[LineageRecord]:
    """Every record descending from ``message_id`` (not itself), level by level.

    Ordered by depth (children, then grandchildren, …) and write order within
    a level.

    Raises:
        NotFoundError: the execution has no record of ``message_id``.
    """
    depth0 = literal_column("0", Integer).label("depth")
    tree = (
        select(_lr.c.id, _lr.c.message_id, depth0)
        .where(_lr.c.execution_id == execution_id, _lr.c.message_id == message_id)
        .cte("descendants", recursive=True)
    )
    child = _lr.alias("child")
    tree = tree.union_all(
        select(child.c.id, child.c.message_id, tree.c.depth + 1).where(
            child.c.execution_id == execution_id,
            child.c.parent_message_id == tree.c.message_id,
            tree.c.depth < MAX_DEPTH,
        )
    )
    query = (
        select(_lr, tree.c.depth).join(tree, _lr.c.id == tree.c.id).order_by(tree.c.depth, _lr.c.id)
    )
    rows = (await conn.execute(query)).mappings().all()
    if not rows:
        raise _missing_message(execution_id, message_id)
    return [LineageRecord.from_row(row) for row in rows if row["depth"] > 0]


@dataclass(frozen=True, slots=True)
class Subtree:
    """A message's record and its descendants, bounded in depth and size.

    ``items`` are ``(depth, record)`` pairs (children at depth 1), by depth
    then write order.  ``truncated`` is true when the subtree holds more than
    ``items``: records deeper than ``max_depth``, or more than ``limit``.
    """

    root: LineageRecord
    items: list[tuple[int, LineageRecord]]
    truncated: bool
    max_depth: int
    limit: int


async def subtree(
    conn: AsyncConnection,
    execution_id: str,
    message_id: str,
    *,
    max_depth: int = SUBTREE_DEPTH,
    limit: int = SUBTREE_LIMIT,
) -> Subtree:
    """The descendants of ``message_id`` at most ``max_depth`` levels down, at most
    ``limit`` records, and whether anything was left out.

    The walk starts from the message's latest record and goes one level past
    ``max_depth`` so that a cut is noticed; the outer ``LIMIT`` (``limit + 1``,
    no ``ORDER BY`` on the walk itself) lets both databases stop early, level
    by level, instead of walking a huge fan-out to the end.

    Raises:
        NotFoundError: the execution has no record of ``message_id``.
        InvalidInputError: ``max_depth`` or ``limit`` out of range.
    """
    if not 1 <= max_depth <= MAX_DEPTH:
        raise InvalidInputError(f"subtree depth must be between 1 and {MAX_DEPTH}, got {max_depth}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"subtree limit must be between 1 and {MAX_PAGE}, got {limit}")
    root = await get_record(conn, execution_id, message_id)
    depth0 = literal_column("0", Integer).label("depth")
    tree = (
        select(_lr.c.id, _lr.c.message_id, depth0)
        .where(_lr.c.id == root.id)
        .cte("subtree", recursive=True)
    )
    child = _lr.alias("child")
    tree = tree.union_all(
        select(child.c.id, child.c.message_id, tree.c.depth + 1).where(
            child.c.execution_id == execution_id,
            child.c.parent_message_id == tree.c.message_id,
            tree.c.depth <= max_depth,
        )
    )
    walked = select(tree.c.id, tree.c.depth).where(tree.c.depth > 0).limit(limit + 1).subquery()
    query = (
        select(_lr, walked.c.depth)
        .join(walked, _lr.c.id == walked.c.id)
        .order_by(walked.c.depth, _lr.c.id)
    )
    rows = (await conn.execute(query)).mappings().all()
    within = [(int(row["depth"]), LineageRecord.from_row(row)) for row in rows]
    within = [item for item in within if item[0] <= max_depth]
    truncated = len(rows) > len(within) or len(within) > limit
    return Subtree(
        root=root, items=within[:limit], truncated=truncated, max_depth=max_depth, limit=limit
    )


def _check_status(status: str | None) -> None:
    if status is not None and status not in LINEAGE_STATUSES:
        raise InvalidInputError(
            f"unknown lineage status {status!r}; expected one of {', '.join(LINEAGE_STATUSES)}"
        )


async def list_records(
    conn: AsyncConnection,
    execution_id: str,
    *,
    route: str | None = None,
    status: str | None = None,
    message_id: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[LineageRecord]:
    """One page of an execution's records in write order, optionally filtered
    (by route, status and message id; filters combine with AND).

    Pass the last record's ``id`` as ``after_id`` for the next page; a page
    shorter than ``limit`` is the last.
    """
    _check_status(status)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"lineage page limit must be between 1 and {MAX_PAGE}, got {limit}")
    query = select(_lr).where(_lr.c.execution_id == execution_id)
    if route is not None:
        query = query.where(_lr.c.route == route)
    if status is not None:
        query = query.where(_lr.c.status == status)
    if message_id is not None:
        query = query.where(_lr.c.message_id == message_id)
    if after_id is not None:
        query = query.where(_lr.c.id > after_id)
    return await _records(conn, query.order_by(_lr.c.id).limit(limit))


async def select_for_replay(
    conn: AsyncConnection,
    execution_id: str,
    *,
    mode: ReplayMode,
    message_ids: Sequence[str] | None = None,
    route: str | None = None,
) -> list[LineageRecord]:
    """The records a replay re-injects, in write order, optionally at one ``route``.

    * ``"failed"`` - every record with status ``failed``.
    * ``"cancelled"`` - every record with status ``cancelled`` (what a stop
      interrupted: in progress, queued, or not yet enqueued).
    * ``"unfinished"`` - ``failed`` and ``cancelled``: every recorded message
      that did not end ``processed`` or ``filtered``.
    * ``"all"`` - every message that *entered* the execution: records with no
      parent, plus records whose parent is not recorded in this execution (in
      a replay, the re-injected messages keep their parent from the source
      execution).  Replaying them re-runs the whole execution.
    * ``"ids"`` - the records of ``message_ids`` (required, non-empty).

    Raises:
        InvalidInputError: unknown mode, or ``message_ids`` missing for
            ``"ids"`` / given for another mode.
        NotFoundError: some ``message_ids`` have no record (all are listed).
    """
    if mode not in REPLAY_MODES:
        raise InvalidInputError(
            f"unknown replay mode {mode!r}; expected one of {', '.join(REPLAY_MODES)}"
        )
    if mode == "ids" and not message_ids:
        raise InvalidInputError("replay mode 'ids' needs a non-empty list of message ids")
    if mode != "ids" and message_ids:
        raise InvalidInputError(f"message ids are only accepted by replay mode 'ids', not {mode!r}")
    query = select(_lr).where(_lr.c.execution_id == execution_id)
    if route is not None:
        query = query.where(_lr.c.route == route)
    if mode in ("failed", "cancelled"):
        query = query.where(_lr.c.status == mode)
    elif mode == "unfinished":
        query = query.where(_lr.c.status.in_(("failed", "cancelled")))
    elif mode == "all":
        parent = _lr.alias("parent")
        recorded_parent = exists().where(
            and_(
                parent.c.execution_id == execution_id,
                parent.c.message_id == _lr.c.parent_message_id,
            )
        )
        query = query.where(or_(_lr.c.parent_message_id.is_(None), ~recorded_parent))
    else:
        wanted = list(dict.fromkeys(message_ids or ()))
        query = query.where(_lr.c.message_id.in_(wanted))
    found = await _records(conn, query.order_by(_lr.c.id))
    if mode == "ids":
        present = {record.message_id for record in found}
        missing = [m for m in dict.fromkeys(message_ids or ()) if m not in present]
        if missing:
            where = f" at route {route!r}" if route is not None else ""
            raise NotFoundError(
                f"{len(missing)} message id(s) have no lineage record in execution "
                f"{execution_id!r}{where}: {', '.join(missing)}",
                extra={"execution_id": execution_id, "missing": missing},
            )
    return found
