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
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from factflow_protocols import (
    MessageFailure,
    OrchestratorCallback,
    ProgressSnapshot,
    RouteProgress,
    RunOutcome,
)

__all__ = ["CallbackPump"]

_Call: TypeAlias = Callable[[OrchestratorCallback], Awaitable[None]]
"""One callback method call, bound to its arguments (typed against the protocol)."""


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
        self._events: deque[tuple[str, _Call]] = deque()
        self._wake = asyncio.Event()
        self._dirty = False
        self._closing = False
        self._last_progress = -math.inf
        self._task: asyncio.Task[None] | None = None

    def start(self, name: str) -> None:
        self._task = asyncio.create_task(self._run(), name=name)

    # -- queued, in order, never blocking: one method per callback signal ------

    def route_started(self, route: str) -> None:
        self._post("on_route_started", lambda callback: callback.on_route_started(route))

    def route_drained(self, route: str, progress: RouteProgress) -> None:
        self._post("on_route_drained", lambda callback: callback.on_route_drained(route, progress))

    def message_failed(self, failure: MessageFailure) -> None:
        self._post("on_message_failed", lambda callback: callback.on_message_failed(failure))

    def _post(self, name: str, call: _Call) -> None:
        self._events.append((name, call))
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

    # -- delivered now (after ``close``: the last progress, then the outcome) ---

    async def progress(self, snapshot: ProgressSnapshot) -> None:
        await self._call("on_progress", lambda callback: callback.on_progress(snapshot))

    async def finished(self, outcome: RunOutcome) -> None:
        await self._call("on_finished", lambda callback: callback.on_finished(outcome))

    async def _call(self, name: str, call: _Call) -> None:
        """Run one callback call; an exception from it is logged, not raised."""
        try:
            await call(self._callback)
        except Exception:
            self._logger.exception("orchestrator callback %s raised; continuing", name)

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
                name, call = self._events.popleft()
                await self._call(name, call)
            if self._closing:
                return
            if self._dirty and loop.time() >= self._last_progress + self._interval:
                self._dirty = False
                self._last_progress = loop.time()
                await self.progress(self._snapshot())
