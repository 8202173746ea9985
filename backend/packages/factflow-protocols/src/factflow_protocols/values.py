"""Small value types shared across tiers: messages, lineage entries, progress.

Plain slotted dataclasses: they sit on the hot path of every message, so no
validation happens here (Pydantic stays at the edges).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

__all__ = [
    "LINEAGE_STATUSES",
    "LineageEntry",
    "LineageStatus",
    "Message",
    "MessageFailure",
    "ProgressSnapshot",
    "RouteProgress",
    "RunLogRecord",
    "RunOutcome",
    "RunOutcomeStatus",
    "StoredObject",
]

LineageStatus: TypeAlias = Literal["processed", "failed", "filtered", "cancelled"]
LINEAGE_STATUSES: tuple[LineageStatus, ...] = ("processed", "failed", "filtered", "cancelled")

RunOutcomeStatus: TypeAlias = Literal["completed", "failed", "cancelled"]


@dataclass(slots=True)
class Message:
    """One unit of work addressed to one route of one execution.

    ``origin_id`` is the id of the root message this one descends from (its own
    id for a root); it survives replays, so lineage can always be traced back to
    what first entered the pipeline.  ``attempt`` counts processing attempts
    made so far at ``route``.
    """

    id: str
    execution_id: str
    route: str
    payload: Any
    origin_id: str
    parent_id: str | None = None
    attempt: int = 0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class LineageEntry:
    """The settled outcome of one message at one route (one ``lineage_records`` row)."""

    execution_id: str
    message_id: str
    parent_message_id: str | None
    origin_message_id: str
    route: str
    status: LineageStatus
    attempt: int
    started_at: datetime | None
    finished_at: datetime
    error: str | None
    payload: Any
    outputs: int = 0


@dataclass(slots=True, frozen=True)
class StoredObject:
    """Metadata of one object written to storage by an execution."""

    execution_id: str
    key: str
    size: int
    checksum: str
    content_type: str
    route: str | None
    message_id: str | None
    written_at: datetime
    location: str


@dataclass(slots=True, frozen=True)
class MessageFailure:
    """A message that failed at a route after exhausting its retries."""

    execution_id: str
    route: str
    message_id: str
    origin_message_id: str
    attempt: int
    error: str


@dataclass(slots=True)
class RouteProgress:
    """Live counters of one route.

    ``received`` counts messages enqueued for the route; of those not yet
    settled (``in_flight``), ``in_progress`` are held by a worker and the rest
    are ``queued``.  ``regenerated`` counts messages a resumed run ran again
    only to rebuild outputs its parent lost (they settled in the parent and
    are not recorded again).
    """

    received: int = 0
    processed: int = 0
    failed: int = 0
    filtered: int = 0
    cancelled: int = 0
    emitted: int = 0
    in_progress: int = 0
    regenerated: int = 0

    @property
    def settled(self) -> int:
        return self.processed + self.failed + self.filtered + self.cancelled + self.regenerated

    @property
    def in_flight(self) -> int:
        return self.received - self.settled

    @property
    def queued(self) -> int:
        return self.received - self.settled - self.in_progress

    def copy(self) -> RouteProgress:
        return RouteProgress(
            self.received,
            self.processed,
            self.failed,
            self.filtered,
            self.cancelled,
            self.emitted,
            self.in_progress,
            self.regenerated,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "processed": self.processed,
            "failed": self.failed,
            "filtered": self.filtered,
            "cancelled": self.cancelled,
            "in_flight": self.in_flight,
            "queued": self.queued,
            "in_progress": self.in_progress,
            "emitted": self.emitted,
            "regenerated": self.regenerated,
        }


@dataclass(slots=True, frozen=True)
class ProgressSnapshot:
    """Counters of every route at one moment, plus which routes have drained."""

    routes: dict[str, RouteProgress]
    drained_routes: frozenset[str] = frozenset()

    def totals(self) -> RouteProgress:
        total = RouteProgress()
        for p in self.routes.values():
            total.received += p.received
            total.processed += p.processed
            total.failed += p.failed
            total.filtered += p.filtered
            total.cancelled += p.cancelled
            total.emitted += p.emitted
            total.in_progress += p.in_progress
            total.regenerated += p.regenerated
        return total


@dataclass(slots=True, frozen=True)
class RunOutcome:
    """How an orchestrator run ended, reported once after every task has stopped."""

    status: RunOutcomeStatus
    progress: ProgressSnapshot
    error: str | None = None


@dataclass(slots=True, frozen=True)
class RunLogRecord:
    """One log record of a run: what a processor or adapter logged, or a failure.

    ``route`` is None for records of the run as a whole; ``message_id`` and
    ``attempt`` name the message being processed when it was logged (None in
    an adapter or outside a message).  ``traceback`` is the formatted
    exception, when the record carries one.
    """

    at: datetime
    level: int
    logger: str
    message: str
    route: str | None = None
    message_id: str | None = None
    attempt: int | None = None
    traceback: str | None = None
