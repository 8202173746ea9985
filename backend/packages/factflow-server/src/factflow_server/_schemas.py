"""Request and response bodies of the API that are not execution-tier models.

The execution tier's Pydantic models (``PipelineConfig``, ``PipelineExecution``,
``ExecutionStats``, ``DAGResponse``) cross the edge unchanged; what is here
wraps them (lists, pages) or gives a wire shape to plain values (wait results,
lineage records, stored objects).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from factflow_execution import (
    ExecutionStats,
    ExecutionStatus,
    PipelineConfig,
    PipelineExecution,
    ReplaySource,
)
from factflow_foundation import InvalidInputError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "CancelRequest",
    "ConfigList",
    "ConfigSaved",
    "ExecutionEventOut",
    "ExecutionList",
    "HealthStatus",
    "LineagePage",
    "LineageRecordOut",
    "ReadyStatus",
    "ReplayRequest",
    "RunRequest",
    "StorageObjectOut",
    "StoragePage",
    "WaitResult",
]

_ROUTE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
_LABEL_KEY_PATTERN = r"^[A-Za-z0-9_./-]{1,100}$"


def _unicode_only(value: Any) -> None:
    """Reject lone UTF-16 surrogates (a JSON ``"\\ud800"`` escape without its pair):
    such text cannot be encoded, stored or sent back."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (it holds a lone surrogate)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _unicode_only(key)
            _unicode_only(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _unicode_only(item)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        _unicode_only(value)
        return value


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- configs ---------------------------------------------------------------------


class ConfigSaved(_Response):
    """``POST /configs``: the stored version, and whether it is new."""

    config: PipelineConfig
    created: bool = Field(description="False when the definition was unchanged.")


class ConfigList(_Response):
    """A list of config versions."""

    items: list[PipelineConfig]


class RunRequest(_Request):
    """``POST /configs/{name}/run``: every field optional."""

    params: dict[str, Any] = Field(default_factory=dict, description="Override config params.")
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Config version; latest when null."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels.")
    source: Literal["api", "cli", "demo", "schedule"] = Field(
        default="api", description="Who started the run ('cli' when the CLI does)."
    )


# -- executions ----------------------------------------------------------------------


class ExecutionList(_Response):
    """One page of executions, newest first, each with stats."""

    items: list[PipelineExecution]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class CancelRequest(_Request):
    """``POST /executions/{id}/cancel``."""

    reason: str | None = Field(default=None, max_length=2000)


class ReplayRequest(_Request):
    """``POST /executions/{id}/replay``: which messages of the parent to re-inject."""

    mode: Literal["failed", "all", "ids"] = "failed"
    message_ids: list[str] = Field(default_factory=list, max_length=10_000)
    route: str | None = Field(default=None, pattern=_ROUTE_PATTERN)
    labels: dict[str, str] = Field(default_factory=dict)

    def selection(self, parent_execution_id: str) -> ReplaySource:
        """The ``ReplaySource`` this request asks for (``InvalidInputError`` when the
        mode and the ids disagree)."""
        try:
            return ReplaySource(
                parent_execution_id=parent_execution_id,
                mode=self.mode,
                message_ids=self.message_ids,
                route=self.route,
            )
        except ValidationError as exc:
            messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise InvalidInputError(f"invalid replay selection: {messages}") from None


class WaitResult(_Response):
    """``GET /executions/{id}/wait``: the terminal status and stats, or ``timed_out``."""

    execution_id: str
    status: ExecutionStatus
    timed_out: bool
    stats: ExecutionStats | None = None
    error: str | None = None
    finished_at: datetime | None = None


class LineageRecordOut(_Response):
    """One settled message at one route (payload included unless spilled to storage)."""

    id: int = Field(description="Write order; the paging cursor.")
    execution_id: str
    message_id: str
    parent_message_id: str | None
    origin_message_id: str
    route: str
    status: str
    attempt: int
    started_at: datetime | None
    finished_at: datetime
    duration_ms: float | None
    error: str | None
    outputs: int
    payload: Any = Field(description="The input payload; null when spilled (see payload_ref).")
    payload_ref: str | None


class LineagePage(_Response):
    """One page of lineage records in write order."""

    items: list[LineageRecordOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page.")


class StorageObjectOut(_Response):
    """Metadata of one object an execution stored."""

    id: int
    key: str
    size: int
    checksum: str
    content_type: str
    route: str | None
    message_id: str | None
    written_at: datetime


class StoragePage(_Response):
    """One page of stored objects in write order."""

    items: list[StorageObjectOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page.")


class ExecutionEventOut(_Response):
    """One event of an execution's log: the ``data:`` of an SSE frame."""

    execution_id: str
    seq: int = Field(description="Dense per execution (1, 2, 3, …); the SSE frame id.")
    kind: str = Field(
        description="status, route.started, route.drained, progress, message.failed, "
        "storage.written (also the SSE event name)."
    )
    data: dict[str, Any]
    at: datetime


# -- health ----------------------------------------------------------------------------


class HealthStatus(_Response):
    """``GET /healthz``."""

    status: Literal["ok"] = "ok"


class ReadyStatus(_Response):
    """``GET /readyz`` when ready."""

    status: Literal["ready"] = "ready"
    database: str = Field(description="'sqlite' or 'postgresql'.")
    revision: str | None = Field(description="The schema revision (equal to the code's head).")
