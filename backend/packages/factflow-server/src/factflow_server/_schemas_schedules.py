"""Request and response bodies of ``/api/v1/schedules``.

The request model checks shapes and bounds (a 422 naming the field); the
execution tier checks meaning (the cron expression, the time zone, one
trigger) and answers ``invalid-schedule`` with the same kind of ``issues``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from factflow_server._schemas import _Request, _Response

__all__ = [
    "FireList",
    "NextFireTimes",
    "ScheduleCreate",
    "ScheduleFireOut",
    "ScheduleList",
    "ScheduleOut",
]

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
_YEAR = 366 * 24 * 3600


class ScheduleCreate(_Request):
    """``POST /schedules``: a cron expression or an interval that runs a stored config."""

    name: str = Field(pattern=_NAME, description="Unique name.", examples=["nightly-facts"])
    config_name: str = Field(pattern=_NAME, description="The stored config to run.")
    config_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Pin a version; the latest when null."
    )
    cron: str | None = Field(
        default=None,
        max_length=200,
        description="5-field cron expression (or 6, seconds first), read in `timezone`. "
        "Exactly one of `cron` and `interval_seconds`.",
        examples=["0 2 * * *"],
    )
    interval_seconds: int | None = Field(
        default=None, ge=1, le=_YEAR, description="Fire every N seconds."
    )
    anchor: datetime | None = Field(
        default=None,
        description="Interval only: a fire time the others count from (default the Unix "
        "epoch, so an hourly schedule fires on the hour).",
    )
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone.")
    params: dict[str, Any] = Field(default_factory=dict, description="Params of each run.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of each run.")
    paused: bool = Field(default=False, description="Create it paused.")
    catchup: Literal["skip", "once", "all"] = Field(
        default="skip",
        description="After downtime: `skip` drops missed fire times (a fire time runs only "
        "while at most `misfire_grace_seconds` late); `once` runs one catch-up run; `all` "
        "runs each missed one, oldest first, at most `catchup_limit`.",
    )
    catchup_limit: int = Field(
        default=100, ge=1, le=10_000, description="`all`: at most this many missed runs."
    )
    misfire_grace_seconds: int = Field(
        default=60, ge=1, le=_YEAR, description="`skip`: how late a fire time may still run."
    )
    max_active_runs: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="At most this many runs pending or running; a fire time finding the "
        "limit reached is skipped and recorded.",
    )
    description: str | None = Field(default=None, max_length=2000, description="Free text.")


class ScheduleOut(_Response):
    """A stored schedule."""

    id: str = Field(description="The schedule id (a UUIDv7).")
    name: str = Field(description="Unique name; paths take it in place of the id.")
    config_name: str = Field(description="The stored config it runs.")
    config_version: int | None = Field(description="Pinned version; null = the latest.")
    cron: str | None = Field(description="Cron expression (null for an interval schedule).")
    interval_seconds: int | None = Field(description="Interval (null for a cron schedule).")
    anchor: datetime | None = Field(description="Interval fire times count from it.")
    timezone: str = Field(description="IANA zone the cron expression is read in.")
    params: dict[str, Any] = Field(description="Params of each run.")
    labels: dict[str, str] = Field(description="Labels of each run.")
    paused: bool = Field(description="No fire time runs while paused.")
    catchup: Literal["skip", "once", "all"] = Field(description="What runs after downtime.")
    catchup_limit: int = Field(description="`all`: at most this many missed runs.")
    misfire_grace_seconds: int = Field(description="`skip`: how late a fire time may run.")
    max_active_runs: int | None = Field(
        description="At most this many runs pending or running; null = no limit."
    )
    description: str | None = Field(description="Free text.")
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it was last paused or resumed.")
    next_fire_at: datetime | None = Field(description="Next fire time; null while paused.")
    last_fire_at: datetime | None = Field(description="The latest fire time claimed.")


class ScheduleList(_Response):
    """Schedules by name."""

    items: list[ScheduleOut] = Field(description="The schedules.")


class NextFireTimes(_Response):
    """``GET /schedules/{ref}/next``: the coming fire times (UTC)."""

    schedule_id: str = Field(description="The schedule's id.")
    paused: bool = Field(description="When paused, the times it would fire if resumed now.")
    times: list[datetime] = Field(description="The coming fire times, soonest first.")


class ScheduleFireOut(_Response):
    """One fire time a server claimed."""

    fire_time: datetime = Field(description="The fire time (UTC).")
    outcome: Literal["started", "skipped", "failed"] = Field(
        description="started: an execution was created; skipped: max_active_runs was "
        "reached; failed: the run could not be created (e.g. the config is archived)."
    )
    execution_id: str | None = Field(description="The execution it created (when started).")
    reason: str | None = Field(description="Why it was skipped or failed.")
    claimed_at: datetime = Field(description="When a server claimed it.")
    claimed_by: str = Field(description="The server process that claimed it.")


class FireList(_Response):
    """A schedule's fire times, newest first."""

    items: list[ScheduleFireOut] = Field(description="Fire times, newest first.")
    next_before: datetime | None = Field(description="Pass as ?before= for older ones.")
