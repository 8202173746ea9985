"""``BoundedH11Protocol``: uvicorn's h11 protocol with a request-head timeout.

uvicorn bounds an idle keep-alive connection (``timeout_keep_alive``) but not
a client that opens a connection and sends nothing, or sends a request line
and headers one byte at a time ("slowloris"): such a connection stays open
for ever.  This protocol gives every request head (request line + headers)
``header_timeout`` seconds from the connection opening (or from the previous
response completing) to arrive in full; then the connection is closed.

The rest is bounded elsewhere: the head's size by h11 (uvicorn's
``h11_max_incomplete_event_size``), the body's size and read time by
``BodyLimitMiddleware``, an idle keep-alive connection by uvicorn's
``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["BoundedH11Protocol", "bounded_protocol"]


class BoundedH11Protocol(H11Protocol):
    """h11 with a deadline for each request head (``header_timeout`` seconds)."""

    #: set by ``bounded_protocol`` from ``FACTFLOW_HTTP_HEADER_TIMEOUT``
    header_timeout: ClassVar[float]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Between requests the keep-alive timeout bounds the wait for a first
        # byte; from that byte on, the head has its own deadline.
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # a head has started (or is awaited): keep its deadline
        else:
            self._cancel_head_timer()  # the head is complete

    def _arm_head_timer(self) -> None:
        if self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def bounded_protocol(header_timeout: float) -> type[BoundedH11Protocol]:
    """A ``BoundedH11Protocol`` subclass with this ``header_timeout`` (one per server)."""
    return type(
        "BoundedH11Protocol", (BoundedH11Protocol,), {"header_timeout": float(header_timeout)}
    )
