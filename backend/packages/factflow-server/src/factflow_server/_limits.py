"""``BodyLimitMiddleware``: refuse request bodies over ``FACTFLOW_MAX_BODY_BYTES`` with 413.

A declared ``Content-Length`` over the limit is refused before the body is
read; a body that streams past the limit (chunked, or lying about its length)
is cut off the moment it does.  Either way the client gets a 413 problem.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from factflow_server._problems import instance_of, problem_response

__all__ = ["BodyLimitMiddleware", "BodyTooLargeError"]


class BodyTooLargeError(HTTPException):
    """The request body passed the limit while it was being read.

    An ``HTTPException``, so FastAPI's body parsing lets it through to the
    problem handler unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class BodyLimitMiddleware:
    """Pure ASGI middleware (streaming responses pass through untouched)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            error = BodyTooLargeError(self.max_bytes)
            await self._refuse(error, scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError as error:
            if started:
                raise
            await self._refuse(error, scope, receive, send)

    async def _refuse(
        self, error: BodyTooLargeError, scope: Scope, receive: Receive, send: Send
    ) -> None:
        response = problem_response(
            413,
            "payload-too-large",
            error.detail,
            instance=instance_of(scope),
            extensions={"limit": self.max_bytes},
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
