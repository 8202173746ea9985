"""``OrchestratorManager``: the one owner of this process's running orchestrators.

One per process (the seed: "one Python process owns all running executions").
It enforces the capacity limit, hands out its owner id (written on every
execution row it runs, with a heartbeat), and drives graceful shutdown.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

from factflow_engine import PipelineOrchestrator
from factflow_foundation import CapacityExceededError, ConflictError
from factflow_protocols import ProgressSnapshot, RunOutcome

from factflow_execution._errors import ExecutionCapacityError

__all__ = ["OrchestratorManager", "default_owner_id", "parse_owner_id"]


def default_owner_id() -> str:
    """``host:pid:token``: unique per process, and says where the process lived."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def parse_owner_id(owner: str) -> tuple[str, int] | None:
    """``(host, pid)`` of an owner id made by ``default_owner_id`` (None otherwise)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


class OrchestratorManager:
    """Owns ``PipelineOrchestrator`` instances keyed by execution id."""

    def __init__(self, *, capacity: int = 100, owner_id: str | None = None) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.owner_id = owner_id or default_owner_id()
        self._orchestrators: dict[str, PipelineOrchestrator] = {}
        self._reserved: set[str] = set()
        self._accepting = True

    # -- admission ---------------------------------------------------------

    def reserve(self, execution_id: str) -> None:
        """Claim a slot before starting ``execution_id``; raises when full or stopping."""
        if not self._accepting:
            raise CapacityExceededError(
                "this server is shutting down and starts no new executions; "
                "retry against another server or after it restarts"
            )
        if execution_id in self._reserved or execution_id in self._orchestrators:
            raise ConflictError(f"execution {execution_id} is already being started here")
        if len(self._reserved) + len(self._orchestrators) >= self.capacity:
            raise ExecutionCapacityError(self.capacity)
        self._reserved.add(execution_id)

    def release(self, execution_id: str) -> None:
        """Give back a reservation that did not lead to a running orchestrator."""
        self._reserved.discard(execution_id)

    def register(self, execution_id: str, orchestrator: PipelineOrchestrator) -> None:
        """Turn a reservation into an owned orchestrator."""
        self._reserved.discard(execution_id)
        self._orchestrators[execution_id] = orchestrator

    def discard(self, execution_id: str) -> None:
        """Forget a finished orchestrator (called once its row is terminal)."""
        self._orchestrators.pop(execution_id, None)
        self._reserved.discard(execution_id)

    # -- queries -----------------------------------------------------------

    def get(self, execution_id: str) -> PipelineOrchestrator | None:
        return self._orchestrators.get(execution_id)

    def __contains__(self, execution_id: object) -> bool:
        return execution_id in self._orchestrators or execution_id in self._reserved

    def __len__(self) -> int:
        return len(self._orchestrators)

    def ids(self) -> list[str]:
        """Executions this process owns right now (starting or running)."""
        return [*self._reserved, *self._orchestrators]

    def progress(self, execution_id: str) -> ProgressSnapshot | None:
        orchestrator = self._orchestrators.get(execution_id)
        return None if orchestrator is None else orchestrator.progress()

    @property
    def accepting(self) -> bool:
        return self._accepting

    # -- control -----------------------------------------------------------

    def cancel(self, execution_id: str, reason: str | None = None) -> bool:
        """Ask an owned orchestrator to stop; False when this process does not own it."""
        orchestrator = self._orchestrators.get(execution_id)
        if orchestrator is None:
            return False
        orchestrator.cancel(reason)
        return True

    async def wait(self, execution_id: str) -> RunOutcome | None:
        """Wait until an owned orchestrator has finished (and been finalised)."""
        orchestrator = self._orchestrators.get(execution_id)
        if orchestrator is None:
            return None
        return await orchestrator.wait()

    def stop_accepting(self) -> None:
        self._accepting = False

    async def wait_all(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds for every owned run to finish by itself;
        return the ids still running."""
        pending = {asyncio.ensure_future(o.wait()): eid for eid, o in self._orchestrators.items()}
        if pending:
            _done, not_done = await asyncio.wait(pending, timeout=timeout)
            for future in not_done:
                future.cancel()
        return list(self._orchestrators)
