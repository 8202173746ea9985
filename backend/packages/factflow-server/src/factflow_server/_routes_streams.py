"""``/api/v1/executions/{id}/events`` and ``…/storage/events``: live SSE streams."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse

from factflow_server._deps import ExecutionId, Service, Settings
from factflow_server._openapi import problems
from factflow_server._sse import event_stream_response, sse_openapi_response

__all__ = ["router"]

router = APIRouter(prefix="/executions/{execution_id}", tags=["streams"])

_MAX_SEQ: Final = 2**31 - 1

After = Annotated[
    int,
    Query(ge=0, le=_MAX_SEQ, description="Resume after this seq (Last-Event-ID wins)."),
]
LastEventId = Annotated[
    int | None,
    Header(
        alias="Last-Event-ID",
        ge=0,
        le=_MAX_SEQ,
        description="The id of the last frame received; the stream resumes after it.",
    ),
]


@router.get(
    "/events",
    response_class=EventSourceResponse,
    summary="Stream an execution's events (SSE)",
    description=(
        "Status, route, progress, failure and storage events in seq order, backlog "
        "then live, without gap or duplicate; ends after the terminal status event."
    ),
    responses={200: sse_openapi_response("Every event of the execution"), **problems(404)},
)
async def stream_execution_events(
    service: Service,
    settings: Settings,
    execution_id: ExecutionId,
    after: After = 0,
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    start = last_event_id if last_event_id is not None else after
    return event_stream_response(
        service.events(execution_id, after=start), heartbeat=settings.sse_heartbeat
    )


@router.get(
    "/storage/events",
    response_class=EventSourceResponse,
    summary="Stream an execution's storage writes (SSE)",
    description=(
        "`storage.written` events, then the terminal status event. Seqs are those of "
        "the execution's event log, so they have gaps and stay valid resume points."
    ),
    responses={200: sse_openapi_response("The execution's storage writes"), **problems(404)},
)
async def stream_storage_events(
    service: Service,
    settings: Settings,
    execution_id: ExecutionId,
    after: After = 0,
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    start = last_event_id if last_event_id is not None else after
    return event_stream_response(
        service.storage_events(execution_id, after=start), heartbeat=settings.sse_heartbeat
    )
