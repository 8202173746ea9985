"""One execution's storage: validated keys, bytes in a backend, a row per object.

``ExecutionStorageService`` is the ``ExecutionStorage`` processors write
through.  A ``put`` validates the key before anything else and stores the
bytes under ``<execution_id>/<key>``.  Then, with a ``StorageCommitter`` (what
runs use), it hands the object to that group commit and returns: the file's
fsync, the row and the observer's record follow in a batch, and ``flush``
waits for them.  Without one, ``put`` upserts the ``storage_objects`` row in
its own transaction and only then tells the observer.  Either way, if the row
cannot be written the file is removed again (and a previous row of the same
key with it), so an object is either fully recorded or absent.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib

from factflow_foundation import (
    InfrastructureError,
    InvalidInputError,
    get_logger,
    utcnow,
)
from factflow_protocols import StorageBackend, StorageObserver, StoredObject
from sqlalchemy.exc import DBAPIError

from factflow_infra.db.database import Database
from factflow_infra.db.schema import storage_objects
from factflow_infra.storage.batch import StorageCommitter
from factflow_infra.storage.keys import validate_key
from factflow_infra.storage.queries import (
    delete_storage_object,
    list_storage_objects,
    upsert_storage_object,
)

__all__ = ["ExecutionStorageService"]

_log = get_logger("factflow.infra.storage")

# Hash big payloads in a thread (hashlib releases the GIL) so the loop stays free.
_THREAD_HASH_BYTES = 1 << 20
_LIST_PAGE = 1000


def _width(column: str) -> int:
    length = getattr(storage_objects.c[column].type, "length", None)
    return int(length) if length else 1 << 30


# Checked before writing anything: SQLite would store longer values silently,
# PostgreSQL would refuse them only after the bytes are on disk.
_WIDTHS = {name: _width(name) for name in ("content_type", "route", "message_id")}


class ExecutionStorageService:
    """``ExecutionStorage`` for one execution: its namespace in one backend."""

    def __init__(
        self,
        db: Database,
        backend: StorageBackend,
        execution_id: str,
        observer: StorageObserver | None = None,
        *,
        committer: StorageCommitter | None = None,
    ) -> None:
        self._db = db
        self._backend = backend
        self._execution_id = execution_id
        self._observer = observer
        self._committer = committer

    @property
    def execution_id(self) -> str:
        return self._execution_id

    def _path(self, key: str) -> str:
        return f"{self._execution_id}/{key}"

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        route: str | None = None,
        message_id: str | None = None,
    ) -> StoredObject:
        """Store ``data`` at ``key``, record it in ``storage_objects``, tell the observer.

        Writing an existing key replaces both the bytes and the row.  With a
        committer the row and the observer's record are written in a later
        batch (``flush`` waits for it); the bytes are readable at once.

        Raises:
            InvalidStorageKeyError: ``key`` is unsafe; nothing was written.
            InvalidInputError: ``content_type``, ``route`` or ``message_id`` is
                longer than its column; nothing was written.
            InfrastructureError: the backend failed, or the row could not be
                written (then the file was removed again).
        """
        validate_key(key)
        for name, value in (
            ("content_type", content_type),
            ("route", route),
            ("message_id", message_id),
        ):
            if value is None:
                continue
            if len(value) > _WIDTHS[name]:
                raise InvalidInputError(
                    f"storage object {key!r}: {name} is {len(value)} characters long; "
                    f"the limit is {_WIDTHS[name]}"
                )
            # Refused later by PostgreSQL (and by the batch they would share).
            if "\x00" in value or not _utf8(value):
                raise InvalidInputError(
                    f"storage object {key!r}: {name} contains a NUL character or a lone surrogate"
                )
        path = self._path(key)
        payload = bytes(data)
        if len(payload) >= _THREAD_HASH_BYTES:
            checksum = await asyncio.to_thread(_sha256, payload)
        else:
            checksum = _sha256(payload)
        committer = self._committer
        if committer is None:
            location = await self._backend.write(path, payload)
        else:
            location = await committer.write(path, payload)
        obj = StoredObject(
            execution_id=self._execution_id,
            key=key,
            size=len(payload),
            checksum=checksum,
            content_type=content_type,
            route=route,
            message_id=message_id,
            written_at=utcnow(),
            location=location,
        )
        if committer is not None:
            await committer.submit(obj)
            return obj
        try:
            async with self._db.transaction() as conn:
                await upsert_storage_object(conn, obj)
        except BaseException as exc:
            # The bytes must not outlive a failed record.  An overwrite that
            # fails here loses the previous version too (its file was
            # replaced), so its stale row goes as well.
            await asyncio.shield(self._discard(key))
            if isinstance(exc, DBAPIError):
                raise InfrastructureError(
                    f"could not record storage object {key!r} of execution "
                    f"{self._execution_id!r} (the file was removed again): {exc.orig}"
                ) from exc
            raise
        if self._observer is not None:
            await self._observer.storage_written(obj)
        return obj

    async def flush(self) -> None:
        """Return once every object put so far is durable: bytes, row, observer's record.

        Raises:
            StorageFlushError: some of this execution's objects could not be
                recorded (their files were removed again).
        """
        if self._committer is not None:
            await self._committer.flush(self._execution_id)

    async def get(self, key: str) -> bytes:
        """The bytes stored at ``key``; ``NotFoundError`` when there are none."""
        validate_key(key)
        return await self._backend.read(self._path(key))

    async def list(self) -> builtins.list[StoredObject]:
        """Every object of this execution, in first-write order (after a ``flush``)."""
        await self.flush()
        objects: builtins.list[StoredObject] = []
        after: int | None = None
        async with self._db.connect() as conn:
            while True:
                page = await list_storage_objects(
                    conn, self._execution_id, after_id=after, limit=_LIST_PAGE
                )
                objects.extend(
                    record.to_stored_object(self._backend.locate(self._path(record.key)))
                    for record in page
                )
                if len(page) < _LIST_PAGE:
                    return objects
                after = page[-1].id

    async def _discard(self, key: str) -> None:
        path = self._path(key)
        try:
            await self._backend.delete(path)
        except Exception:
            _log.exception("could not remove storage object %r after its row failed", path)
        try:
            async with self._db.transaction() as conn:
                await delete_storage_object(conn, self._execution_id, key)
        except Exception:
            _log.exception("could not remove a stale storage_objects row for %r", path)


def _utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
