"""The one place that writes an execution's ``status`` (DESIGN §4).

Every transition is one conditional UPDATE (``… WHERE id = :id AND status IN
(:allowed)``) plus its ``status`` event, in the caller's transaction.  The loser
of a race sees no row and gets ``None`` back: the caller decides whether that
is an error (an illegal request) or a no-op (a lost race).

    pending ──start──▶ running ──drained──▶ completed
       │                  ├──error/timeout──▶ failed
       ├──cancel──────────┴──cancel──▶ cancelled
       └──────────────────┴──process died──▶ interrupted
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from factflow_foundation import utcnow
from factflow_infra.db import pipeline_executions
from sqlalchemy import ColumnElement, update

from factflow_execution._events import EventKind, EventWriter
from factflow_execution._models import ExecutionStats, ExecutionStatus, PipelineExecution
from factflow_execution._repositories import row_to_execution

__all__ = ["ALLOWED_FROM", "transition"]

ALLOWED_FROM: Final[Mapping[str, frozenset[str]]] = {
    "running": frozenset({"pending"}),
    "completed": frozenset({"running"}),
    "failed": frozenset({"pending", "running"}),
    "cancelled": frozenset({"pending", "running"}),
    "interrupted": frozenset({"pending", "running"}),
}


async def transition(
    writer: EventWriter,
    to: ExecutionStatus,
    *,
    error: str | None = None,
    stats: ExecutionStats | None = None,
    owner: str | None = None,
    extra_event: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    only_if: ColumnElement[bool] | None = None,
) -> PipelineExecution | None:
    """Move ``writer.execution_id`` to ``to`` if its current status allows it.

    Returns the updated execution, or ``None`` when the row was not in an
    allowed state (nothing written).  Terminal transitions stamp
    ``finished_at`` and store ``error`` and the materialised ``stats``;
    ``running`` stamps ``started_at``, the owner and its first heartbeat.
    ``only_if`` adds a condition to the UPDATE (e.g. "heartbeat still stale").
    """
    allowed = ALLOWED_FROM.get(to)
    if allowed is None:
        raise ValueError(f"no transition leads to {to!r}")
    now = at or utcnow()
    values: dict[str, Any] = {"status": to}
    if to == "running":
        values.update(started_at=now, owner=owner, heartbeat_at=now)
    else:
        values["finished_at"] = now
        values["error"] = error
        if stats is not None:
            values["stats"] = stats.model_dump(mode="json")
    data: dict[str, Any] = {"status": to}
    if error is not None:
        data["error"] = error
    if to != "running":
        data["finished_at"] = now.isoformat()
        if stats is not None:
            data["stats"] = values["stats"]
    if extra_event:
        data.update(extra_event)
    t = pipeline_executions
    statement = update(t).where(t.c.id == writer.execution_id, t.c.status.in_(sorted(allowed)))
    if only_if is not None:
        statement = statement.where(only_if)
    # The status UPDATE also takes the event's seq (and those of events deferred
    # before it): one statement for both, then one INSERT.
    row, event = await writer.update_and_append(statement.values(values), EventKind.STATUS, data)
    if row is None or event is None:
        return None
    return row_to_execution(row).model_copy(update={"last_event_seq": event.seq})
