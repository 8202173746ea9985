"""What lineage says about an unfinished run: the queries a resume and recovery need.

A *chain* is an execution and the runs that resumed it (all share message
ids, because ids are derived - see ``factflow_engine.runtime.continuation``).
Lineage is the log of what settled where: a record with status
``processed``, ``filtered`` or ``failed`` settled its message at its route;
``cancelled`` marks one that did not finish.  From it:

* ``recorded_ids`` - every message id the chain recorded (any status), page by
  page, so a resume never creates those messages again;
* ``unsettled_records`` - records ``cancelled`` whose message never settled at
  that route anywhere in the chain: they are processed again;
* ``settled_ids`` - which of some ids settled in the chain (for a broker's
  leftovers);
* ``incomplete_parents`` - processed records with fewer recorded children
  than they had outputs: their lost outputs must be rebuilt;
* ``lost_per_route`` - for a run that died, how many messages each route had
  received and never recorded (counted from their parents' outputs).

Every function takes an ``AsyncConnection`` and never commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from factflow_infra.db import lineage_records
from sqlalchemy import and_, distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_lineage.records import LineageRecord

__all__ = [
    "SETTLED_STATUSES",
    "incomplete_parents",
    "lost_per_route",
    "recorded_ids",
    "settled_ids",
    "unsettled_records",
]

#: Statuses that end a message at a route (``cancelled`` does not).
SETTLED_STATUSES: tuple[str, ...] = ("processed", "filtered", "failed")

_lr = lineage_records
_CHUNK = 500


async def recorded_ids(
    conn: AsyncConnection, chain: Sequence[str], *, page: int = 10_000
) -> AsyncIterator[list[str]]:
    """Every message id recorded in ``chain``, in pages of at most ``page`` ids."""
    for execution_id in chain:
        after = 0
        while True:
            rows = (
                await conn.execute(
                    select(_lr.c.id, _lr.c.message_id)
                    .where(_lr.c.execution_id == execution_id, _lr.c.id > after)
                    .order_by(_lr.c.id)
                    .limit(page)
                )
            ).all()
            if not rows:
                break
            after = rows[-1][0]
            yield [row[1] for row in rows]


async def unsettled_records(conn: AsyncConnection, chain: Sequence[str]) -> list[LineageRecord]:
    """Records ``cancelled`` in ``chain`` whose message settled nowhere in it at that
    route; one per (message, route), the latest, in write order."""
    settled = _lr.alias("settled")
    query = (
        select(_lr)
        .where(
            _lr.c.execution_id.in_(chain),
            _lr.c.status == "cancelled",
            ~exists().where(
                and_(
                    settled.c.execution_id.in_(chain),
                    settled.c.message_id == _lr.c.message_id,
                    settled.c.route == _lr.c.route,
                    settled.c.status.in_(SETTLED_STATUSES),
                )
            ),
        )
        .order_by(_lr.c.id)
    )
    latest: dict[tuple[str, str], LineageRecord] = {}
    for row in (await conn.execute(query)).mappings():
        record = LineageRecord.from_row(row)
        latest.pop((record.message_id, record.route), None)
        latest[(record.message_id, record.route)] = record
    return list(latest.values())


async def settled_ids(
    conn: AsyncConnection, chain: Sequence[str], message_ids: Sequence[str]
) -> set[str]:
    """Which of ``message_ids`` settled somewhere in ``chain``."""
    found: set[str] = set()
    unique = list(dict.fromkeys(message_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows = await conn.execute(
            select(_lr.c.message_id)
            .where(
                _lr.c.execution_id.in_(chain),
                _lr.c.message_id.in_(chunk),
                _lr.c.status.in_(SETTLED_STATUSES),
            )
            .distinct()
        )
        found.update(row[0] for row in rows)
    return found


async def incomplete_parents(
    conn: AsyncConnection, chain: Sequence[str], fanout: Mapping[str, int]
) -> list[LineageRecord]:
    """Records ``processed`` in ``chain`` with fewer distinct recorded children than
    ``outputs * fanout[route]`` (``fanout`` = how many routes a route sends to).

    Their missing children were lost (queued when the process died, or their
    rows were in the batch it never wrote).  One per message, in write order.
    """
    found: dict[str, LineageRecord] = {}
    child = _lr.alias("child")
    for route, targets in fanout.items():
        if targets <= 0:
            continue
        children = (
            select(func.count(distinct(child.c.message_id)))
            .where(child.c.execution_id.in_(chain), child.c.parent_message_id == _lr.c.message_id)
            .scalar_subquery()
        )
        query = (
            select(_lr)
            .where(
                _lr.c.execution_id.in_(chain),
                _lr.c.route == route,
                _lr.c.status == "processed",
                children < _lr.c.outputs * targets,
            )
            .order_by(_lr.c.id)
        )
        for row in (await conn.execute(query)).mappings():
            record = LineageRecord.from_row(row)
            found.setdefault(record.message_id, record)
    return list(found.values())


async def lost_per_route(
    conn: AsyncConnection, execution_id: str, downstream: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    """Messages each non-source route received from recorded parents of
    ``execution_id`` and never recorded: the outputs of its processed upstream
    records minus the children recorded from them (never negative)."""
    outputs = dict(
        (
            await conn.execute(
                select(_lr.c.route, func.coalesce(func.sum(_lr.c.outputs), 0))
                .where(_lr.c.execution_id == execution_id, _lr.c.status == "processed")
                .group_by(_lr.c.route)
            )
        ).all()
    )
    parent = _lr.alias("parent")
    child = _lr.alias("child")
    arrived = {
        (row[0], row[1]): int(row[2])
        for row in await conn.execute(
            select(parent.c.route, child.c.route, func.count(distinct(child.c.message_id)))
            .select_from(
                child.join(
                    parent,
                    and_(
                        parent.c.execution_id == child.c.execution_id,
                        parent.c.message_id == child.c.parent_message_id,
                    ),
                )
            )
            .where(child.c.execution_id == execution_id, parent.c.status == "processed")
            .group_by(parent.c.route, child.c.route)
        )
    }
    lost: dict[str, int] = {}
    for route, targets in downstream.items():
        sent = int(outputs.get(route, 0) or 0)
        for target in targets:
            missing = max(0, sent - arrived.get((route, target), 0))
            if missing:
                lost[target] = lost.get(target, 0) + missing
    return lost
