"""``/api/v1/executions/{id}/logs`` (a page) and ``…/logs/stream`` (SSE follow).

A run's log is what its processors and adapters logged (``ctx.logger`` at
INFO and above, other loggers at their own level while a run's code is
being called) and every message failure with its traceback, numbered
``seq`` 1, 2, 3 … per execution.  ``seq`` is the paging cursor (``after`` /
``next_after``) and the SSE frame id (``Last-Event-ID`` resumes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final, Literal

from factflow_execution import ExecutionLogRecord, ExecutionLogStreamer
from factflow_foundation import dumps
from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from factflow_server._deps import ExecutionId, Service, Settings
from factflow_server._openapi import problems
from factflow_server._sse import SSE_MEDIA_TYPE

__all__ = ["LogPage", "router"]

router = APIRouter(prefix="/executions/{execution_id}", tags=["lineage and storage"])

_MAX_SEQ: Final = 2**31 - 1

Level = Literal["debug", "info", "warning", "error", "critical"]

MessageId = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Only records logged while this message was being processed.",
    ),
]
MinLevel = Annotated[
    Level | None,
    Query(description="Only records at this level or above (`warning` includes `error`)."),
]


class LogPage(BaseModel):
    """One page of a run's log in seq order."""

    model_config = ConfigDict(extra="forbid")

    items: list[ExecutionLogRecord] = Field(description="Records in seq order.")
    next_after: int | None = Field(
        description="Pass as ?after= for the next page; null on the last page so far "
        "(a running execution may log more: follow it with /logs/stream)."
    )


@router.get(
    "/logs",
    response_model=LogPage,
    summary="An execution's log (paged)",
    description=(
        "What the run's processors and adapters logged, and every failed message "
        "attempt with its traceback, in seq order. At most `FACTFLOW_MAX_LOG_RECORDS` "
        "records per run are kept; a last `warning` record from logger `factflow.logs` "
        "says how many more were dropped."
    ),
    responses=problems(404),
)
async def list_logs(
    service: Service,
    execution_id: ExecutionId,
    message_id: MessageId = None,
    level: MinLevel = None,
    after: Annotated[
        int, Query(ge=0, le=_MAX_SEQ, description="`next_after` of the last page (a `seq`).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Page size.")] = 100,
) -> LogPage:
    records = await service.logs(
        execution_id, message_id=message_id, level=level, after=after, limit=limit
    )
    return LogPage(items=records, next_after=records[-1].seq if len(records) >= limit else None)


async def _frames(streamer: ExecutionLogStreamer) -> AsyncIterator[ServerSentEvent]:
    try:
        async for record in streamer:
            yield ServerSentEvent(
                data=record.model_dump_json(), event="log", id=str(record.seq), sep="\n"
            )
    finally:
        await streamer.aclose()
    if streamer.final_status is not None:
        # The end, said the way /events says it (no id: Last-Event-ID stays a log seq).
        end = {
            "execution_id": streamer.execution_id,
            "kind": "status",
            "data": {"status": streamer.final_status},
        }
        yield ServerSentEvent(data=dumps(end), event="status", sep="\n")


@router.get(
    "/logs/stream",
    response_class=EventSourceResponse,
    summary="Follow an execution's log (SSE)",
    description=(
        "The log's records after `after` (or `Last-Event-ID`), then live ones as they "
        "are written, without gap or duplicate; the same filters as `/logs`. Once the "
        "execution is terminal and its log has been sent to the end (at once for a "
        "finished run), a last frame `event: status` without id carries "
        '`{"execution_id", "kind": "status", "data": {"status"}}` and the stream ends.'
    ),
    responses={
        200: {
            "description": (
                "Log records as Server-Sent Events. Each frame: 'id: <seq>', "
                "'event: log', 'data: <ExecutionLogRecord JSON>'; comment lines are "
                "heartbeats; the last frame is 'event: status' with the terminal status."
            ),
            "content": {
                SSE_MEDIA_TYPE: {
                    "schema": {"type": "string"},
                    "example": (
                        'id: 7\nevent: log\ndata: {"execution_id":"0190…","seq":7,'
                        '"at":"2026-01-01T00:00:00Z","level":"warning","level_no":30,'
                        '"logger":"factflow.run.0190.extract","route":"extract",'
                        '"message_id":"5a1e…","attempt":1,"message":"message 5a1e… failed '
                        "at route 'extract' after 1 attempt(s): KeyError: 'missing'\","
                        '"traceback":"Traceback (most recent call last): …"}\n\n'
                        'event: status\ndata: {"execution_id":"0190…","kind":"status",'
                        '"data":{"status":"completed"}}\n\n'
                    ),
                }
            },
        },
        **problems(404),
    },
)
async def stream_logs(
    service: Service,
    settings: Settings,
    execution_id: ExecutionId,
    message_id: MessageId = None,
    level: MinLevel = None,
    after: Annotated[
        int, Query(ge=0, le=_MAX_SEQ, description="Resume after this seq (Last-Event-ID wins).")
    ] = 0,
    last_event_id: Annotated[
        int | None,
        Header(
            alias="Last-Event-ID",
            ge=0,
            le=_MAX_SEQ,
            description="The id of the last frame received; the stream resumes after it.",
        ),
    ] = None,
) -> EventSourceResponse:
    start = last_event_id if last_event_id is not None else after
    streamer = service.log_stream(execution_id, after=start, message_id=message_id, level=level)
    return EventSourceResponse(_frames(streamer), ping=settings.sse_heartbeat, sep="\n")
