"""Turning a batch of ``LineageEntry`` into ``lineage_records`` rows, and writing them.

This is the recorder's inner loop, so it avoids per-entry overhead: entries
become plain tuples in column order, with values already in the form the
driver wants (ISO text timestamps on SQLite, aware datetimes on PostgreSQL,
JSON text for the payload), and one batch is one statement: ``COPY`` on
PostgreSQL (asyncpg's ``copy_records_to_table``; faster here than multi-row
``INSERT … SELECT unnest(…)`` or ``VALUES`` lists) and one ``executemany``
``INSERT`` on SQLite.

Each batch also upserts its per-(execution, route, status) totals into
``lineage_records_totals`` in the same transaction (one statement, a handful of
rows), so live stats never aggregate ``lineage_records`` itself.

Payloads whose JSON exceeds the inline limit are written to a
``StorageBackend`` at ``_lineage/<execution_id>/<message_id>.json``; the row
then carries ``payload_ref`` and a NULL ``payload``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from factflow_foundation import InvalidInputError, dumps, get_logger
from factflow_protocols import LineageEntry, StorageBackend
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["COLUMNS", "BatchWriter", "batch_totals", "spill_key"]

_log = get_logger("factflow.lineage.writer")

#: ``lineage_records`` columns in the order the row tuples carry them.
COLUMNS: tuple[str, ...] = (
    "execution_id",
    "message_id",
    "parent_message_id",
    "origin_message_id",
    "route",
    "status",
    "attempt",
    "started_at",
    "finished_at",
    "duration_ms",
    "error",
    "outputs",
    "payload",
    "payload_ref",
)
_PAYLOAD, _PAYLOAD_REF = COLUMNS.index("payload"), COLUMNS.index("payload_ref")

_SQLITE_INSERT = (
    f"INSERT INTO lineage_records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)

_TOTALS_COLUMNS = (
    "execution_id, route, status, records, roots, duration_ms_total, duration_count, "
    "duration_ms_max, first_started_at, last_finished_at"
)
_SQLITE_TOTALS = f"""
INSERT INTO lineage_records_totals ({_TOTALS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (execution_id, route, status) DO UPDATE SET
    records = records + excluded.records,
    roots = roots + excluded.roots,
    duration_ms_total = duration_ms_total + excluded.duration_ms_total,
    duration_count = duration_count + excluded.duration_count,
    duration_ms_max = max(coalesce(duration_ms_max, excluded.duration_ms_max),
                          coalesce(excluded.duration_ms_max, duration_ms_max)),
    first_started_at = min(coalesce(first_started_at, excluded.first_started_at),
                           coalesce(excluded.first_started_at, first_started_at)),
    last_finished_at = max(last_finished_at, excluded.last_finished_at)
"""
_POSTGRES_TOTALS = f"""
INSERT INTO lineage_records_totals AS t ({_TOTALS_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (execution_id, route, status) DO UPDATE SET
    records = t.records + EXCLUDED.records,
    roots = t.roots + EXCLUDED.roots,
    duration_ms_total = t.duration_ms_total + EXCLUDED.duration_ms_total,
    duration_count = t.duration_count + EXCLUDED.duration_count,
    duration_ms_max = GREATEST(t.duration_ms_max, EXCLUDED.duration_ms_max),
    first_started_at = LEAST(t.first_started_at, EXCLUDED.first_started_at),
    last_finished_at = GREATEST(t.last_finished_at, EXCLUDED.last_finished_at)
"""

# A JSON ``\u0000`` escape (an odd run of backslashes before ``u0000``):
# PostgreSQL's jsonb refuses it, so on PostgreSQL it becomes U+FFFD.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
_SURROGATE = re.compile("[\ud800-\udfff]")


def spill_key(execution_id: str, message_id: str) -> str:
    """Where a too-large payload of ``message_id`` is kept in storage."""
    return f"_lineage/{execution_id}/{message_id}.json"


def _payload_json(entry: LineageEntry) -> str:
    try:
        return dumps(entry.payload)
    except (TypeError, ValueError) as exc:  # non-str keys, circular references
        _log.warning(
            "payload of message %s at route %r is not JSON-serialisable (%s); stored as text",
            entry.message_id,
            entry.route,
            exc,
        )
        return dumps(repr(entry.payload))


def _utf8_safe(json_text: str) -> str:
    """``json_text`` with lone surrogates (no database accepts them) escaped.

    They can only occur inside JSON strings; each becomes the six characters
    ``\\udcff`` (an escaped backslash), so the value reads back as that text.
    """
    if json_text.isascii():
        return json_text
    try:
        json_text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", json_text)
    return json_text


def _text_safe(text: str, postgres: bool) -> str:
    """A text column value every database accepts (no lone surrogate; no NUL on PG)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if postgres and "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text


def _sqlite_time(value: datetime) -> str:
    # ``value`` is aware.  Stored as SQLAlchemy's SQLite DateTime stores it:
    # naive UTC text, always with microseconds (so text order is time order).
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def batch_totals(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Per-(execution, route, status) totals of encoded rows, in key order:
    ``(execution_id, route, status, records, roots, duration_ms_total,
    duration_count, duration_ms_max, first_started_at, last_finished_at)``."""
    acc: dict[tuple[str, str, str], list[Any]] = {}
    for row in rows:
        key = (row[0], row[4], row[5])
        duration = row[9]
        started = row[7]
        finished = row[8]
        totals = acc.get(key)
        if totals is None:
            acc[key] = [
                1,
                1 if row[2] is None else 0,
                duration or 0.0,
                0 if duration is None else 1,
                duration,
                started,
                finished,
            ]
            continue
        totals[0] += 1
        if row[2] is None:
            totals[1] += 1
        if duration is not None:
            totals[2] += duration
            totals[3] += 1
            if totals[4] is None or duration > totals[4]:
                totals[4] = duration
        if started is not None and (totals[5] is None or started < totals[5]):
            totals[5] = started
        if finished > totals[6]:
            totals[6] = finished
    return [(*key, *acc[key]) for key in sorted(acc)]


class BatchWriter:
    """Encodes batches for one dialect and writes each in the caller's transaction."""

    def __init__(
        self,
        dialect: str,
        *,
        max_inline_payload: int,
        storage: StorageBackend | None,
    ) -> None:
        self._postgres = dialect == "postgresql"
        self._max_inline = max_inline_payload
        self._storage = storage
        self.spilled = 0

    async def encode(self, batch: Sequence[LineageEntry]) -> list[tuple[Any, ...]]:
        """Row tuples for ``batch`` (spilling large payloads to storage first)."""
        postgres = self._postgres
        limit = self._max_inline
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        for index, e in enumerate(batch):
            if index and not index & 255:
                # A batch is thousands of entries: let the loop serve requests
                # between slices instead of stalling it for the whole batch.
                await asyncio.sleep(0)
            finished = _aware(e.finished_at)
            started = e.started_at
            duration: float | None = None
            if started is not None:
                started = _aware(started)
                duration = (finished - started).total_seconds() * 1000.0
            payload: str | None = None
            ref: str | None = None
            if e.payload is not None:
                payload = _utf8_safe(_payload_json(e))
                if len(payload) * 4 > limit and len(payload.encode("utf-8")) > limit:
                    ref = await self._spill(e, payload)
                    if ref is not None:
                        payload = None
                if postgres and payload is not None and "\\u0000" in payload:
                    payload = _JSON_NUL.sub(r"\1\\ufffd", payload)
            error = e.error
            if error is not None and (postgres or not error.isascii()):
                error = _text_safe(error, postgres)
            append(
                (
                    e.execution_id,
                    e.message_id,
                    e.parent_message_id,
                    e.origin_message_id,
                    e.route,
                    e.status,
                    e.attempt,
                    started if postgres or started is None else _sqlite_time(started),
                    finished if postgres else _sqlite_time(finished),
                    duration,
                    error,
                    e.outputs,
                    payload,
                    ref,
                )
            )
        return rows

    async def _spill(self, entry: LineageEntry, payload: str) -> str | None:
        if self._storage is None:
            return None
        key = spill_key(entry.execution_id, entry.message_id)
        try:
            await self._storage.write(key, payload.encode("utf-8"))
        except InvalidInputError as exc:  # an id unusable as a key: keep it inline
            _log.warning("cannot spill payload of message %s: %s", entry.message_id, exc)
            return None
        self.spilled += 1
        return key

    async def write(self, conn: AsyncConnection, rows: list[tuple[Any, ...]]) -> None:
        """Insert ``rows`` with one statement and upsert their totals with another,
        inside the caller's transaction."""
        totals = batch_totals(rows)
        if self._postgres:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table("lineage_records", records=rows, columns=COLUMNS)
            await driver.executemany(_POSTGRES_TOTALS, totals)
        else:
            await conn.exec_driver_sql(_SQLITE_INSERT, rows)
            await conn.exec_driver_sql(_SQLITE_TOTALS, totals)
