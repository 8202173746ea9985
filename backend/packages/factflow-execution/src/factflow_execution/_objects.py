"""Storage as the execution tier sees it: write events, and reading objects back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from factflow_foundation import NotFoundError
from factflow_infra.db import Database
from factflow_infra.storage import (
    ExecutionStorageService,
    LocalFileStorage,
    StorageCommitter,
    get_storage_object,
    remove_unrecorded_files,
    validate_key,
)
from factflow_protocols import StorageBackend, StoredObject
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._events import EventKind, EventLog, append_grouped

__all__ = ["EventLogStorageObserver", "read_object", "remove_unrecorded", "storage_committer"]

RowWriter = Callable[[AsyncConnection], Awaitable[None]]


def _written(obj: StoredObject) -> dict[str, Any]:
    """A ``storage.written`` event's data: the object by its key, never by the
    backend's location (an absolute path on the server's disk stays there)."""
    return {
        "key": obj.key,
        "size": obj.size,
        "checksum": obj.checksum,
        "content_type": obj.content_type,
        "route": obj.route,
        "message_id": obj.message_id,
    }


class EventLogStorageObserver:
    """Turns storage writes into ``storage.written`` events in the log: one at a
    time (``StorageObserver``), or a group commit's batch in the transaction of
    its rows (``CommitSink``: one transaction for every execution in the batch)."""

    def __init__(self, log: EventLog) -> None:
        self._log = log

    async def storage_written(self, obj: StoredObject) -> None:
        await self._log.append(obj.execution_id, EventKind.STORAGE_WRITTEN, _written(obj))

    async def commit(self, objects: Sequence[StoredObject], write_rows: RowWriter) -> None:
        grouped: dict[str, list[tuple[EventKind, dict[str, Any], datetime | None]]] = {}
        for obj in objects:
            grouped.setdefault(obj.execution_id, []).append(
                (EventKind.STORAGE_WRITTEN, _written(obj), obj.written_at)
            )
        async with self._log.writing_many(list(grouped)) as writers:
            await write_rows(next(iter(writers.values())).conn)
            await append_grouped(writers, grouped)


async def remove_unrecorded(
    db: Database, backend: StorageBackend, execution_ids: list[str]
) -> None:
    """Remove the stored files of interrupted runs that no row records: a crash
    between a batch's fsync and its commit leaves them, and nothing will
    record them now (local storage; other backends are left as they are)."""
    if execution_ids and isinstance(backend, LocalFileStorage):
        await remove_unrecorded_files(db, backend, execution_ids)


def storage_committer(db: Database, backend: StorageBackend, log: EventLog) -> StorageCommitter:
    """The group commit of a process's storage writes, events in the same transactions."""
    return StorageCommitter(db, backend, sink=EventLogStorageObserver(log))


async def read_object(
    db: Database, backend: StorageBackend, execution_id: str, key: str
) -> tuple[StoredObject, bytes]:
    """Metadata and bytes of one stored object (``InvalidStorageKeyError`` for a
    malformed key, ``NotFoundError`` for one never written)."""
    validate_key(key)
    async with db.connect() as conn:
        record = await get_storage_object(conn, execution_id, key)
    if record is None:
        raise NotFoundError(f"execution {execution_id} stored no object with key {key!r}")
    data = await ExecutionStorageService(db, backend, execution_id, None).get(key)
    return record.to_stored_object(backend.locate(f"{execution_id}/{key}")), data
