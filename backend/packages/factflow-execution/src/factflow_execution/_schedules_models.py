"""Schedules: what fires a stored config on a cron expression or an interval.

``ScheduleSpec`` is what a caller asks for (validated here: the cron
expression, the time zone, the bounds); ``Schedule`` is the stored row;
``ScheduleFire`` is one fire time a server claimed.

Catch-up after downtime (no server running, or the schedule's fire time
passed while every server was busy) follows ``catchup``:

* ``skip`` - a fire time runs only while it is at most ``misfire_grace_seconds``
  late; older missed ones are dropped.
* ``once`` - however many were missed, one run catches up (for the latest
  missed fire time), then the schedule is back on time.
* ``all`` - every missed fire time runs, oldest first, bounded to the newest
  ``catchup_limit`` of them (older ones are dropped).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CatchupPolicy",
    "FireOutcome",
    "Schedule",
    "ScheduleFire",
    "ScheduleSpec",
]

CatchupPolicy: TypeAlias = Literal["skip", "once", "all"]
FireOutcome: TypeAlias = Literal["started", "skipped", "failed"]

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
MAX_INTERVAL_SECONDS = 366 * 24 * 3600


class ScheduleSpec(BaseModel):
    """A schedule as requested: exactly one of ``cron`` and ``interval_seconds``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME_PATTERN, description="Unique name of the schedule.")
    config_name: str = Field(pattern=_NAME_PATTERN, description="The stored config it runs.")
    config_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Pinned version; the latest when null."
    )
    cron: str | None = Field(
        default=None,
        max_length=200,
        description="Cron expression (5 fields, or 6 with seconds first), in `timezone`.",
        examples=["0 2 * * *"],
    )
    interval_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_INTERVAL_SECONDS,
        description="Fire every N seconds (fire times are anchor + k·N).",
    )
    anchor: datetime | None = Field(
        default=None,
        description="Interval schedules: a fire time the others are counted from "
        "(default the Unix epoch, so hourly fires on the hour).",
    )
    timezone: str = Field(
        default="UTC",
        max_length=64,
        description="IANA time zone the cron expression is read in; daylight-saving "
        "changes follow Debian cron (a skipped local time fires right after the jump, "
        "a repeated one fires once).",
        examples=["Europe/Amsterdam"],
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Params of each run.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of each run.")
    paused: bool = Field(default=False, description="Create it paused.")
    catchup: CatchupPolicy = Field(
        default="skip", description="What runs after downtime: skip, once or all."
    )
    catchup_limit: int = Field(
        default=100, ge=1, le=10_000, description="`all`: at most this many missed runs."
    )
    misfire_grace_seconds: int = Field(
        default=60,
        ge=1,
        le=MAX_INTERVAL_SECONDS,
        description="`skip`: how late a fire time may still run.",
    )
    max_active_runs: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="At most this many runs of the schedule pending or running at once; "
        "a fire time that finds the limit reached is skipped (and recorded).",
    )
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("cron")
    @classmethod
    def _cron_valid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from factflow_execution._schedules_timing import check_cron

        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone_valid(cls, value: str) -> str:
        from factflow_execution._schedules_timing import check_zone

        return check_zone(value)

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleSpec:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give exactly one of cron and interval_seconds")
        if self.anchor is not None and self.interval_seconds is None:
            raise ValueError("anchor applies to interval schedules only")
        if self.anchor is not None and self.anchor.tzinfo is None:
            raise ValueError("anchor needs a UTC offset (e.g. 2026-01-01T00:00:00Z)")
        return self


class Schedule(ScheduleSpec):
    """A stored schedule.  ``next_fire_at`` is null while it is paused."""

    id: str
    created_at: datetime
    updated_at: datetime
    next_fire_at: datetime | None = Field(description="The next fire time not yet claimed.")
    last_fire_at: datetime | None = Field(description="The latest fire time claimed.")

    @property
    def trigger(self) -> str:
        """``cron '…' (zone)`` or ``every N s``, for messages and tables."""
        if self.cron is not None:
            return f"cron {self.cron!r} ({self.timezone})"
        return f"every {self.interval_seconds}s"


class ScheduleFire(BaseModel):
    """One fire time a server claimed, and what came of it."""

    model_config = ConfigDict(frozen=True)

    schedule_id: str
    fire_time: datetime
    outcome: FireOutcome = Field(
        description="started (an execution was created), skipped (max_active_runs "
        "reached) or failed (the run could not be created, e.g. the config is archived)."
    )
    execution_id: str | None
    reason: str | None
    claimed_at: datetime
    claimed_by: str = Field(description="The server process that claimed it.")
