"""The stop signal of a run: the first reason to stop wins, later ones are ignored."""

from __future__ import annotations

import asyncio

from factflow_protocols import RunOutcomeStatus

__all__ = ["StopSignal"]


class StopSignal:
    """Records why a run stops (``completed`` when it drained, ``failed``, ``cancelled``).

    Whichever cause calls ``request_stop`` first decides the outcome; this is
    what makes a cancel racing completion end in exactly one state.
    """

    __slots__ = ("_event", "error", "status")

    def __init__(self) -> None:
        self.status: RunOutcomeStatus | None = None
        self.error: str | None = None
        self._event = asyncio.Event()

    def is_set(self) -> bool:
        """Whether an outcome has been decided (the run is stopping or stopped)."""
        return self.status is not None

    def request_stop(self, status: RunOutcomeStatus, error: str | None) -> None:
        """Decide the outcome unless one was decided already."""
        if self.status is not None:
            return
        self.status = status
        self.error = error
        self._event.set()

    async def wait(self) -> None:
        """Return once an outcome has been decided."""
        await self._event.wait()
