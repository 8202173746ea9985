"""The ``storage_objects`` table: upsert one row, read one, page through rows, total them.

Repository-style helpers over an ``AsyncConnection``: they never commit; the
caller owns the transaction (``Database.transaction()`` for writes,
``Database.connect()`` for reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from factflow_foundation import InvalidInputError
from factflow_protocols import StoredObject
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_infra.db.schema import storage_objects

__all__ = [
    "StorageObjectRecord",
    "StorageTotals",
    "delete_storage_object",
    "get_storage_object",
    "list_storage_objects",
    "storage_totals",
    "upsert_storage_object",
    "upsert_storage_objects",
]

#: Largest page ``list_storage_objects`` returns.
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class StorageObjectRecord:
    """One ``storage_objects`` row; ``id`` is the paging cursor."""

    id: int
    execution_id: str
    key: str
    size: int
    checksum: str
    content_type: str
    route: str | None
    message_id: str | None
    written_at: datetime

    def to_stored_object(self, location: str) -> StoredObject:
        """The protocol value, given where the backend keeps the bytes."""
        return StoredObject(
            execution_id=self.execution_id,
            key=self.key,
            size=self.size,
            checksum=self.checksum,
            content_type=self.content_type,
            route=self.route,
            message_id=self.message_id,
            written_at=self.written_at,
            location=location,
        )


class StorageTotals(NamedTuple):
    """How many objects an execution wrote and their total size in bytes."""

    objects: int
    total_bytes: int


async def upsert_storage_object(conn: AsyncConnection, obj: StoredObject) -> None:
    """Insert the row for ``obj``, or overwrite the row of the same (execution, key).

    The row keeps its ``id`` when overwritten, so paging cursors stay valid.
    """
    values: dict[str, Any] = {
        "execution_id": obj.execution_id,
        "key": obj.key,
        "size": obj.size,
        "checksum": obj.checksum,
        "content_type": obj.content_type,
        "route": obj.route,
        "message_id": obj.message_id,
        "written_at": obj.written_at,
    }
    updated = {k: v for k, v in values.items() if k not in ("execution_id", "key")}
    if conn.dialect.name == "postgresql":
        pg = pg_insert(storage_objects).values(values)
        statement: Any = pg.on_conflict_do_update(
            index_elements=["execution_id", "key"], set_=updated
        )
    else:
        lite = sqlite_insert(storage_objects).values(values)
        statement = lite.on_conflict_do_update(index_elements=["execution_id", "key"], set_=updated)
    await conn.execute(statement)


def _values(obj: StoredObject) -> dict[str, Any]:
    return {
        "execution_id": obj.execution_id,
        "key": obj.key,
        "size": obj.size,
        "checksum": obj.checksum,
        "content_type": obj.content_type,
        "route": obj.route,
        "message_id": obj.message_id,
        "written_at": obj.written_at,
    }


_UPDATED = ("size", "checksum", "content_type", "route", "message_id", "written_at")


async def upsert_storage_objects(conn: AsyncConnection, objects: Sequence[StoredObject]) -> None:
    """``upsert_storage_object`` for many objects in one executemany statement.

    Each (execution, key) may occur once in ``objects`` (one statement cannot
    update a row twice on PostgreSQL); the caller keeps the last write of a key.
    """
    if not objects:
        return
    if conn.dialect.name == "postgresql":
        pg = pg_insert(storage_objects)
        statement: Any = pg.on_conflict_do_update(
            index_elements=["execution_id", "key"], set_={c: pg.excluded[c] for c in _UPDATED}
        )
    else:
        lite = sqlite_insert(storage_objects)
        statement = lite.on_conflict_do_update(
            index_elements=["execution_id", "key"], set_={c: lite.excluded[c] for c in _UPDATED}
        )
    await conn.execute(statement, [_values(obj) for obj in objects])


async def delete_storage_object(conn: AsyncConnection, execution_id: str, key: str) -> None:
    """Remove the row of (execution, key) if there is one."""
    await conn.execute(
        delete(storage_objects).where(
            storage_objects.c.execution_id == execution_id, storage_objects.c.key == key
        )
    )


def _record(row: Any) -> StorageObjectRecord:
    return StorageObjectRecord(
        id=row["id"],
        execution_id=row["execution_id"],
        key=row["key"],
        size=row["size"],
        checksum=row["checksum"],
        content_type=row["content_type"],
        route=row["route"],
        message_id=row["message_id"],
        written_at=row["written_at"],
    )


async def get_storage_object(
    conn: AsyncConnection, execution_id: str, key: str
) -> StorageObjectRecord | None:
    """The row of (execution, key), or None when no such object was recorded."""
    query = select(storage_objects).where(
        storage_objects.c.execution_id == execution_id, storage_objects.c.key == key
    )
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else _record(row)


async def list_storage_objects(
    conn: AsyncConnection,
    execution_id: str,
    *,
    after_id: int | None = None,
    limit: int = 100,
) -> list[StorageObjectRecord]:
    """One page of an execution's objects in write order (ascending ``id``).

    Pass the last record's ``id`` as ``after_id`` to get the next page; a page
    shorter than ``limit`` is the last one.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(
            f"storage object page limit must be between 1 and {MAX_PAGE}, got {limit}"
        )
    query = select(storage_objects).where(storage_objects.c.execution_id == execution_id)
    if after_id is not None:
        query = query.where(storage_objects.c.id > after_id)
    query = query.order_by(storage_objects.c.id).limit(limit)
    return [_record(row) for row in (await conn.execute(query)).mappings().all()]


async def storage_totals(
    conn: AsyncConnection, execution_ids: Sequence[str]
) -> dict[str, StorageTotals]:
    """Object count and bytes per execution, in one grouped query.

    Every requested id is in the result; executions without objects get
    ``StorageTotals(0, 0)``.
    """
    ids = list(dict.fromkeys(execution_ids))
    if not ids:
        return {}
    query = (
        select(
            storage_objects.c.execution_id,
            func.count(),
            func.coalesce(func.sum(storage_objects.c.size), 0),
        )
        .where(storage_objects.c.execution_id.in_(ids))
        .group_by(storage_objects.c.execution_id)
    )
    totals = {execution_id: StorageTotals(0, 0) for execution_id in ids}
    for execution_id, count, size in (await conn.execute(query)).all():
        totals[execution_id] = StorageTotals(int(count), int(size))
    return totals
