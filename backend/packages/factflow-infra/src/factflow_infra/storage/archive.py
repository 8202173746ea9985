"""A run's stored objects as one streamed tar archive, in bounded memory.

``tar_stream`` takes the rows page by page (as ``list_storage_objects`` returns
them) and yields the archive in chunks: for each object a ustar/pax header
built from the file as it is when opened (its size from ``fstat``, so an
object overwritten meanwhile is archived whole, old or new, never torn),
then its bytes read ``chunk_size`` at a time, then the padding; two zero
blocks end it.  Memory stays at about one chunk whatever the run stored.
Members are named by their keys and keep the row's write time; an object
whose file is gone (removed since it was listed) is skipped with a warning.
"""

from __future__ import annotations

import asyncio
import os
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable

from factflow_foundation import NotFoundError, get_logger

from factflow_infra.storage.local import LocalFileStorage
from factflow_infra.storage.queries import StorageObjectRecord

__all__ = ["TAR_MEDIA_TYPE", "tar_stream"]

_log = get_logger("factflow.infra.storage.archive")

TAR_MEDIA_TYPE = "application/x-tar"
_BLOCK = 512

PageReader = Callable[[int | None], Awaitable[list[StorageObjectRecord]]]


async def tar_stream(
    backend: LocalFileStorage,
    execution_id: str,
    read_page: PageReader,
    *,
    chunk_size: int = 1 << 16,
) -> AsyncIterator[bytes]:
    """The tar archive of ``execution_id``'s objects, in chunks.

    ``read_page(after_id)`` returns the next page of rows (empty at the end).
    """
    after: int | None = None
    while True:
        page = await read_page(after)
        if not page:
            break
        for record in page:
            try:
                handle = await backend.open(f"{execution_id}/{record.key}")
            except NotFoundError:
                _log.warning(
                    "execution %s: object %r has no file; left out of the archive",
                    execution_id,
                    record.key,
                )
                continue
            try:
                size = os.fstat(handle.fileno()).st_size
                yield _header(record, size)
                left = size
                while left > 0:
                    chunk = await asyncio.to_thread(handle.read, min(chunk_size, left))
                    if not chunk:  # cannot shrink (an open inode), but never loop forever
                        chunk = bytes(left)
                    left -= len(chunk)
                    yield chunk
                if size % _BLOCK:
                    yield bytes(_BLOCK - size % _BLOCK)
            finally:
                handle.close()
        after = page[-1].id
    yield bytes(2 * _BLOCK)


def _header(record: StorageObjectRecord, size: int) -> bytes:
    info = tarfile.TarInfo(record.key)
    info.size = size
    info.mtime = int(record.written_at.timestamp())
    info.mode = 0o644
    info.type = tarfile.REGTYPE
    # PAX for long or non-ASCII names; UTF-8 throughout.
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape")
