"""``/api/v1/executions/{id}/events`` and ``…/storage/events``: live SSE streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final

from factflow_foundation import dumps
from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from factflow_server._deps import ExecutionId, Service, Settings
from factflow_server._openapi import problems
from factflow_server._sse import event_stream_response, sse_openapi_response

__all__ = ["changes_router", "router"]

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


changes_router = APIRouter(prefix="/streams", tags=["streams"])


async def _change_frames(service: Service) -> AsyncIterator[ServerSentEvent]:
    stream = service.changes()
    try:
        async for change in stream:
            data = {
                "execution_id": change.execution_id or None,
                "seq": change.seq,
                "status": change.status,
                "kinds": list(change.kinds),
                "resync": change.resync,
            }
            yield ServerSentEvent(data=dumps(data), event="change", sep="\n")
    finally:
        await stream.aclose()


@changes_router.get(
    "/executions",
    response_class=EventSourceResponse,
    summary="Stream changes of every execution (SSE)",
    description=(
        "One `change` frame per committed batch of any execution's events: "
        "`{execution_id, seq, status, kinds, resync}` (`status` set when the batch "
        "changed it). A notification feed for live lists, not a log: no ids, no "
        "replay; read the list again on (re)connect and on `resync: true` (the "
        "client fell behind). Heartbeats keep it open; it ends when the server stops."
    ),
    responses={200: sse_openapi_response("Changes of every execution"), **problems()},
)
async def stream_execution_changes(service: Service, settings: Settings) -> EventSourceResponse:
    return EventSourceResponse(_change_frames(service), ping=settings.sse_heartbeat, sep="\n")
