"""PostgreSQL LISTEN/NOTIFY as a cross-process wake-up feed.

A notification is a wake-up, never the record: the persisted log is read by
cursor for correctness (Dagster's lesson), so a missed notification costs
latency, not data.  One dedicated asyncpg connection listens; if it drops, the
listener reconnects with backoff and then calls ``on_resync`` so consumers can
re-read whatever they might have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from factflow_foundation import InfrastructureError, get_logger
from sqlalchemy.engine import make_url

__all__ = ["PostgresListener"]

_log = get_logger("factflow.infra.pg_listener")

Handler = Callable[[str], None]


class PostgresListener:
    """LISTEN on some channels and hand each payload to its handler (in order)."""

    def __init__(
        self,
        url: str,
        handlers: Mapping[str, Handler],
        *,
        on_resync: Callable[[], None] | None = None,
        reconnect_max: float = 5.0,
    ) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._handlers = dict(handlers)
        self._on_resync = on_resync
        self._reconnect_max = reconnect_max
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.connections = 0

    async def start(self) -> None:
        """Connect and LISTEN; returns once the first connection listens."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="factflow-pg-listener")
        ready = asyncio.ensure_future(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()  # re-raise why it stopped

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _dispatch(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        handler = self._handlers.get(channel)
        if handler is None:
            return
        try:
            handler(payload)
        except Exception:  # a bad payload must not stop the feed
            _log.exception("handler for %s failed on %r", channel, payload)

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                if self.connections == 0:
                    raise InfrastructureError(f"cannot LISTEN on PostgreSQL: {exc}") from exc
                _log.warning("LISTEN connection failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                for channel in self._handlers:
                    await conn.add_listener(channel, self._dispatch)
                self.connections += 1
                if self.connections > 1 and self._on_resync is not None:
                    self._on_resync()
                self._ready.set()
                delay = 0.1
                await lost.wait()
                _log.warning("LISTEN connection lost; reconnecting")
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)
