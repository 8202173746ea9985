"""``BodyLimitMiddleware``: request bodies are bounded in size and in read time.

A declared ``Content-Length`` over ``FACTFLOW_MAX_BODY_BYTES`` is refused
before the body is read; a body that streams past the limit (chunked, or
lying about its length) is cut off the moment it does: 413.  A body that has
not arrived in full ``FACTFLOW_HTTP_BODY_TIMEOUT`` seconds after the
application first asked for it is cut off too: 408.  Both answers carry
``Connection: close``, so the server closes the connection after the answer
instead of reading (and discarding) whatever the client still sends.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from factflow_server._problems import instance_of, problem_response

__all__ = ["BodyLimitMiddleware", "BodyTimeoutError", "BodyTooLargeError"]

_CLOSE = {"Connection": "close"}


class BodyTooLargeError(HTTPException):
    """The request body passed the limit while it was being read.

    An ``HTTPException`` (with ``Connection: close``), so FastAPI's body parsing
    lets it through to the problem handler unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the request body is larger than the limit of {limit} bytes", headers=_CLOSE
        )


class BodyTimeoutError(HTTPException):
    """The request body did not arrive in full within the body timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            408, f"the request body did not arrive within {timeout:g} seconds", headers=_CLOSE
        )


class BodyLimitMiddleware:
    """Pure ASGI middleware (streaming responses pass through untouched).

    ``body_timeout`` (seconds, ``None`` for none) bounds reading the whole body,
    from the first time the application asks for it; once the body is complete,
    ``receive`` is not timed (a long-poll waits on it for a disconnect).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, body_timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout = body_timeout

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
        complete = False
        deadline: float | None = None

        async def limited_receive() -> Message:
            nonlocal seen, complete, deadline
            if complete or self.body_timeout is None:
                message = await receive()
            else:
                loop = asyncio.get_running_loop()
                if deadline is None:
                    deadline = loop.time() + self.body_timeout
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    raise BodyTimeoutError(self.body_timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (BodyTooLargeError, BodyTimeoutError) as error:
            if started:
                raise
            await self._refuse(error, scope, receive, send)

    async def _refuse(
        self, error: HTTPException, scope: Scope, receive: Receive, send: Send
    ) -> None:
        too_large = isinstance(error, BodyTooLargeError)
        response = problem_response(
            error.status_code,
            "payload-too-large" if too_large else "request-timeout",
            error.detail,
            instance=instance_of(scope),
            extensions={"limit": self.max_bytes} if too_large else None,
            headers=_CLOSE,
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
