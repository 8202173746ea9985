"""What an execution's event log holds: the event kinds, one event, its bus
topic, and the shape of events waiting to be written (``_events`` writes and
reads them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict

from factflow_execution._models import TERMINAL_STATUSES

__all__ = ["EventKind", "ExecutionEvent", "Items", "PostedEvents", "execution_topic"]


class EventKind(StrEnum):
    """The kinds of events in the log (the ``kind`` of an SSE frame's data)."""

    STATUS = "status"
    ROUTE_STARTED = "route.started"
    ROUTE_DRAINED = "route.drained"
    PROGRESS = "progress"
    MESSAGE_FAILED = "message.failed"
    STORAGE_WRITTEN = "storage.written"


class ExecutionEvent(BaseModel):
    """One entry of an execution's event log (what SSE frames carry)."""

    model_config = ConfigDict(frozen=True)

    execution_id: str
    seq: int
    kind: str
    data: dict[str, Any]
    at: datetime

    @property
    def terminal(self) -> bool:
        """True for the status event that ends the execution (always its last event)."""
        return self.kind == EventKind.STATUS and self.data.get("status") in TERMINAL_STATUSES


def execution_topic(execution_id: str) -> str:
    """The event-bus topic carrying an execution's live events."""
    return f"execution:{execution_id}"


PostedEvents: TypeAlias = list[tuple[EventKind, dict[str, Any], datetime | None]]
"""Events waiting to be written: ``(kind, data, at)``."""

Items: TypeAlias = Sequence[tuple[EventKind, dict[str, Any], datetime | None]]
