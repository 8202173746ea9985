"""``RunQueue``: runs wait ``pending`` for a slot and start in order, on any server.

A run submitted while this process is at capacity (``max_running_executions``),
while its config is at its limit (``config_limits``), or while other runs
already wait, is accepted as a ``pending`` row with a ``run_queue`` row beside
it, in one transaction.  Each server's dispatcher claims waiting runs in
order - ``priority`` descending, then FIFO - while it has free slots, passing
over runs whose config is at its limit.

Exactly once: a claim is one transaction (``EventLog.writing``) that locks the
queue row (PostgreSQL ``FOR UPDATE SKIP LOCKED``: a row another server is
claiming is skipped, never taken twice), checks the config limit under the
limit row's lock, deletes the queue row, builds the orchestrator and moves the
execution ``pending → running`` (or ``failed`` when it cannot be built).  On
SQLite there is one process and one writer.  A cancel racing a claim is
decided by the conditional status UPDATE: the loser changes nothing.

Wake-ups, no polling: a slot freed in this process (``OrchestratorManager.
on_release``) wakes the dispatcher directly; other servers are told through
``NOTIFY factflow_queue`` (sent in the transaction that queued a run or
changed a limit, and by a server that frees a slot while it no longer starts
runs).  The wait has a long safety timeout (``recheck``) only against a lost
notification.  Queued runs belong to no process: recovery leaves them alone,
and they survive restarts of every server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from enum import Enum

from factflow_foundation import ConflictError, InvalidInputError, get_logger
from factflow_infra.db import Database
from factflow_infra.pg_listener import PostgresListener
from factflow_protocols import Orchestrator
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._channels import QUEUE_CHANNEL, notify
from factflow_execution._errors import ExecutionCapacityError
from factflow_execution._events import EventKind, EventLog
from factflow_execution._manager import Admission, OrchestratorManager
from factflow_execution._models import ExecutionStatus, PipelineExecution
from factflow_execution._queue_models import (
    ConfigLimit,
    ConfigLimitReachedError,
    QueuedRun,
    QueueEntry,
)
from factflow_execution._queue_repository import (
    ConfigLimitRepository,
    RunQueueRepository,
    enqueue,
)
from factflow_execution._repositories import (
    PipelineConfigRepository,
    PipelineExecutionRepository,
)
from factflow_execution._runs import LocalRun, RunPhase
from factflow_execution._transitions import Refused, TransitionResult, transition

__all__ = ["AddRow", "BuildOrchestrator", "RunQueue"]

_log = get_logger("factflow.execution.queue")

AddRow = Callable[[AsyncConnection], Awaitable[PipelineExecution]]
"""Inserts the new execution's ``pending`` row in the given transaction."""
BuildOrchestrator = Callable[[PipelineExecution], Awaitable[Orchestrator]]

_PENDING: tuple[ExecutionStatus, ...] = ("pending",)

DEFAULT_RECHECK = 300.0
"""Seconds a dispatcher waits without any wake-up before looking again anyway."""


class _Claim(Enum):
    STARTED = "started"
    ENDED = "ended"  # the row could not be built, or was no longer pending
    SKIPPED = "skipped"  # another server is claiming it
    LIMITED = "limited"  # its config is at its limit
    FULL = "full"


