"""Group commit for storage: object rows (and what a sink records with them) in batches.

``ExecutionStorageService.put`` with a ``StorageCommitter`` renames the bytes
into place without an fsync and hands the object here; ``submit`` appends it
to a buffer and returns (it waits only while ``max_pending`` objects are not
yet durable).  One writer task takes everything buffered, up to
``max_batch`` objects at a time, and makes it durable in this order:

1. the files: each fsynced in worker threads, then each directory once
   (``LocalFileStorage.sync``; a backend without it wrote durably already);
2. the rows: one transaction upserting every ``storage_objects`` row of the
   batch, opened by the ``CommitSink`` so that it can add its own rows (the
   execution tier appends the ``storage.written`` events there).

So a row is never committed before its file is durable: a crash leaves at
worst files without rows, which ``remove_unrecorded_files`` deletes at
recovery.  A file removed between its write and its batch is not recorded.

Progress is counted like the lineage recorder's: ``submitted`` objects
handed in, ``settled`` objects committed or given up, always a prefix (one
writer, in order).  ``flush(execution_id)`` waits until everything submitted
before the call is settled and raises ``StorageFlushError`` if objects of that
execution were given up; a run ends only after its flush, so it never reports
``completed`` before all its objects are durable.  The lineage recorder calls
``flush()`` before each of its batches (``barrier``), so a message is never
recorded as processed while an object it wrote is not yet durable.

A failed batch is retried with backoff; after ``max_attempts`` it is split by
execution, each part tried once more on its own, and the objects of a part
that still fails are given up: their files removed (and a stale row of the
same key deleted), their execution's next flush raises.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, runtime_checkable

from factflow_foundation import InfrastructureError, get_logger
from factflow_protocols import StorageBackend, StoredObject
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_infra.db.database import Database
from factflow_infra.storage.queries import delete_storage_object, upsert_storage_objects

__all__ = [
    "CommitSink",
    "StorageCommitter",
    "StorageFlushError",
    "SyncingBackend",
]

_log = get_logger("factflow.infra.storage.batch")

RowWriter = Callable[[AsyncConnection], Awaitable[None]]


class StorageFlushError(InfrastructureError):
    """Objects of an execution could not be made durable and were given up."""

    code = "storage-flush-failed"


@runtime_checkable
class SyncingBackend(Protocol):
    """A ``StorageBackend`` that can write now and make durable later, in batches."""

    async def write_unsynced(self, path: str, data: bytes) -> str: ...

    async def sync(self, locations: Sequence[str]) -> set[str]: ...


class CommitSink(Protocol):
    """Opens the transaction a batch's rows are written in, adding its own rows."""

    async def commit(self, objects: Sequence[StoredObject], write_rows: RowWriter) -> None:
        """Run ``write_rows`` in one transaction with whatever the sink records of
        ``objects`` (in order), and commit it; raise if it did not commit."""
        ...


class _PlainCommit:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def commit(self, objects: Sequence[StoredObject], write_rows: RowWriter) -> None:
        async with self._db.transaction() as conn:
            await write_rows(conn)


