"""The batched lineage recorder: buffer in memory, write in batches, never per message.

``record`` appends to a list and returns; one background writer task (started
on the first ``record``) turns the buffer into ``lineage_records`` rows, one
transaction per batch of at most ``batch_size`` entries.  A batch is written
when it is full, when its oldest entry is ``flush_interval`` seconds old, or
when someone asks (``flush``, back-pressure, ``close``).

Progress is tracked with sequence numbers: ``recorded`` counts entries
appended, ``durable`` counts entries committed.  The single writer takes
entries in order, so ``durable`` is always a prefix; ``flush`` waits until
``durable`` reaches what ``recorded`` was when it was called.  Concurrent
flushes therefore share the same writes and can neither lose nor duplicate a
row.

Before each batch the recorder awaits its ``barrier`` when one is set (the
storage group commit's ``flush``): an entry saying a message was processed is
never durable before the objects that message stored.

A failed write keeps its batch and retries it (exponential backoff, capped at
``retry_backoff_max``); ``flush`` raises ``LineageFlushError`` when an attempt
made while it waits fails, and waiting producers stay blocked by the buffer
bound meanwhile, so memory stays bounded and nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from factflow_foundation import FactFlowSettings, InvalidInputError, SettingDefaults, get_logger
from factflow_infra.db import Database
from factflow_protocols import LineageEntry, StorageBackend

from factflow_lineage.errors import LineageFlushError, LineageRecorderClosedError
from factflow_lineage.records import LineageRecord, load_payload
from factflow_lineage.writer import BatchWriter

__all__ = ["LineageRecorder", "RecorderCounters"]

_log = get_logger("factflow.lineage.recorder")


@dataclass(frozen=True, slots=True)
class RecorderCounters:
    """A snapshot of what a recorder has done (for benchmarks and tests)."""

    recorded: int
    rows_written: int
    flushes: int
    failed_flushes: int
    spilled_payloads: int
    pending: int


class LineageRecorder:
    """``LineageSink`` writing ``lineage_records`` in batches (see module docstring).

    Args:
        db: where rows go.
        batch_size: most entries per transaction; a full batch is written at once.
        flush_interval: seconds an entry may wait in the buffer before its batch
            is written anyway.
        max_buffer: most entries recorded but not yet durable; ``record`` waits
            (back-pressure) while the recorder is at this bound.
        max_inline_payload: largest payload JSON (UTF-8 bytes) kept in the row;
            larger ones go to ``storage`` when one is given.
        storage: where large payloads spill (``_lineage/<execution>/<message>.json``).
        retry_backoff_initial / retry_backoff_max: delays between retries of a
            failed batch (doubling up to the cap).
        on_batch: told ``(rows, seconds)`` after each batch committed (metrics).

    Constructing it does no I/O and starts no task.
    """

    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = SettingDefaults.lineage_batch_size,
        flush_interval: float = SettingDefaults.lineage_flush_interval,
        max_buffer: int = 20_000,
        max_inline_payload: int = 64 * 1024,
        storage: StorageBackend | None = None,
        retry_backoff_initial: float = 0.05,
        retry_backoff_max: float = 2.0,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        for name, value in (
            ("batch_size", batch_size),
            ("max_buffer", max_buffer),
            ("max_inline_payload", max_inline_payload),
        ):
            if value < 1:
                raise InvalidInputError(f"LineageRecorder {name} must be at least 1, got {value}")
        for name, seconds in (
            ("flush_interval", flush_interval),
            ("retry_backoff_initial", retry_backoff_initial),
            ("retry_backoff_max", retry_backoff_max),
        ):
            if not seconds > 0:
                raise InvalidInputError(f"LineageRecorder {name} must be positive, got {seconds}")
        self._db = db
        self._batch_size = batch_size
        self._interval = flush_interval
        self._max_buffer = max_buffer
        self._storage = storage
        self._on_batch = on_batch
        self._backoff = (retry_backoff_initial, max(retry_backoff_initial, retry_backoff_max))
        self._writer = BatchWriter(
            db.dialect, max_inline_payload=max_inline_payload, storage=storage
        )
        self._buffer: list[LineageEntry] = []
        #: Awaited before each batch is written (see the module docstring).
        self.barrier: Callable[[], Awaitable[None]] | None = None
        self._recorded = 0  # entries appended
        self._taken = 0  # entries handed to the writer
        self._durable = 0  # entries committed
        self._drain_to = 0  # write everything up to this sequence number now
        self._oldest = 0.0  # monotonic time the oldest buffered entry arrived
        self._flushes = 0
        self._failed_flushes = 0
        self._last_error: BaseException | None = None
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._retry_now = asyncio.Event()
        self._progress = asyncio.Event()

    @classmethod
    def from_settings(
        cls,
        db: Database,
        settings: FactFlowSettings,
        *,
        storage: StorageBackend | None = None,
    ) -> LineageRecorder:
        """A recorder using ``lineage_batch_size`` and ``lineage_flush_interval``."""
        return cls(
            db,
            batch_size=settings.lineage_batch_size,
            flush_interval=settings.lineage_flush_interval,
            storage=storage,
        )

    # --- LineageSink ---------------------------------------------------------

    async def record(self, entry: LineageEntry) -> None:
        """Buffer ``entry``; waits only while ``max_buffer`` entries are unwritten.

        Raises:
            LineageRecorderClosedError: after ``close()``.
        """
        if self._recorded - self._durable >= self._max_buffer:
            await self._wait_for_room()
        if self._closed:
            raise LineageRecorderClosedError(
                f"lineage recorder is closed: message {entry.message_id} at route "
                f"{entry.route!r} of execution {entry.execution_id} was not recorded"
            )
        buffer = self._buffer
        if not buffer:
            self._oldest = time.monotonic()
            if self._task is None:
                self._start()
            self._wake.set()  # the idle writer starts this entry's age clock
        buffer.append(entry)
        self._recorded += 1
        if len(buffer) >= self._batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Return once every entry recorded before this call is durable.

        Raises:
            LineageFlushError: a write attempt made while waiting failed (the
                entries stay buffered and are retried), or the writer stopped.
        """
        target = self._recorded
        if self._durable >= target:
            return
        failures = self._failed_flushes
        self._drain_to = max(self._drain_to, target)
        self._wake.set()
        self._retry_now.set()
        while self._durable < target:
            if self._failed_flushes > failures:
                raise LineageFlushError(
                    f"lineage flush failed: {target - self._durable} entries are not yet "
                    f"durable and are being retried ({self._last_error!r})",
                    pending=self._recorded - self._durable,
                ) from self._last_error
            self._check_writer_alive()
            await self._progress.wait()

    async def close(self) -> None:
        """Flush everything, then stop the writer; later ``record`` calls raise.

        Raises:
            LineageFlushError: the final flush failed; the unwritten entries
                (``pending``) are lost, loudly.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await self.flush()
        finally:
            task, self._task = self._task, None
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._signal()

    # --- observation ------------------------------------------------------------

    def counters(self) -> RecorderCounters:
        """What has been recorded, written (rows, batches), retried and spilled."""
        return RecorderCounters(
            recorded=self._recorded,
            rows_written=self._durable,
            flushes=self._flushes,
            failed_flushes=self._failed_flushes,
            spilled_payloads=self._writer.spilled,
            pending=self._recorded - self._durable,
        )

    async def wait_written(self, rows: int) -> None:
        """Wait until at least ``rows`` rows are durable (no flush is requested)."""
        while self._durable < rows:
            self._check_writer_alive()
            await self._progress.wait()

    async def load_payload(self, record: LineageRecord) -> Any:
        """The input payload of ``record``, read from storage when it was spilled."""
        return await load_payload(record, self._storage)

    # --- the writer task ------------------------------------------------------

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="factflow-lineage-writer"
        )
        self._task.add_done_callback(lambda _task: self._signal())

    def _signal(self) -> None:
        """Wake everyone waiting for progress (flushes, producers, ``wait_written``)."""
        event, self._progress = self._progress, asyncio.Event()
        event.set()

    def _check_writer_alive(self) -> None:
        task = self._task
        if task is None and self._closed:
            raise LineageFlushError(
                f"lineage recorder is closed; {self._recorded - self._durable} entries "
                "were not written",
                pending=self._recorded - self._durable,
            )
        if task is None or not task.done():
            return
        cause = None if task.cancelled() else task.exception()
        raise LineageFlushError(
            f"lineage writer stopped ({cause!r}); "
            f"{self._recorded - self._durable} entries were not written",
            pending=self._recorded - self._durable,
        ) from cause

    async def _wait_for_room(self) -> None:
        while self._recorded - self._durable >= self._max_buffer and not self._closed:
            self._check_writer_alive()
            # Below batch_size the size trigger would never fire: drain instead.
            self._drain_to = max(self._drain_to, self._recorded)
            self._wake.set()
            await self._progress.wait()

    def _due(self) -> bool:
        return len(self._buffer) >= self._batch_size or self._drain_to > self._taken

    async def _run(self) -> None:
        while True:
            if not self._buffer:
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self._due():
                delay = self._oldest + self._interval - time.monotonic()
                if delay > 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._wake.wait()
                    continue
                self._drain_to = max(self._drain_to, self._recorded)
            await self._write_next_batch()

    async def _write_next_batch(self) -> None:
        buffer = self._buffer
        count = min(len(buffer), self._batch_size)
        if count == len(buffer):
            batch, self._buffer = buffer, []
        else:
            batch = buffer[:count]
            del buffer[:count]
            # The rest arrived while the previous batch was being written, at
            # the latest; start their age clock now (approximation).
            self._oldest = time.monotonic()
        self._taken += count
        rows: list[tuple[Any, ...]] | None = None
        delay, cap = self._backoff
        attempt = 0
        while True:
            attempt += 1
            try:
                if self.barrier is not None:
                    await self.barrier()
                if rows is None:
                    rows = await self._writer.encode(batch)
                began = time.perf_counter()
                async with self._db.transaction() as conn:
                    await self._writer.write(conn, rows)
            except Exception as exc:
                self._failed_flushes += 1
                self._last_error = exc
                _log.warning(
                    "lineage batch of %d entries failed (attempt %d), retrying in %.2fs: %r",
                    count,
                    attempt,
                    delay,
                    exc,
                )
                self._signal()
                self._retry_now.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._retry_now.wait()
                delay = min(delay * 2, cap)
                continue
            break
        if self._on_batch is not None:
            self._on_batch(count, time.perf_counter() - began)
        self._durable += count
        self._flushes += 1
        self._last_error = None
        self._signal()

    def __repr__(self) -> str:
        c = self.counters()
        return (
            f"LineageRecorder({self._db!r}, recorded={c.recorded}, "
            f"written={c.rows_written}, pending={c.pending})"
        )
