"""The execution package's models: stored configs, execution rows, stats, replay.

Pydantic models, because they cross the API edge unchanged (the server uses
them as response models).  Rows are hydrated from ``factflow_infra`` tables by
the repositories; the indexed columns are the truth on read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_STATUSES",
    "TERMINAL_STATUSES",
    "ConfigSourceType",
    "ExecutionStats",
    "ExecutionStatus",
    "PipelineConfig",
    "PipelineExecution",
    "ReplayMode",
    "ReplaySource",
    "RouteStats",
    "StatsCounts",
]

ExecutionStatus: TypeAlias = Literal[
    "pending", "running", "completed", "failed", "cancelled", "interrupted"
]
"""The status of an execution (DESIGN §4).  Terminal states never change."""

ALL_STATUSES: frozenset[str] = frozenset(
    {"pending", "running", "completed", "failed", "cancelled", "interrupted"}
)
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled", "interrupted"})
ACTIVE_STATUSES: frozenset[str] = frozenset({"pending", "running"})

ReplayMode: TypeAlias = Literal["failed", "cancelled", "unfinished", "all", "ids"]


class ConfigSourceType(StrEnum):
    """How an execution was started."""

    CLI = "cli"
    API = "api"
    REPLAY = "replay"
    RESUME = "resume"
    DEMO = "demo"
    SCHEDULE = "schedule"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PipelineConfig(_Model):
    """One stored version of a pipeline config.  Versions are never mutated."""

    id: str = Field(description="The id of this version (a UUIDv7).")
    name: str = Field(description="The config's name; versions share it.")
    version: int = Field(ge=1, description="1, 2, 3, … per name; a changed definition adds one.")
    definition: dict[str, Any] = Field(description="The validated definition, params unresolved.")
    checksum: str = Field(description="SHA-256 of the canonical JSON of the definition.")
    description: str | None = Field(
        default=None, description="Free text: the definition's, or the one given when stored."
    )
    created_at: datetime = Field(description="When this version was stored.")
    archived_at: datetime | None = Field(
        default=None, description="When the config was archived (then it cannot run); or null."
    )

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class ReplaySource(_Model):
    """Which messages of which execution a replay re-injects.

    ``mode="failed"`` (default) takes the messages that failed;
    ``"cancelled"`` those a stop left unfinished (recorded ``cancelled``);
    ``"unfinished"`` both; ``"all"`` the root messages (those that entered the
    pipeline, at their source routes); ``"ids"`` exactly ``message_ids``.
    ``route`` narrows any mode to one route.  (What a crash lost was never
    recorded, so no replay can name it: resume the run instead.)
    """

    parent_execution_id: str = Field(description="The execution whose messages are replayed.")
    mode: ReplayMode = Field(
        default="failed",
        description="'failed': the failed messages; 'cancelled': those a stop left unfinished;"
        " 'unfinished': failed and cancelled; 'all': the root messages; 'ids': message_ids.",
    )
    message_ids: list[str] = Field(
        default_factory=list, description="The messages to replay (mode 'ids' only)."
    )
    route: str | None = Field(default=None, description="Only messages at this route; or null.")

    @model_validator(mode="after")
    def _ids_match_mode(self) -> ReplaySource:
        if self.mode == "ids" and not self.message_ids:
            raise ValueError("mode 'ids' needs at least one message id in message_ids")
        if self.mode != "ids" and self.message_ids:
            raise ValueError(f"message_ids are only allowed with mode 'ids', not {self.mode!r}")
        return self


def _to_microseconds(value: float | None, places: int) -> float | None:
    """Round a duration to the microsecond, the clocks' resolution: what lies
    beyond is float noise from summing (``26.235000000000003``), not data."""
    return None if value is None else round(value, places)


class StatsCounts(_Model):
    """Message counts.  ``received`` = settled + ``in_flight`` + ``lost``."""

    received: int = Field(default=0, description="Messages enqueued for the route(s).")
    processed: int = Field(default=0, description="Settled: processed successfully.")
    failed: int = Field(default=0, description="Settled: failed after every retry.")
    filtered: int = Field(default=0, description="Settled: a processor returned nothing.")
    cancelled: int = Field(default=0, description="Settled: the run stopped before them.")
    in_flight: int = Field(default=0, description="Received but not settled yet.")
    lost: int = Field(
        default=0,
        description="Interrupted runs only: messages the route had received from recorded"
        " parents when its server process died, never recorded (queued or in progress then);"
        " a resume processes them.  A source route's lost inputs cannot be counted: a resume"
        " produces them again.",
    )


class RouteStats(StatsCounts):
    """Counts and processing durations of one route (milliseconds, to the microsecond)."""

    duration_ms_total: float = Field(
        default=0.0, description="Processing time of every settled message, summed (ms)."
    )
    duration_ms_avg: float | None = Field(
        default=None, description="Mean processing time per message (ms); null before any."
    )
    duration_ms_max: float | None = Field(
        default=None, description="Longest processing time of one message (ms); null before any."
    )
    first_started_at: datetime | None = Field(
        default=None, description="When the route started its first message."
    )
    last_finished_at: datetime | None = Field(
        default=None, description="When the route settled its latest message."
    )

    @field_validator("duration_ms_total", "duration_ms_avg", "duration_ms_max")
    @classmethod
    def _microseconds(cls, value: float | None) -> float | None:
        return _to_microseconds(value, 3)


class ExecutionStats(_Model):
    """What an execution did, derived from lineage and storage records.

    Live (``live=True``) while the execution runs; materialised on the row, and
    read from there, once it is terminal.
    """

    totals: StatsCounts = Field(default_factory=StatsCounts, description="Counts over every route.")
    routes: dict[str, RouteStats] = Field(
        default_factory=dict, description="Counts and durations per route name."
    )
    storage_objects: int = Field(default=0, description="Objects the run stored.")
    storage_bytes: int = Field(default=0, description="Bytes the run stored.")
    duration_seconds: float | None = Field(
        default=None, description="Seconds from start to finish; null until the run is terminal."
    )
    failure_events_suppressed: int = Field(
        default=0,
        description="Failures not published as message.failed events (over the per-run cap).",
    )
    live: bool = Field(
        default=False, description="True while running (counts move); false once materialised."
    )

    @field_validator("duration_seconds")
    @classmethod
    def _microseconds(cls, value: float | None) -> float | None:
        return _to_microseconds(value, 6)


class PipelineExecution(_Model):
    """One run of one config: the row (DESIGN §3).

    ``config_snapshot`` holds the resolved definition, the params and the
    route→queue directory at creation; it never changes afterwards.
    """

    id: str = Field(description="The execution id (a UUIDv7; a unique prefix also works).")
    config_id: str | None = Field(description="The id of the config version that ran.")
    config_name: str = Field(description="The name of the config that ran.")
    config_version: int | None = Field(description="The version of the config that ran.")
    config_snapshot: dict[str, Any] = Field(
        description="The resolved definition, params and route→queue directory, fixed at "
        "creation (keys: definition, params, directory, config)."
    )
    status: ExecutionStatus = Field(
        description="pending, running, completed, failed, cancelled or interrupted."
    )
    source: ConfigSourceType = Field(description="How the run was started.")
    replay_source: ReplaySource | None = Field(
        default=None, description="For a replay: which messages of which run it re-injects."
    )
    parent_execution_id: str | None = Field(
        default=None, description="The execution a replay or resume continues; or null."
    )
    created_at: datetime = Field(description="When the execution was created.")
    started_at: datetime | None = Field(default=None, description="When it became running.")
    finished_at: datetime | None = Field(default=None, description="When it became terminal.")
    error: str | None = Field(
        default=None, description="Why it failed, was cancelled or was interrupted; or null."
    )
    stats: ExecutionStats | None = Field(
        default=None, description="Counts and durations (live while running)."
    )
    owner: str | None = Field(
        default=None, description="The server process running it (host:pid:token)."
    )
    heartbeat_at: datetime | None = Field(
        default=None, description="The owner's latest heartbeat for this run."
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Free-form key/value labels given at start."
    )
    last_event_seq: int = Field(default=0, description="The seq of its latest event.")
    schedule_id: str | None = Field(
        default=None, description="The schedule that fired this run (source 'schedule')."
    )
    queue_position: int | None = Field(
        default=None,
        description="While the run waits in the run queue (status pending): its place, 1 "
        "being the next to start when a slot frees (runs of a config at its limit are "
        "passed over); null otherwise.",
    )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at
        if end is None:
            return None
        return (end - self.started_at).total_seconds()