class StorageCommitter:
    """Writes storage rows in batches (see the module docstring).  No I/O and no
    task until the first ``submit``; ``close`` flushes and stops the writer."""

    def __init__(
        self,
        db: Database,
        backend: StorageBackend,
        *,
        sink: CommitSink | None = None,
        max_batch: int = 500,
        max_pending: int = 8000,
        max_attempts: int = 4,
        retry_backoff: tuple[float, float] = (0.05, 1.0),
    ) -> None:
        self._db = db
        self._backend = backend
        self._syncing = backend if isinstance(backend, SyncingBackend) else None
        self._sink: CommitSink = sink or _PlainCommit(db)
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._max_attempts = max_attempts
        self._backoff = retry_backoff
        self._buffer: list[StoredObject] = []
        self.submitted = 0
        self.settled = 0
        self.batches = 0
        self.failed_batches = 0
        self.given_up = 0
        self._failures: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._closed = False

    @property
    def backend(self) -> StorageBackend:
        return self._backend

    async def write(self, path: str, data: bytes) -> str:
        """Put the bytes at ``path`` (not yet durably when the backend can sync later)."""
        if self._syncing is not None:
            return await self._syncing.write_unsynced(path, data)
        return await self._backend.write(path, data)

    async def submit(self, obj: StoredObject) -> None:
        """Queue the row of ``obj`` (its bytes already written); waits only for room."""
        while self.submitted - self.settled >= self._max_pending:
            self._check_writer()
            await self._wait_progress()
        if self._closed:
            raise StorageFlushError(
                f"storage committer is closed; object {obj.key!r} of execution "
                f"{obj.execution_id} was not recorded"
            )
        self._buffer.append(obj)
        self.submitted += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="factflow-storage-committer"
            )
            self._task.add_done_callback(lambda _t: self._signal())
        self._wake.set()

    async def flush(self, execution_id: str | None = None) -> None:
        """Return once everything submitted before the call is settled.

        Raises:
            StorageFlushError: objects of ``execution_id`` were given up (said
                once; the run that flushes it fails), or the writer stopped.
        """
        target = self.submitted
        while self.settled < target:
            self._check_writer()
            await self._wait_progress()
        if execution_id is not None:
            problem = self._failures.pop(execution_id, None)
            if problem is not None:
                raise StorageFlushError(
                    f"storage objects of execution {execution_id} are not durable: {problem}"
                )

    async def close(self) -> None:
        """Flush, then stop the writer; later ``submit`` calls raise."""
        self._closed = True
        try:
            await self.flush()
        finally:
            task, self._task = self._task, None
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- the writer task -------------------------------------------------------

    def _signal(self) -> None:
        event, self._progress = self._progress, asyncio.Event()
        event.set()

    async def _wait_progress(self) -> None:
        await self._progress.wait()

    def _check_writer(self) -> None:
        task = self._task
        if task is not None and task.done():
            cause = None if task.cancelled() else task.exception()
            raise StorageFlushError(
                f"storage committer stopped ({cause!r}); "
                f"{self.submitted - self.settled} objects were not recorded"
            ) from cause
        if task is None and self.submitted > self.settled:
            raise StorageFlushError(
                f"storage committer is closed; {self.submitted - self.settled} objects"
                " were not recorded"
            )

    async def _run(self) -> None:
        while True:
            if not self._buffer:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._buffer[: self._max_batch]
            del self._buffer[: len(batch)]
            await self._settle(batch)
            self.settled += len(batch)
            self._signal()

    async def _settle(self, batch: list[StoredObject]) -> None:
        delay, cap = self._backoff
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._commit(batch)
                self.batches += 1
                return
            except Exception as exc:
                self.failed_batches += 1
                _log.warning(
                    "storage batch of %d objects failed (attempt %d of %d): %r",
                    len(batch),
                    attempt,
                    self._max_attempts,
                    exc,
                )
                if attempt < self._max_attempts:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, cap)
        by_execution: dict[str, list[StoredObject]] = {}
        for obj in batch:
            by_execution.setdefault(obj.execution_id, []).append(obj)
        for execution_id, objects in by_execution.items():
            try:
                await self._commit(objects)
                self.batches += 1
            except Exception as exc:
                await self._give_up(execution_id, objects, f"{type(exc).__name__}: {exc}")

    async def _commit(self, batch: list[StoredObject]) -> None:
        objects = batch
        if self._syncing is not None:
            missing = await self._syncing.sync([obj.location for obj in batch])
            if missing:
                objects = [obj for obj in batch if obj.location not in missing]
                for obj in batch:
                    if obj.location in missing:
                        self.given_up += 1
                        self._failures.setdefault(
                            obj.execution_id,
                            f"the file of {obj.key!r} was removed before it was recorded",
                        )
        if not objects:
            return
        # The last write of a key wins; every write keeps its own event.
        rows = list({(obj.execution_id, obj.key): obj for obj in objects}.values())

        async def write_rows(conn: AsyncConnection) -> None:
            await upsert_storage_objects(conn, rows)

        await self._sink.commit(objects, write_rows)

    async def _give_up(self, execution_id: str, objects: list[StoredObject], problem: str) -> None:
        _log.error(
            "giving up %d storage objects of execution %s: %s", len(objects), execution_id, problem
        )
        self.given_up += len(objects)
        self._failures.setdefault(execution_id, problem)
        for obj in objects:
            path = f"{obj.execution_id}/{obj.key}"
            try:
                await self._backend.delete(path)
            except Exception:
                _log.exception("could not remove storage object %r after giving it up", path)
        with contextlib.suppress(Exception):
            async with self._db.transaction() as conn:
                for obj in objects:
                    await delete_storage_object(conn, obj.execution_id, obj.key)

    def __repr__(self) -> str:
        return (
            f"StorageCommitter({self._backend!r}, submitted={self.submitted}, "
            f"settled={self.settled})"
        )
