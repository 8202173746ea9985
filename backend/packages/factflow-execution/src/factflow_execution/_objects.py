"""Storage as the execution tier sees it: write events, and reading objects back."""

from __future__ import annotations

from factflow_foundation import NotFoundError
from factflow_infra.db import Database
from factflow_infra.storage import ExecutionStorageService, get_storage_object, validate_key
from factflow_protocols import StorageBackend, StoredObject

from factflow_execution._events import EventKind, EventLog

__all__ = ["EventLogStorageObserver", "read_object"]


class EventLogStorageObserver:
    """Turns each storage write into a ``storage.written`` event in the log."""

    def __init__(self, log: EventLog) -> None:
        self._log = log

    async def storage_written(self, obj: StoredObject) -> None:
        await self._log.append(
            obj.execution_id,
            EventKind.STORAGE_WRITTEN,
            {
                "key": obj.key,
                "size": obj.size,
                "checksum": obj.checksum,
                "content_type": obj.content_type,
                "route": obj.route,
                "message_id": obj.message_id,
                "location": obj.location,
            },
        )


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
