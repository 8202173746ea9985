"""Deleting finished executions: one on request, a prune by age and status, and the
server's own retention pass.

What a delete removes, and in which order:

1. **Rows, in one transaction**: one conditional ``DELETE`` of the execution
   row (``… WHERE id = :id AND status IN (terminal) AND NOT EXISTS (a pending
   or running run whose parent it is)``), so a live run is refused, never
   half-deleted, and so is a run that a live replay or resume still reads.
   The foreign keys do the rest in the same statement: ``ON DELETE CASCADE``
   removes its lineage records and totals, storage object rows, events, and
   the rows of any table that references a run the same way; replays and
   resumes of it keep their rows, their ``parent_execution_id`` set NULL
   (``ON DELETE SET NULL``); a replay's ``replay_source`` still names the id.
2. **Files and queues, after the commit**: the run's storage directory
   ``<id>/``, its spilled lineage payloads ``_lineage/<id>/``, and, with a
   durable broker, the run's queues (what an interrupted run left for a
   resume).  A crash between the commit and
   this step leaves those directories behind with no row: ``sweep_orphans``
   removes directories named like an execution id whose row is gone, once when
   the server starts and after every retention pass.  A directory is only
   written once its run's row is committed, so a live run's files never look
   orphaned.
3. **A change** on the server-wide feed (``kinds=("deleted",)``), so open lists
   drop the run.

Nothing of another run is touched: every statement is keyed by the one id.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from factflow_foundation import (
    FactFlowSettings,
    InvalidInputError,
    SettingDefaults,
    get_logger,
    utcnow,
)
from factflow_infra.db import Database, pipeline_executions
from factflow_protocols import EventBus, QueueBackend, StorageBackend
from sqlalchemy import delete, exists, func, select

from factflow_execution._changes import EXECUTIONS_TOPIC, ExecutionChange
from factflow_execution._errors import (
    ExecutionInUseError,
    ExecutionNotFoundError,
    IllegalTransitionError,
)
from factflow_execution._models import ACTIVE_STATUSES, TERMINAL_STATUSES

__all__ = ["PruneResult", "Retention"]

_log = get_logger("factflow.execution.retention")

_TERMINAL: Final = sorted(TERMINAL_STATUSES)
_ACTIVE: Final = sorted(ACTIVE_STATUSES)
#: Where the lineage writer spills large payloads: ``_lineage/<execution id>/…``.
_LINEAGE_DIR: Final = "_lineage"
_EXECUTION_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ID_BATCH: Final = 500
#: Largest number of runs one prune call deletes (or lists, dry).
MAX_PRUNE: Final = 10_000


@dataclass(frozen=True, slots=True)
class PruneResult:
    """The runs a prune deleted (or, dry, would delete), oldest first; ``more`` is
    true when further runs matched beyond ``limit``."""

    execution_ids: list[str]
    dry_run: bool
    more: bool


class Retention:
    """Deletes finished executions and their files; runs the retention loop.

    ``days`` (``settings.retention_days``) turns on the periodic pass: every
    ``interval`` seconds it deletes the runs that ended more than ``days`` ago,
    ``batch`` at a time, one transaction each.  Without ``days`` the loop only
    sweeps orphaned files once at start.
    """

    def __init__(
        self,
        db: Database,
        storage: StorageBackend,
        bus: EventBus,
        *,
        queues: QueueBackend | None = None,
        days: float | None = None,
        interval: float = SettingDefaults.retention_interval,
        batch: int = 100,
    ) -> None:
        self.db = db
        self.storage = storage
        self.bus = bus
        self.queues = queues
        self.days = days
        self.interval = interval
        self.batch = batch
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.passes = 0  # completed retention passes (tests wait on ``pass_done``)
        self.pass_done = asyncio.Event()

    @classmethod
    def from_settings(
        cls,
        settings: FactFlowSettings,
        db: Database,
        storage: StorageBackend,
        bus: EventBus,
        queues: QueueBackend | None = None,
    ) -> Retention:
        """Retention as ``retention_days`` and ``retention_interval`` say (no I/O)."""
        return cls(
            db,
            storage,
            bus,
            queues=queues,
            days=settings.retention_days,
            interval=settings.retention_interval,
        )

    # -- one run -------------------------------------------------------------

    async def delete(self, execution_id: str) -> None:
        """Delete a finished execution, its rows and its files.

        Raises:
            ExecutionNotFoundError: no such execution.
            IllegalTransitionError: it is pending or running (cancel it first).
            ExecutionInUseError: a pending or running replay or resume continues it.
        """
        t = pipeline_executions
        child = t.alias("child")
        active_child = (
            select(child.c.id)
            .where(child.c.parent_execution_id == execution_id, child.c.status.in_(_ACTIVE))
            .limit(1)
        )
        async with self.db.transaction() as conn:
            deleted = (
                await conn.execute(
                    delete(t)
                    .where(
                        t.c.id == execution_id,
                        t.c.status.in_(_TERMINAL),
                        ~exists(active_child),
                    )
                    .returning(t.c.config_snapshot)
                )
            ).first()
            if deleted is None:
                status = (
                    await conn.execute(select(t.c.status).where(t.c.id == execution_id))
                ).scalar()
                if status is None:
                    raise ExecutionNotFoundError(execution_id)
                if status not in TERMINAL_STATUSES:
                    raise IllegalTransitionError(execution_id, "delete", str(status), _TERMINAL)
                child_id = (await conn.execute(active_child)).scalar()
                raise ExecutionInUseError(execution_id, str(child_id))
        await self._remove_files(execution_id)
        await self._discard_queues(execution_id, deleted.config_snapshot)
        self.bus.publish(EXECUTIONS_TOPIC, ExecutionChange(execution_id, kinds=("deleted",)))

    async def _remove_files(self, execution_id: str) -> None:
        for prefix in (execution_id, f"{_LINEAGE_DIR}/{execution_id}"):
            try:
                await self.storage.delete_tree(prefix)
            except Exception as exc:  # the rows are gone; the sweep retries the files
                _log.warning(
                    "could not remove the files of %s under %r: %s", execution_id, prefix, exc
                )

    async def _discard_queues(self, execution_id: str, snapshot: Any) -> None:
        """Delete what a durable broker still holds for the run (an interrupted run's
        leftovers, kept for a resume that will not come now)."""
        if self.queues is None or not self.queues.durable:
            return
        directory = snapshot.get("directory") if isinstance(snapshot, dict) else None
        names = sorted({str(name) for name in (directory or {}).values()})
        if not names:
            return
        try:
            await self.queues.discard_leftovers(execution_id, names)
        except Exception as exc:  # the rows are gone; the broker keeps the queues
            _log.warning("could not delete the broker queues of %s: %s", execution_id, exc)

    # -- many runs -------------------------------------------------------------

    async def prune(
        self,
        *,
        ended_before: datetime,
        statuses: Sequence[str] = (),
        limit: int = 1000,
        dry_run: bool = False,
    ) -> PruneResult:
        """Delete (``dry_run``: list) finished runs that ended before ``ended_before``,
        oldest first, at most ``limit``; ``statuses`` narrows to some terminal ones.

        Raises:
            InvalidInputError: a status that is not terminal, or ``limit`` out of range.
        """
        wanted = sorted(set(statuses)) or _TERMINAL
        for status in wanted:
            if status not in TERMINAL_STATUSES:
                raise InvalidInputError(
                    f"only finished runs can be pruned: status {status!r} is not one of "
                    f"{', '.join(_TERMINAL)}"
                )
        if not 1 <= limit <= MAX_PRUNE:
            raise InvalidInputError(f"prune limit must be between 1 and {MAX_PRUNE}, got {limit}")
        t = pipeline_executions
        # created_at <= finished_at, so the first condition (indexed) only narrows.
        query = (
            select(t.c.id)
            .where(
                t.c.status.in_(wanted),
                t.c.created_at < ended_before,
                func.coalesce(t.c.finished_at, t.c.created_at) < ended_before,
            )
            .order_by(t.c.created_at, t.c.id)
            .limit(limit + 1)
        )
        async with self.db.connect() as conn:
            ids = [str(i) for i in (await conn.execute(query)).scalars()]
        more, ids = len(ids) > limit, ids[:limit]
        if dry_run:
            return PruneResult(ids, dry_run=True, more=more)
        deleted: list[str] = []
        for execution_id in ids:
            if self._stopping.is_set():
                more = True
                break
            try:
                await self.delete(execution_id)
            except ExecutionNotFoundError:
                continue  # deleted meanwhile (another server's pass, a user)
            deleted.append(execution_id)
        return PruneResult(deleted, dry_run=False, more=more)

    async def sweep_orphans(self) -> list[str]:
        """Remove storage directories of executions whose row is gone (left by a crash
        between a delete's commit and its file removal).  Returns their ids."""
        names = set(await self.storage.list_dir("")) | set(
            await self.storage.list_dir(_LINEAGE_DIR)
        )
        candidates = sorted(n for n in names if _EXECUTION_ID.fullmatch(n))
        orphans: list[str] = []
        t = pipeline_executions
        for start in range(0, len(candidates), _ID_BATCH):
            chunk = candidates[start : start + _ID_BATCH]
            async with self.db.connect() as conn:
                found = set((await conn.execute(select(t.c.id).where(t.c.id.in_(chunk)))).scalars())
            orphans += [name for name in chunk if name not in found]
        for execution_id in orphans:
            await self._remove_files(execution_id)
        if orphans:
            _log.info("removed the files of %d deleted executions", len(orphans))
        return orphans

    # -- the server's retention pass --------------------------------------------

    async def apply(self, now: datetime | None = None) -> list[str]:
        """One retention pass: delete every run that ended more than ``days`` ago
        (in batches), then sweep orphaned files.  Returns the deleted ids."""
        if self.days is None:
            return []
        cutoff = (now or utcnow()) - timedelta(days=self.days)
        deleted: list[str] = []
        while not self._stopping.is_set():
            result = await self.prune(ended_before=cutoff, limit=self.batch)
            deleted += result.execution_ids
            if not result.more:
                break
        await self.sweep_orphans()
        if deleted:
            _log.info("retention: deleted %d executions that ended before %s", len(deleted), cutoff)
        return deleted

    async def start(self) -> None:
        """Start the loop: sweep orphans once, then (with ``days``) a pass every
        ``interval`` seconds until ``stop``."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name="factflow-retention")

    async def stop(self) -> None:
        """Stop the loop; a pass in progress ends after the run it is deleting."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.days is not None:
                    await self.apply()  # sweeps orphans too
                else:
                    await self.sweep_orphans()
            except Exception:  # a failed pass is retried at the next one
                _log.exception("retention pass failed")
            self.passes += 1
            done, self.pass_done = self.pass_done, asyncio.Event()
            done.set()
            if self.days is None:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)
