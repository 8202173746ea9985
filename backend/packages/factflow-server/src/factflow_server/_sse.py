"""SSE adapters for the two streamers.

Each event of an execution's log becomes one frame::

    id: <seq>
    event: <kind>
    data: {"execution_id": …, "seq": …, "kind": …, "data": {…}, "at": …}

A client resumes with ``Last-Event-ID`` (or ``?after=``) and gets exactly the
events after that seq.  ``sse-starlette`` adds the comment heartbeats and
notices a client that goes away: the generator is cancelled, and closing the
streamer frees its event-bus subscription at once.  The response ends after
the terminal status event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

from factflow_execution import ExecutionEventStreamer
from sse_starlette import EventSourceResponse, ServerSentEvent

__all__ = ["SSE_MEDIA_TYPE", "event_stream_response", "sse_openapi_response"]

SSE_MEDIA_TYPE: Final = "text/event-stream"
_SEP: Final = "\n"


async def _frames(streamer: ExecutionEventStreamer) -> AsyncIterator[ServerSentEvent]:
    try:
        async for event in streamer:
            yield ServerSentEvent(
                data=event.model_dump_json(), event=event.kind, id=str(event.seq), sep=_SEP
            )
    finally:
        await streamer.aclose()


def event_stream_response(
    streamer: ExecutionEventStreamer, *, heartbeat: float
) -> EventSourceResponse:
    """Stream ``streamer`` as SSE with a comment heartbeat every ``heartbeat`` seconds."""
    return EventSourceResponse(_frames(streamer), ping=heartbeat, sep=_SEP)


def sse_openapi_response(what: str) -> dict[str, Any]:
    """The OpenAPI description of a 200 SSE response."""
    return {
        "description": (
            f"{what} as Server-Sent Events. Each frame: 'id: <seq>', 'event: <kind>', "
            "'data: <ExecutionEvent JSON>'; comment lines are heartbeats. The stream "
            "ends after the terminal status event."
        ),
        "content": {
            SSE_MEDIA_TYPE: {
                "schema": {"type": "string"},
                "example": (
                    "id: 3\nevent: status\ndata: "
                    '{"execution_id":"0190…","seq":3,"kind":"status",'
                    '"data":{"status":"completed"},"at":"2026-01-01T00:00:00Z"}\n\n'
                ),
            }
        },
    }
