"""After a crash: remove the files of an execution that no ``storage_objects`` row records.

The group commit (``batch``) makes files durable before their rows commit, so
a crash can leave files without rows (written, not yet recorded), and
temporary files of writes cut short - never a row without its file.  Once an
execution's owner is gone (recovery interrupted it), nothing will record
those files any more: ``remove_unrecorded_files`` deletes them, so what is
on disk under ``<execution_id>/`` is exactly what the table lists.

Only call it for executions no live process writes to: a file a live run
has written but not yet recorded would be removed too (the committer then
gives that object up rather than record a row without a file).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable

from factflow_foundation import get_logger

from factflow_infra.db.database import Database
from factflow_infra.storage.local import LocalFileStorage
from factflow_infra.storage.queries import list_storage_objects

__all__ = ["remove_unrecorded_files"]

_log = get_logger("factflow.infra.storage.recovery")

_PAGE = 5000


async def remove_unrecorded_files(
    db: Database, backend: LocalFileStorage, execution_ids: Iterable[str]
) -> list[str]:
    """Delete every file under ``<root>/<execution_id>/`` that has no row (and every
    leftover temporary file); return the removed keys as ``<execution_id>/<key>``."""
    removed: list[str] = []
    for execution_id in dict.fromkeys(execution_ids):
        recorded: set[str] = set()
        after: int | None = None
        async with db.connect() as conn:
            while True:
                page = await list_storage_objects(conn, execution_id, after_id=after, limit=_PAGE)
                recorded.update(record.key for record in page)
                if len(page) < _PAGE:
                    break
                after = page[-1].id
        gone = await asyncio.to_thread(_remove_unrecorded, backend, execution_id, recorded)
        if gone:
            _log.warning(
                "execution %s: removed %d stored file(s) no row records (left by a crash)",
                execution_id,
                len(gone),
            )
        removed.extend(f"{execution_id}/{key}" for key in gone)
    return removed


def _remove_unrecorded(
    backend: LocalFileStorage, execution_id: str, recorded: set[str]
) -> list[str]:
    base = backend.root / execution_id
    if execution_id.startswith(("_", ".")) or "/" in execution_id or not base.is_dir():
        return []
    removed: list[str] = []
    for directory, _dirs, files in os.walk(base):
        for name in files:
            path = os.path.join(directory, name)
            key = os.path.relpath(path, base).replace(os.sep, "/")
            if key in recorded:  # temporary files never are
                continue
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            removed.append(key)
    return removed
