"""The one place that writes an execution's ``status`` (DESIGN §4).

Every transition is one conditional UPDATE (``… WHERE id = :id AND status IN
(:allowed)``) plus its ``status`` event, in the caller's transaction.  The
answer is closed: ``Applied(row, event)`` when the row moved, or
``Refused(current, why)`` when it did not (nothing written), so a caller
never re-reads the row to learn whether it lost a race or asked for an
illegal move.

    pending ──start──▶ running ──drained──▶ completed
       │                  ├──error/timeout──▶ failed
       ├──cancel──────────┴──cancel──▶ cancelled
       └──────────────────┴──process died──▶ interrupted
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeAlias

from factflow_foundation import utcnow
from factflow_infra.db import pipeline_executions
from sqlalchemy import ColumnElement, select, update

from factflow_execution._errors import ExecutionNotFoundError, IllegalTransitionError
from factflow_execution._events import EventKind, EventWriter, ExecutionEvent
from factflow_execution._models import ExecutionStats, ExecutionStatus, PipelineExecution
from factflow_execution._repositories import row_to_execution

__all__ = [
    "ALLOWED_FROM",
    "Applied",
    "Refusal",
    "Refused",
    "TransitionResult",
    "transition",
]

ALLOWED_FROM: Final[Mapping[str, frozenset[str]]] = {
    "running": frozenset({"pending"}),
    "completed": frozenset({"running"}),
    "failed": frozenset({"pending", "running"}),
    "cancelled": frozenset({"pending", "running"}),
    "interrupted": frozenset({"pending", "running"}),
}


class Refusal(StrEnum):
    """Why a transition was refused."""

    ILLEGAL = "illegal"
    """The current status does not lead to the target (e.g. completed → cancelled)."""
    CHANGED = "changed"
    """Legal in general, but the row is no longer in the status the caller expected."""
    GUARD = "guard"
    """The caller's extra condition (``only_if``) did not hold."""
    MISSING = "missing"
    """No execution has this id."""


@dataclass(frozen=True, slots=True)
class Applied:
    """The row moved: the updated row and the ``status`` event that says so."""

    row: PipelineExecution
    event: ExecutionEvent


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing was written: the status the row has now (None if it does not exist) and why."""

    execution_id: str
    to: ExecutionStatus
    current: ExecutionStatus | None
    why: Refusal

    def error(self, action: str) -> ExecutionNotFoundError | IllegalTransitionError:
        """The error to raise when the refused move was a caller's request (``action``)."""
        if self.current is None:
            return ExecutionNotFoundError(self.execution_id)
        return IllegalTransitionError(
            self.execution_id, action, self.current, sorted(ALLOWED_FROM[self.to])
        )


TransitionResult: TypeAlias = Applied | Refused


async def transition(
    writer: EventWriter,
    to: ExecutionStatus,
    *,
    error: str | None = None,
    stats: ExecutionStats | None = None,
    owner: str | None = None,
    at: datetime | None = None,
    expected: Collection[ExecutionStatus] | None = None,
    only_if: ColumnElement[bool] | None = None,
) -> TransitionResult:
    """Move ``writer.execution_id`` to ``to`` if its current status allows it.

    Terminal transitions stamp ``finished_at`` and store ``error`` and the
    materialised ``stats``; ``running`` stamps ``started_at``, the owner and its
    first heartbeat.  ``expected`` narrows the statuses moved from (the one the
    caller read, say); ``only_if`` adds a condition to the UPDATE (e.g. "the
    heartbeat is still stale").
    """
    allowed = ALLOWED_FROM.get(to)
    if allowed is None:
        raise ValueError(f"no transition leads to {to!r}")
    moved_from = allowed if expected is None else allowed & frozenset(expected)
    now = at or utcnow()
    values: dict[str, Any] = {"status": to}
    data: dict[str, Any] = {"status": to}
    if to == "running":
        values.update(started_at=now, owner=owner, heartbeat_at=now)
    else:
        values.update(finished_at=now, error=error)
        data["finished_at"] = now.isoformat()
        if stats is not None:
            values["stats"] = data["stats"] = stats.model_dump(mode="json")
    if error is not None:
        data["error"] = error
    t = pipeline_executions
    statement = update(t).where(t.c.id == writer.execution_id, t.c.status.in_(sorted(moved_from)))
    if only_if is not None:
        statement = statement.where(only_if)
    # The status UPDATE also takes the event's seq (and those of events deferred
    # before it): one statement for both, then one INSERT.
    row, event = await writer.update_and_append(statement.values(values), EventKind.STATUS, data)
    if row is not None and event is not None:
        return Applied(
            row_to_execution(row).model_copy(update={"last_event_seq": event.seq}), event
        )
    # Only the loser pays for this read, in the same transaction.
    current = (
        await writer.conn.execute(select(t.c.status).where(t.c.id == writer.execution_id))
    ).scalar_one_or_none()
    if current is None:
        why = Refusal.MISSING
    elif current not in allowed:
        why = Refusal.ILLEGAL
    elif current not in moved_from:
        why = Refusal.CHANGED
    else:
        why = Refusal.GUARD
    return Refused(writer.execution_id, to, current, why)