class RunQueue:
    """Submits runs (start now or queue) and claims queued runs for this process."""

    def __init__(
        self,
        *,
        db: Database,
        manager: OrchestratorManager,
        build: BuildOrchestrator,
        recheck: float = DEFAULT_RECHECK,
    ) -> None:
        self._db = db
        self._manager = manager
        self._events: EventLog = manager.events
        self._build = build
        self._recheck = recheck
        self._wake = asyncio.Event()
        self._pass_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._listener: PostgresListener | None = None
        self._stopping = False
        self._telling: set[asyncio.Task[None]] = set()
        self.started = 0
        """Runs this process started from the queue (for tests and metrics)."""
        manager.on_release(self._on_release)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Listen for other servers' wake-ups (PostgreSQL) and start dispatching."""
        if self._task is not None:
            return
        self._stopping = False
        if self._db.is_postgres:
            self._listener = PostgresListener(
                self._db.url, {QUEUE_CHANNEL: self._on_notify}, on_resync=self.wake
            )
            await self._listener.start()
        self._task = asyncio.create_task(self._loop(), name="factflow-run-queue")
        self.wake()  # runs may have waited while no server was up

    async def stop(self) -> None:
        """Stop dispatching; a claim under way finishes first (nothing half started)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            async with self._pass_lock:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    def wake(self) -> None:
        """Look at the queue again soon (a slot freed, or a run was queued)."""
        self._wake.set()

    def _on_notify(self, _payload: str) -> None:
        self._wake.set()

    def _on_release(self, run: LocalRun) -> None:
        # A slot given back without a launch (a claim that lost, a refused start)
        # frees nothing new; waking on it would spin.
        if run.phase is not RunPhase.RESERVED:
            self._wake.set()
            if not self._manager.accepting and self._db.is_postgres:
                task = asyncio.get_running_loop().create_task(self._tell_others())
                self._telling.add(task)
                task.add_done_callback(self._telling.discard)

    async def _tell_others(self) -> None:
        """This server stops starting runs: let another take the slot its run freed
        (a config limit may have been what held a queued run back)."""
        try:
            async with self._db.transaction() as conn:
                await notify(conn, QUEUE_CHANNEL, "")
        except Exception:  # best effort; the others' safety timeout covers it
            _log.warning("could not notify other servers of a freed slot", exc_info=True)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before looking: a wake-up during the pass is kept
            try:
                await self._pass()
            except Exception:  # the database may be down: look again on the next wake-up
                _log.exception("run queue pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._recheck)

    # -- submitting ----------------------------------------------------------------

    async def submit(
        self, execution_id: str, add: AddRow, *, queue: bool = True, priority: int = 0
    ) -> PipelineExecution:
        """Create an execution with ``add`` and start it now, or queue it.

        It starts at once when this process has a free slot, its config is below
        its limit and no run waits before it; otherwise, with ``queue``, it is
        stored ``pending`` in the queue (``queue_position`` set on the answer).
        Without ``queue`` a full process raises ``ExecutionCapacityError`` and a
        config at its limit ``ConfigLimitReachedError``, leaving no row behind.
        """
        try:
            async with self._manager.admit(execution_id) as admission:
                if not (queue and await self._others_wait()):
                    return await self._start_now(admission, add, queue, priority)
        except ExecutionCapacityError:
            if not queue:
                raise
        async with self._events.writing(execution_id) as writer:
            execution = await add(writer.conn)
            await enqueue(writer, execution, priority)
        await self.pump()
        return await self.read(execution_id)

    async def _others_wait(self) -> bool:
        async with self._db.connect() as conn:
            return await RunQueueRepository(conn).any_waiting()

    async def _start_now(
        self, admission: Admission, add: AddRow, queue: bool, priority: int
    ) -> PipelineExecution:
        execution_id = admission.execution_id
        failure: Exception | None = None
        result: TransitionResult | None = None
        async with self._events.writing(execution_id) as writer:
            execution = await add(writer.conn)
            limit = await ConfigLimitRepository(writer.conn).slot_free(execution.config_name)
            if limit is not None:
                if not queue:
                    raise ConfigLimitReachedError(execution.config_name, limit)
                await enqueue(writer, execution, priority)
            else:
                writer.defer(EventKind.STATUS, {"status": "pending"})  # seq 1, with the next
                try:
                    orchestrator = await self._build(execution)
                except Exception as exc:
                    failure = exc
                    await transition(writer, "failed", error=f"could not start: {exc}")
                else:
                    result = await transition(writer, "running", owner=self._manager.owner_id)
        if failure is not None:
            raise failure
        if result is None:  # queued behind its config's limit
            return await self.read(execution_id)
        if isinstance(result, Refused):  # pragma: no cover - inserted pending just now
            raise result.error("start")
        return await admission.launch(orchestrator, result.row)

    async def read(self, execution_id: str) -> PipelineExecution:
        """The row, with its ``queue_position`` while it waits."""
        async with self._db.connect() as conn:
            execution = await PipelineExecutionRepository(conn).get(execution_id)
            if execution.status != "pending":
                return execution
            positions = await RunQueueRepository(conn).positions([execution_id])
        return execution.model_copy(update={"queue_position": positions.get(execution_id)})

    async def forget(self, execution_id: str) -> None:
        """Drop the queue entry of an execution that ended without starting (a
        cancelled queued run).  Only tidiness: reads and claims ignore an entry
        whose execution is not ``pending``, and a claim deletes it."""
        async with self._db.transaction() as conn:
            await RunQueueRepository(conn).remove(execution_id)

    # -- limits and the queue's contents ----------------------------------------------

    async def set_limit(self, config_name: str, max_running: int | None) -> ConfigLimit:
        """Set ``config_name``'s limit (None removes it); the limit and its counts.

        The config must exist (``ConfigNotFoundError``).  Lowering a limit stops
        nothing that runs; it holds back what starts next.  Every server's
        dispatcher looks again, since a raised limit may let queued runs start.
        """
        if max_running is not None and max_running < 0:
            raise InvalidInputError(f"max_running must be 0 or more, not {max_running}")
        async with self._db.transaction() as conn:
            await PipelineConfigRepository(conn).get(config_name)
            limits = ConfigLimitRepository(conn)
            if max_running is None:
                await limits.delete(config_name)
            else:
                await limits.set(config_name, max_running)
            await notify(conn, QUEUE_CHANNEL, config_name)
        self.wake()
        return await self.limit(config_name)

    async def limit(self, config_name: str) -> ConfigLimit:
        """``config_name``'s limit (``max_running`` None: none) with its running and
        queued counts (``ConfigNotFoundError`` for an unknown config)."""
        async with self._db.connect() as conn:
            await PipelineConfigRepository(conn).get(config_name)
            return await ConfigLimitRepository(conn).get(config_name)

    async def limits(self) -> list[ConfigLimit]:
        """Every config limit that is set, by config name."""
        async with self._db.connect() as conn:
            return await ConfigLimitRepository(conn).list()

    async def waiting(self, limit: int = 100) -> tuple[list[QueuedRun], int]:
        """The first ``limit`` queued runs in start order, and how many wait in all."""
        async with self._db.connect() as conn:
            repo = RunQueueRepository(conn)
            return await repo.waiting(limit), await repo.length()

    # -- claiming --------------------------------------------------------------------

    async def pump(self) -> int:
        """Start queued runs while this process has free slots; how many it started.

        Runs as a task of its own, so a caller that goes away (a client that
        disconnects) never leaves a claim half done.
        """
        return await asyncio.shield(asyncio.ensure_future(self._pass()))

    async def _pass(self) -> int:
        started = 0
        async with self._pass_lock:
            while not self._stopping and self._free() > 0:
                async with self._db.connect() as conn:
                    entries = await RunQueueRepository(conn).candidates(self._free() + 8)
                progressed = False
                held: set[str] = set()  # configs found at their limit in this batch
                for entry in entries:
                    if entry.config_name in held:
                        continue  # FIFO per config: no later run of it may go first
                    outcome = await self._claim(entry)
                    if outcome is _Claim.FULL:
                        break
                    if outcome is _Claim.LIMITED:
                        held.add(entry.config_name)
                    elif outcome is _Claim.STARTED:
                        started += 1
                    progressed = progressed or outcome in (_Claim.STARTED, _Claim.ENDED)
                if not progressed:
                    break
        self.started += started
        return started

    def _free(self) -> int:
        if not self._manager.accepting:
            return 0
        return self._manager.capacity - len(self._manager)

    async def _claim(self, entry: QueueEntry) -> _Claim:
        """Start one queued run here if it is still ours to take (module docstring)."""
        try:
            async with self._manager.admit(entry.execution_id) as admission:
                return await self._claim_admitted(admission)
        except ExecutionCapacityError:
            return _Claim.FULL
        except ConflictError:  # being started here already (an explicit start)
            return _Claim.SKIPPED
        except Exception:
            _log.exception("queued execution %s could not start", entry.execution_id)
            return _Claim.ENDED

    async def _claim_admitted(self, admission: Admission) -> _Claim:
        execution_id = admission.execution_id
        failure: Exception | None = None
        result: TransitionResult | None = None
        async with self._events.writing(execution_id) as writer:
            queue = RunQueueRepository(writer.conn)
            if not await queue.lock(execution_id):
                return _Claim.SKIPPED
            execution = await PipelineExecutionRepository(writer.conn).find(execution_id)
            if execution is None or execution.status != "pending":
                await queue.remove(execution_id)  # stale: cancelled or started meanwhile
                return _Claim.ENDED
            limits = ConfigLimitRepository(writer.conn)
            if await limits.slot_free(execution.config_name) is not None:
                return _Claim.LIMITED
            await queue.remove(execution_id)
            try:
                orchestrator = await self._build(execution)
            except Exception as exc:
                failure = exc
                await transition(
                    writer, "failed", error=f"could not start: {exc}", expected=_PENDING
                )
            else:
                result = await transition(
                    writer, "running", owner=self._manager.owner_id, expected=_PENDING
                )
        if failure is not None:
            _log.warning("queued execution %s could not be built: %s", execution_id, failure)
            return _Claim.ENDED
        if result is None or isinstance(result, Refused):
            return _Claim.ENDED
        await admission.launch(orchestrator, result.row)
        return _Claim.STARTED
