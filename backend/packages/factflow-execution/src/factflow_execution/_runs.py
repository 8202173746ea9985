"""The record of one execution this process runs, and the stop requests it takes.

A ``LocalRun`` lives from admission (a reserved slot) until its row is
terminal; ``OrchestratorManager`` is its only writer.  Its phase only moves
forward::

    reserved ──launch──▶ running ──stop──▶ stopping
        │                   └──────────────────┴──finish──▶ finishing ──▶ (released)
        └──stop (honoured at launch)      released without launch (start refused/failed)

The first stop request wins and is never replaced: a user's cancel that is
still inside its grace period when shutdown asks every run to stop keeps its
kind and reason, so the run ends ``cancelled``, not ``interrupted``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from factflow_protocols import Orchestrator

from factflow_execution._models import ExecutionStatus, PipelineExecution

__all__ = ["LocalRun", "RunPhase", "StopKind", "StopRequest"]


class StopKind(StrEnum):
    """Who asked a run to stop, which decides its terminal status."""

    CANCEL = "cancel"
    """A user (or API client) cancelled it: ``cancelled``."""
    INTERRUPT = "interrupt"
    """This server is shutting down: ``interrupted``."""

    @property
    def status(self) -> ExecutionStatus:
        return "cancelled" if self is StopKind.CANCEL else "interrupted"


@dataclass(frozen=True, slots=True)
class StopRequest:
    """The first stop request a run received: its kind and the reason recorded."""

    kind: StopKind
    reason: str


class RunPhase(StrEnum):
    """Where a ``LocalRun`` is in its life (see the module docstring)."""

    RESERVED = "reserved"
    RUNNING = "running"
    STOPPING = "stopping"
    FINISHING = "finishing"


@dataclass(eq=False)
class LocalRun:
    """One execution owned by this process (see the module docstring)."""

    execution_id: str
    phase: RunPhase = RunPhase.RESERVED
    orchestrator: Orchestrator | None = None
    row: PipelineExecution | None = None
    """The row as it became ``running`` here (so finishing need not read it)."""
    stop: StopRequest | None = None
    final: PipelineExecution | None = None
    """The terminal row, once this process made it terminal."""
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def request_stop(self, request: StopRequest) -> bool:
        """Record ``request`` unless a stop was requested before or the run is
        already finishing; whether this request is the one that counts."""
        if self.stop is not None or self.phase is RunPhase.FINISHING:
            return False
        self.stop = request
        if self.phase is RunPhase.RUNNING:
            self.phase = RunPhase.STOPPING
        return True

    async def ended(self) -> PipelineExecution | None:
        """Wait until the run is released; the terminal row if this process wrote it."""
        await self.released.wait()
        return self.final
