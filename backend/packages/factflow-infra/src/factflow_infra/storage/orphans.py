"""Crash consistency between storage and lineage: objects whose message has no lineage row.

A processor stores an object (bytes, then its ``storage_objects`` row, in its
own transaction) while it handles a message; the message's lineage row is
written later, in a batch.  A process that dies in between leaves an object
whose message was never recorded.  A resume processes that message again and
stores the object again (under the resume's execution), so the first copy
is removed once the run is known dead: ``remove_orphaned_objects`` deletes the
rows (one transaction), then the files.  Objects stored with no message (an
adapter's) and objects of messages recorded with any status are kept.
"""

from __future__ import annotations

from factflow_foundation import get_logger
from factflow_protocols import StorageBackend
from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_infra.db.database import Database
from factflow_infra.db.schema import lineage_records, storage_objects

__all__ = ["orphaned_storage_keys", "remove_orphaned_objects"]

_log = get_logger("factflow.infra.storage")


def _orphaned(execution_id: str) -> ColumnElement[bool]:
    so, lr = storage_objects, lineage_records
    recorded = exists().where(
        and_(
            lr.c.execution_id == so.c.execution_id,
            lr.c.message_id == so.c.message_id,
            or_(so.c.route.is_(None), lr.c.route == so.c.route),
        )
    )
    return and_(so.c.execution_id == execution_id, so.c.message_id.is_not(None), ~recorded)


async def orphaned_storage_keys(conn: AsyncConnection, execution_id: str) -> list[str]:
    """Keys of ``execution_id``'s objects whose message has no lineage row there."""
    rows = await conn.execute(
        select(storage_objects.c.key).where(_orphaned(execution_id)).order_by(storage_objects.c.id)
    )
    return [str(row[0]) for row in rows]


async def remove_orphaned_objects(
    db: Database, backend: StorageBackend, execution_id: str
) -> list[str]:
    """Delete the orphaned objects of a run whose process is gone; their keys.

    Only call it for a run nobody runs any more (its lineage cannot grow).
    Rows go first, in one transaction, so no listed object lacks its bytes; a
    file that cannot be removed is logged and left behind, unlisted.
    """
    async with db.transaction() as conn:
        keys = await orphaned_storage_keys(conn, execution_id)
        if keys:
            await conn.execute(
                delete(storage_objects).where(
                    storage_objects.c.execution_id == execution_id,
                    storage_objects.c.key.in_(keys),
                )
            )
    for key in keys:
        try:
            await backend.delete(f"{execution_id}/{key}")
        except Exception:
            _log.exception("could not remove orphaned object %r of %s", key, execution_id)
    if keys:
        _log.warning(
            "execution %s: removed %d stored object(s) whose message has no lineage row"
            " (its process died between the write and the row); a resume stores them again",
            execution_id,
            len(keys),
        )
    return keys
