"""The run queue's values: a queued entry, a per-config limit, and the refusal
of a start over a limit.

``ConfigLimit`` crosses the API edge unchanged (the server uses it as a
response model); ``QueueEntry`` stays inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from factflow_foundation import CapacityExceededError
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConfigLimit", "ConfigLimitReachedError", "QueueEntry", "QueuedRun"]


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A ``pending`` execution waiting in the run queue."""

    seq: int
    execution_id: str
    config_name: str
    priority: int
    enqueued_at: datetime


class ConfigLimit(BaseModel):
    """How many executions of one config may run at once, across every server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config_name: str = Field(description="The config the limit applies to.")
    max_running: int | None = Field(
        description="At most this many of its executions run at once across all servers "
        "(0 holds every new run in the queue); null: no limit of its own."
    )
    running: int = Field(description="Its executions running now, on any server.")
    queued: int = Field(description="Its executions waiting in the run queue.")
    updated_at: datetime | None = Field(
        default=None, description="When the limit was last set; null without a limit."
    )


class QueuedRun(BaseModel):
    """One entry of the run queue, as ``GET /api/v1/queue`` lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    execution_id: str = Field(description="The queued (pending) execution.")
    config_name: str = Field(description="The config it runs.")
    priority: int = Field(description="Higher starts first; FIFO within a priority.")
    position: int = Field(description="1 = the next to start when a slot frees.")
    enqueued_at: datetime = Field(description="When it entered the queue.")


class ConfigLimitReachedError(CapacityExceededError):
    """A start refused because the config already runs ``max_running`` executions
    (only when the caller asked not to queue)."""

    code = "config-limit-reached"

    def __init__(self, config_name: str, limit: int) -> None:
        super().__init__(
            f"config {config_name!r} already runs {limit} executions (its limit); "
            "retry when one finishes, or let the run queue (omit queue=false)",
            extra={"config_name": config_name, "max_running": limit},
        )
