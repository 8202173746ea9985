"""Delivers orchestrator events to the callback from one task, in order, never blocking workers.

Route starts, drains and message failures are queued and delivered in the
order they happened.  Progress is coalesced: a change sets a flag and wakes
the pump, which sends at most one ``on_progress`` per interval (and none when
nothing changed).  A callback that raises is logged; the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from typing import Any

from factflow_protocols import OrchestratorCallback, ProgressSnapshot

__all__ = ["CallbackPump"]


class CallbackPump:
    """One task that calls the ``OrchestratorCallback`` on behalf of the whole run."""

    def __init__(
        self,
        callback: OrchestratorCallback,
        snapshot: Callable[[], ProgressSnapshot],
        interval: float,
        logger: logging.Logger,
    ) -> None:
        self._callback = callback
        self._snapshot = snapshot
        self._interval = interval
        self._logger = logger
        self._events: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._wake = asyncio.Event()
        self._dirty = False
        self._closing = False
        self._last_progress = -math.inf
        self._task: asyncio.Task[None] | None = None

    def start(self, name: str) -> None:
        self._task = asyncio.create_task(self._run(), name=name)

    def post(self, method: str, *args: Any) -> None:
        """Queue a call of ``callback.<method>(*args)`` (never blocks)."""
        self._events.append((method, args))
        self._wake.set()

    def changed(self) -> None:
        """Note that counters changed (cheap; called on the hot path)."""
        if not self._dirty:
            self._dirty = True
            self._wake.set()

    async def close(self) -> None:
        """Deliver every queued event, then stop the pump task."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def call(self, method: str, *args: Any) -> None:
        """Call a callback method now; an exception from it is logged, not raised."""
        try:
            await getattr(self._callback, method)(*args)
        except Exception:
            self._logger.exception("orchestrator callback %s raised; continuing", method)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._events and not self._closing:
                wait: float | None = None
                if self._dirty:
                    wait = self._last_progress + self._interval - loop.time()
                if wait is None or wait > 0:
                    self._wake.clear()
                    try:
                        async with asyncio.timeout(wait):
                            await self._wake.wait()
                    except TimeoutError:
                        pass  # the rate limit elapsed: time to send pending progress
            while self._events:
                method, args = self._events.popleft()
                await self.call(method, *args)
            if self._closing:
                return
            if self._dirty and loop.time() >= self._last_progress + self._interval:
                self._dirty = False
                self._last_progress = loop.time()
                await self.call("on_progress", self._snapshot())
