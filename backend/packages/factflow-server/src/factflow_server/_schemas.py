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
    "ExecutionListItem",
    "HealthStatus",
    "LineagePage",
    "LineageRecordOut",
    "ReadyStatus",
    "ReplayRequest",
    "ResumeRequest",
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

    config: PipelineConfig = Field(description="The stored version (new or unchanged).")
    created: bool = Field(description="False when the definition was unchanged.")


class ConfigList(_Response):
    """A list of config versions."""

    items: list[PipelineConfig] = Field(description="The configs, by name then version.")


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
    priority: int = Field(
        default=0,
        ge=-1000,
        le=1000,
        description="Its place if it has to wait in the run queue: higher starts first, "
        "first come, first served within a priority.",
    )


# -- executions ----------------------------------------------------------------------


class ExecutionListItem(PipelineExecution):
    """An execution as lists show it: a summary, without the snapshot unless asked."""

    # The one difference from the detail view: the snapshot (~5 KB) is optional.
    config_snapshot: dict[str, Any] | None = Field(  # type: ignore[assignment]
        default=None,
        description="Present only with ?include=snapshot (the detail endpoint always has it).",
    )


class ExecutionList(_Response):
    """One page of executions, newest first, each with stats."""

    items: list[ExecutionListItem] = Field(description="Summaries, newest first.")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")

    @classmethod
    def json_of(
        cls, executions: list[PipelineExecution], next_cursor: str | None, *, snapshot: bool
    ) -> str:
        """The page as JSON, serialised once: the executions are validated models
        already (re-validating a page costs ~2-3 ms of the list's latency), and the
        snapshot (~5 KB per item) is left out unless asked for."""
        items = [ExecutionListItem.model_construct(**dict(e)) for e in executions]
        page = cls.model_construct(items=items, next_cursor=next_cursor)
        exclude = None if snapshot else {"items": {"__all__": {"config_snapshot"}}}
        return page.model_dump_json(exclude=exclude)


class CancelRequest(_Request):
    """``POST /executions/{id}/cancel``."""

    reason: str | None = Field(
        default=None, max_length=2000, description="Recorded as the execution's error."
    )


class ReplayRequest(_Request):
    """``POST /executions/{id}/replay``: which messages of the parent to re-inject."""

    mode: Literal["failed", "cancelled", "unfinished", "all", "ids"] = Field(
        default="failed",
        description="'failed': the failed messages; 'cancelled': those a stop left unfinished"
        " (recorded cancelled); 'unfinished': failed and cancelled; 'all': the root messages;"
        " 'ids': message_ids.",
    )
    message_ids: list[str] = Field(
        default_factory=list, max_length=10_000, description="Message ids (mode 'ids' only)."
    )
    route: str | None = Field(
        default=None, pattern=_ROUTE_PATTERN, description="Only messages at this route."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Labels of the new execution.")
    priority: int = Field(
        default=0,
        ge=-1000,
        le=1000,
        description="Its place if it has to wait in the run queue (higher starts first).",
    )

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


class ResumeRequest(_Request):
    """``POST /executions/{id}/resume``: optional labels of the new execution."""

    labels: dict[str, str] = Field(default_factory=dict, description="Labels of the new execution.")


class WaitResult(_Response):
    """``GET /executions/{id}/wait``: the terminal status and stats, or ``timed_out``."""

    execution_id: str = Field(description="The execution waited on.")
    status: ExecutionStatus = Field(description="Its status when the wait ended.")
    timed_out: bool = Field(description="True when the timeout passed before it was terminal.")
    stats: ExecutionStats | None = Field(
        default=None, description="The final stats (null when timed out)."
    )
    error: str | None = Field(default=None, description="The run's error, if any.")
    finished_at: datetime | None = Field(default=None, description="When it became terminal.")


class LineageRecordOut(_Response):
    """One settled message at one route (payload included unless spilled to storage)."""

    id: int = Field(description="Write order; the paging cursor.")
    execution_id: str = Field(description="The execution.")
    message_id: str = Field(description="The message.")
    parent_message_id: str | None = Field(
        description="The message whose processing emitted this one; null for a root."
    )
    origin_message_id: str = Field(
        description="The root this message descends from (its own id for a root)."
    )
    route: str = Field(description="The route that settled it.")
    status: str = Field(description="processed, failed, filtered or cancelled.")
    attempt: int = Field(description="Processing attempts made at this route.")
    started_at: datetime | None = Field(description="When processing started; null if never.")
    finished_at: datetime = Field(description="When it settled.")
    duration_ms: float | None = Field(
        description="Processing time in milliseconds (to the microsecond); null if never started."
    )
    error: str | None = Field(description="Why it failed; null otherwise.")
    outputs: int = Field(description="Messages its processing emitted downstream.")
    payload: Any = Field(description="The input payload; null when spilled (see payload_ref).")
    payload_ref: str | None = Field(
        description="The storage key of a payload too large to keep inline; or null."
    )

    @field_validator("duration_ms")
    @classmethod
    def _microseconds(cls, value: float | None) -> float | None:
        # The clocks' resolution; the rest is float noise (26.235000000000003).
        return None if value is None else round(value, 3)


class LineagePage(_Response):
    """One page of lineage records in write order."""

    items: list[LineageRecordOut] = Field(description="Records in write order.")
    next_after: int | None = Field(description="Pass as ?after= for the next page.")


class StorageObjectOut(_Response):
    """Metadata of one object an execution stored."""

    id: int = Field(description="Write order; the paging cursor.")
    key: str = Field(description="The object's key (its path under the execution).")
    size: int = Field(description="Bytes.")
    checksum: str = Field(description="SHA-256 of the bytes (hex); also the download's ETag.")
    content_type: str = Field(description="The media type it was stored with.")
    route: str | None = Field(description="The route that wrote it; null if not a route.")
    message_id: str | None = Field(description="The message being processed when written.")
    written_at: datetime = Field(description="When it was written.")


class StoragePage(_Response):
    """One page of stored objects in write order."""

    items: list[StorageObjectOut] = Field(description="Objects in write order.")
    next_after: int | None = Field(description="Pass as ?after= for the next page.")


class ExecutionEventOut(_Response):
    """One event of an execution's log: the ``data:`` of an SSE frame."""

    execution_id: str = Field(description="The execution.")
    seq: int = Field(description="Dense per execution (1, 2, 3, …); the SSE frame id.")
    kind: str = Field(
        description="status, route.started, route.drained, progress, message.failed, "
        "storage.written (also the SSE event name)."
    )
    data: dict[str, Any] = Field(
        description="Per kind: status {status, error?, stats?}; route.* {route, counts?}; "
        "progress {routes, totals, …}; message.failed {route, message_id, error, …}; "
        "storage.written {key, size, …}."
    )
    at: datetime = Field(description="When the event was appended.")


# -- health ----------------------------------------------------------------------------


class HealthStatus(_Response):
    """``GET /healthz``."""

    status: Literal["ok"] = Field(default="ok", description="Always 'ok': the process serves.")


class ReadyStatus(_Response):
    """``GET /readyz`` when ready."""

    status: Literal["ready"] = Field(
        default="ready", description="Always 'ready' (otherwise the answer is a 503 problem)."
    )
    database: str = Field(description="'sqlite' or 'postgresql'.")
    revision: str | None = Field(description="The schema revision (equal to the code's head).")
