"""The execution package's models: stored configs, execution rows, stats, replay.

Pydantic models, because they cross the API edge unchanged (the server uses
them as response models).  Rows are hydrated from ``factflow_infra`` tables by
the repositories; the indexed columns are the truth on read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

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

ReplayMode: TypeAlias = Literal["failed", "all", "ids"]


class ConfigSourceType(StrEnum):
    """How an execution was started."""

    CLI = "cli"
    API = "api"
    REPLAY = "replay"
    DEMO = "demo"
    SCHEDULE = "schedule"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PipelineConfig(_Model):
    """One stored version of a pipeline config.  Versions are never mutated."""

    id: str
    name: str
    version: int = Field(ge=1)
    definition: dict[str, Any] = Field(description="The validated definition, params unresolved.")
    checksum: str = Field(description="SHA-256 of the canonical JSON of the definition.")
    description: str | None = None
    created_at: datetime
    archived_at: datetime | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class ReplaySource(_Model):
    """Which messages of which execution a replay re-injects.

    ``mode="failed"`` (default) takes the messages that failed; ``"all"`` the
    root messages (those that entered the pipeline, at their source routes);
    ``"ids"`` exactly ``message_ids``.  ``route`` narrows any mode to one route.
    """

    parent_execution_id: str
    mode: ReplayMode = "failed"
    message_ids: list[str] = Field(default_factory=list)
    route: str | None = None

    @model_validator(mode="after")
    def _ids_match_mode(self) -> ReplaySource:
        if self.mode == "ids" and not self.message_ids:
            raise ValueError("mode 'ids' needs at least one message id in message_ids")
        if self.mode != "ids" and self.message_ids:
            raise ValueError(f"message_ids are only allowed with mode 'ids', not {self.mode!r}")
        return self


class StatsCounts(_Model):
    """Message counts.  ``received`` = settled + ``in_flight``."""

    received: int = 0
    processed: int = 0
    failed: int = 0
    filtered: int = 0
    cancelled: int = 0
    in_flight: int = 0


class RouteStats(StatsCounts):
    """Counts and processing durations of one route."""

    duration_ms_total: float = 0.0
    duration_ms_avg: float | None = None
    duration_ms_max: float | None = None
    first_started_at: datetime | None = None
    last_finished_at: datetime | None = None


class ExecutionStats(_Model):
    """What an execution did, derived from lineage and storage records.

    Live (``live=True``) while the execution runs; materialised on the row, and
    read from there, once it is terminal.
    """

    totals: StatsCounts = Field(default_factory=StatsCounts)
    routes: dict[str, RouteStats] = Field(default_factory=dict)
    storage_objects: int = 0
    storage_bytes: int = 0
    duration_seconds: float | None = None
    failure_events_suppressed: int = 0
    live: bool = False


class PipelineExecution(_Model):
    """One run of one config: the row (DESIGN §3).

    ``config_snapshot`` holds the resolved definition, the params and the
    route→queue directory at creation; it never changes afterwards.
    """

    id: str
    config_id: str | None
    config_name: str
    config_version: int | None
    config_snapshot: dict[str, Any]
    status: ExecutionStatus
    source: ConfigSourceType
    replay_source: ReplaySource | None = None
    parent_execution_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    stats: ExecutionStats | None = None
    owner: str | None = None
    heartbeat_at: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    last_event_seq: int = 0

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
