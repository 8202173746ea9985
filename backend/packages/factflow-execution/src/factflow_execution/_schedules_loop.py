"""The scheduler loop of one server process: sleep until the next fire time.

Each server runs one (``FACTFLOW_SCHEDULER=false`` turns it off).  It claims
what is due (``ScheduleService.tick``), then sleeps until the soonest cursor
of any unpaused schedule - a timer, not a polling loop - and is woken early
when a schedule changes: by this process directly, by other servers through
PostgreSQL ``LISTEN`` on ``factflow_schedules``.  With no schedule it sleeps
until woken.  If the database fails it retries after ``retry_delay``.

Several servers on one PostgreSQL all wake at a fire time; the claim
transaction lets one of them run it (see ``_schedules_service``).  On SQLite
the write lock serialises them the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from factflow_foundation import get_logger
from factflow_infra.db import Database
from factflow_infra.pg_listener import PostgresListener

from factflow_execution._schedules_service import SCHEDULE_CHANNEL, ScheduleService

__all__ = ["Scheduler"]

_log = get_logger("factflow.execution.scheduler")

# asyncio's timers may fire a little early against the wall clock; waking a
# millisecond late saves a tick that would find nothing due.
_LATE_MARGIN = 0.001


class Scheduler:
    """Runs ``ScheduleService.tick`` whenever a fire time comes or schedules change."""

    def __init__(
        self, schedules: ScheduleService, db: Database, *, retry_delay: float = 5.0
    ) -> None:
        self._schedules = schedules
        self._db = db
        self._retry_delay = retry_delay
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._listener: PostgresListener | None = None
        self.ticks = 0
        schedules.on_change(self.wake)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Re-read the schedules now (a schedule changed)."""
        self._wake.set()

    async def start(self) -> None:
        """Listen for other servers' changes (PostgreSQL), then start the loop."""
        if self._task is not None:
            return
        self._stopping = False
        if self._db.is_postgres:
            self._listener = PostgresListener(
                self._db.url,
                {SCHEDULE_CHANNEL: self._on_notify},
                on_resync=self.wake,  # notifications may have been lost meanwhile
            )
            await self._listener.start()
        self._task = asyncio.create_task(self._run(), name="factflow-scheduler")

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the loop finish what it is doing (a run half started is not left
        half started), then end it; cancel it only if that takes over ``timeout``."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    def _on_notify(self, _payload: str) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before reading: a change during the tick wakes the next wait
            try:
                upcoming = await self._schedules.tick()
                self.ticks += 1
                delay = self._delay_until(upcoming)
            except Exception:  # the database may be down; try again later
                _log.exception("scheduler tick failed; retrying in %.1fs", self._retry_delay)
                delay = self._retry_delay
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _delay_until(self, upcoming: datetime | None) -> float | None:
        if upcoming is None:
            return None  # nothing scheduled: sleep until a change wakes us
        seconds = (upcoming - self._schedules.clock()).total_seconds()
        return max(0.0, seconds) + _LATE_MARGIN
