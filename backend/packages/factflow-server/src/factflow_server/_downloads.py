"""Downloads: byte ranges of one object (RFC 9110 §14) and a run's objects as a tar stream."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from factflow_execution import ExecutionService
from factflow_infra.storage import TAR_MEDIA_TYPE, LocalFileStorage, StorageObjectRecord, tar_stream
from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.exceptions import HTTPException

__all__ = ["archive_response", "byte_range", "range_response"]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_ARCHIVE_PAGE = 1000


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte positions ``header`` asks for, or None
    to send the whole object (no header, a unit other than bytes, or several
    ranges - which a server may answer with the whole representation).

    Raises:
        HTTPException: 416 when the one range asked for lies outside the object.
    """
    if not header or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # bytes=-N: the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - length), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # syntactically invalid: ignored (RFC 9110 §14.2)
    if first >= size:
        raise _unsatisfiable(header, size)
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)


def _unsatisfiable(header: str, size: int) -> HTTPException:
    return HTTPException(
        status_code=416,
        detail=f"Range {header.strip()!r} is outside the object ({size} bytes)",
        headers={"Content-Range": f"bytes */{size}"},
    )


def range_response(
    data: bytes, media_type: str, headers: dict[str, str], wanted: tuple[int, int] | None
) -> Response:
    """200 with the whole object, or 206 with the part ``wanted``."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    if wanted is None:
        return Response(content=data, media_type=media_type, headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(
        content=data[first : last + 1], status_code=206, media_type=media_type, headers=headers
    )


async def archive_response(service: ExecutionService, execution_id: str) -> Response:
    """Every object of the execution as one tar archive, streamed (404 for an
    unknown execution; 501 when its storage is not on the local filesystem)."""
    await service.get(execution_id)
    backend = service.storage
    if not isinstance(backend, LocalFileStorage):
        raise HTTPException(501, "archives are available for local storage only")

    async def read_page(after: int | None) -> list[StorageObjectRecord]:
        return await service.storage_objects(execution_id, after_id=after, limit=_ARCHIVE_PAGE)

    body: AsyncIterator[bytes] = tar_stream(backend, execution_id, read_page)
    return StreamingResponse(
        body,
        media_type=TAR_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{execution_id}.tar"'},
    )
