"""The one writer of ``execution_logs`` in this process, and each run's bounded log.

``RunLogWriter.open(execution_id)`` gives a run its ``RunLog`` (the engine's
``RunLogSink``).  ``RunLog.emit`` numbers the record (seq 1, 2, 3 …), keeps
at most ``max_records`` of them (the rest are only counted) and appends it to
the writer's buffer without blocking; one writer task turns the buffer into
rows, one transaction per batch of at most ``batch_size`` records, written
when the batch is full or its oldest record is ``flush_interval`` old - never
one commit per record.  After each commit it publishes a wake-up on the
run's ``logs_topic`` (and NOTIFYs other processes on PostgreSQL).

``RunLog.close`` (the orchestrator calls it once every task of the run has
stopped) adds one record saying how many were dropped, if any were, and waits
until everything the run emitted is durable: a run's log is complete once
its row is terminal.  Progress is counted like the lineage recorder's
(``emitted`` vs ``written``, the single writer takes records in order), so a
flush is a prefix wait.  A batch that fails is retried a few times with
backoff, then dropped with an error in the server log: a run's log is worth
less than finishing the run.

The writer task runs in a fresh context: what it logs itself is never
captured into a run's log.  ``emit`` from another thread (a processor's
``asyncio.to_thread``) is handed to the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

from factflow_foundation import SettingDefaults, get_logger, utcnow
from factflow_infra.db import Database, execution_logs
from factflow_protocols import EventBus, RunLogRecord
from sqlalchemy import insert

from factflow_execution._channels import LOGS_CHANNEL, notify
from factflow_execution._logs_records import logs_topic

__all__ = ["LogsWritten", "RunLog", "RunLogWriter"]

_log = get_logger("factflow.execution.logs")

_ATTEMPTS: Final = 5
_BACKOFF: Final = 0.1


@dataclass(frozen=True, slots=True)
class LogsWritten:
    """A wake-up on ``logs_topic``: the run's log is durable up to ``seq`` (None: unknown)."""

    execution_id: str
    seq: int | None = None


def _clean(text: str) -> str:
    """Text every database takes: no NUL, no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class RunLog:
    """One run's log (implements ``RunLogSink``); see the module docstring."""

    def __init__(self, writer: RunLogWriter, execution_id: str, max_records: int) -> None:
        self._writer = writer
        self.execution_id = execution_id
        self.max_records = max_records
        self.kept = 0
        self.dropped = 0
        self.closed = False
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()

    def emit(self, record: RunLogRecord) -> None:
        if threading.get_ident() != self._thread:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nowhere to go
                self._loop.call_soon_threadsafe(self.emit, record)
            return
        if self.closed:
            return  # a task that outlived its run; the run's log is complete
        if self.kept >= self.max_records:
            self.dropped += 1
            return
        self.kept += 1
        self._writer.add(self.execution_id, self.kept, record)

    async def close(self) -> None:
        """Say how many records were dropped (if any), then wait until the log is durable."""
        if self.closed:
            return
        self.closed = True
        if self.dropped:
            marker = RunLogRecord(
                at=utcnow(),
                level=logging.WARNING,
                logger="factflow.logs",
                message=(
                    f"{self.dropped} more log record(s) dropped: this run reached its limit of "
                    f"{self.max_records} (FACTFLOW_MAX_LOG_RECORDS)"
                ),
            )
            self._writer.add(self.execution_id, self.kept + 1, marker)
        await self._writer.flush()


class RunLogWriter:
    """Writes every run's log records of this process in batches (module docstring)."""

    def __init__(
        self,
        db: Database,
        bus: EventBus,
        *,
        origin: str = "",
        max_records: int = SettingDefaults.max_log_records,
        batch_size: int = 500,
        flush_interval: float = 0.2,
    ) -> None:
        self._db = db
        self._bus = bus
        self._origin = origin
        self.max_records = max_records
        self._batch_size = batch_size
        self._interval = flush_interval
        self._buffer: list[dict[str, Any]] = []
        self._oldest = 0.0
        self.emitted = 0
        self.written = 0  # committed, or given up on
        self.dropped_batches = 0
        self._drain_to = 0
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def open(self, execution_id: str) -> RunLog:
        """The log of one run (call it in the event loop)."""
        return RunLog(self, execution_id, self.max_records)

    def add(self, execution_id: str, seq: int, record: RunLogRecord) -> None:
        if not self._buffer:
            self._oldest = time.monotonic()
        self._buffer.append(
            {
                "execution_id": execution_id,
                "seq": seq,
                "at": record.at,
                "level": record.level,
                "logger": record.logger[:200],
                "route": record.route,
                "message_id": record.message_id,
                "attempt": record.attempt,
                "message": record.message,
                "traceback": record.traceback,
            }
        )
        self.emitted += 1
        if self._task is None or self._task.done():
            # A fresh context: nothing the writer logs lands in a run's log.
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="factflow-run-logs", context=contextvars.Context()
            )
        if len(self._buffer) == 1 or len(self._buffer) >= self._batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Return once every record added before this call is written (or given up on)."""
        target = self.emitted
        self._drain_to = max(self._drain_to, target)
        self._wake.set()
        while self.written < target:
            task = self._task
            if task is None or task.done():
                raise RuntimeError("the run log writer stopped with records unwritten")
            await self._progress.wait()

    def _signal(self) -> None:
        event, self._progress = self._progress, asyncio.Event()
        event.set()

    async def _run(self) -> None:
        try:
            while self._buffer:
                full = len(self._buffer) >= self._batch_size
                if not full and self._drain_to <= self.written:
                    delay = self._oldest + self._interval - time.monotonic()
                    if delay > 0:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(delay):
                                await self._wake.wait()
                        continue
                await self._write_next_batch()
        finally:
            self._signal()

    async def _write_next_batch(self) -> None:
        count = min(len(self._buffer), self._batch_size)
        batch = self._buffer[:count]
        del self._buffer[:count]
        self._oldest = time.monotonic()
        rows = [
            {**row, "message": _clean(row["message"]), "logger": _clean(row["logger"])}
            | ({"traceback": _clean(row["traceback"])} if row["traceback"] else {})
            for row in batch
        ]
        last: dict[str, int] = {}
        for row in rows:
            last[row["execution_id"]] = row["seq"]
        delay = _BACKOFF
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self._db.transaction() as conn:
                    await conn.execute(insert(execution_logs), rows)
                    for execution_id, seq in last.items():
                        await notify(
                            conn,
                            LOGS_CHANNEL,
                            {"execution_id": execution_id, "seq": seq, "origin": self._origin},
                        )
            except Exception as exc:
                if attempt == _ATTEMPTS:
                    self.dropped_batches += 1
                    _log.error("could not write %d run log record(s); dropped: %r", count, exc)
                    break
                _log.warning("run log batch failed (attempt %d), retrying: %r", attempt, exc)
                await asyncio.sleep(delay)
                delay *= 2
                continue
            for execution_id, seq in last.items():
                self._bus.publish(logs_topic(execution_id), LogsWritten(execution_id, seq))
            break
        self.written += count
        self._signal()
