"""The little logic between a route and the service: shaping results, reading the
config body, racing a long-poll against the client going away, readiness.

Routes stay one-liners over these and ``ExecutionService``.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import lru_cache
from typing import Final
from urllib.parse import quote

from factflow_execution import ExecutionService, PipelineExecution
from factflow_foundation import InfrastructureError, InvalidInputError, get_logger
from factflow_infra.db import current_revision, head_revision
from factflow_infra.storage import StorageObjectRecord, validate_key
from factflow_lineage import LineageRecord
from fastapi import Request, Response
from starlette.exceptions import HTTPException

from factflow_server._downloads import byte_range, range_response
from factflow_server._schemas import (
    LineagePage,
    LineageRecordOut,
    ReadyStatus,
    StorageObjectOut,
    StoragePage,
    WaitResult,
)

__all__ = [
    "CONFIG_MEDIA_TYPES",
    "NotReadyError",
    "check_ready",
    "config_body",
    "execution_with_stats",
    "lineage_page",
    "object_response",
    "storage_page",
    "wait_unless_disconnected",
]

_log = get_logger("factflow.server")

#: Accepted ``Content-Type``s of ``POST /configs`` and how each is parsed.
CONFIG_MEDIA_TYPES: Final = {
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "text/plain": "yaml",
    "application/json": "json",
}
_JSON_FILENAME: Final = "request-body.json"  # the engine parses '*.json' sources as JSON


class NotReadyError(InfrastructureError):
    """The database answers but its schema is not the one this code expects."""

    code = "not-ready"


async def config_body(request: Request) -> tuple[bytes, str | None]:
    """The raw config text of ``POST /configs`` and the filename hint that makes the
    engine parse it as JSON (``None`` for YAML).  415 for other media types."""
    header = request.headers.get("content-type", "application/yaml")
    media_type = header.split(";", 1)[0].strip().lower() or "application/yaml"
    kind = CONFIG_MEDIA_TYPES.get(media_type)
    if kind is None:
        accepted = ", ".join(CONFIG_MEDIA_TYPES)
        raise HTTPException(
            415, f"send the config as one of {accepted}; got Content-Type {media_type!r}"
        )
    body = await request.body()
    if not body.strip():
        raise InvalidInputError("the request body is empty; send the config text")
    return body, (_JSON_FILENAME if kind == "json" else None)


async def execution_with_stats(service: ExecutionService, execution_id: str) -> PipelineExecution:
    """The row with stats: live for an active run, the materialised ones when terminal."""
    execution = await service.get(execution_id)
    if execution.terminal and execution.stats is not None:
        return execution
    return execution.model_copy(update={"stats": await service.stats(execution_id)})


async def wait_unless_disconnected(
    service: ExecutionService, request: Request, execution_id: str, timeout: float
) -> WaitResult:
    """Long-poll ``service.wait``; if the client goes away first, stop waiting (and
    drop the subscription) at once."""
    waiting = asyncio.ensure_future(service.wait(execution_id, timeout))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiting, gone):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    if not waiting.done() or waiting.cancelled():
        return WaitResult(execution_id=execution_id, status="running", timed_out=True)
    result = waiting.result()
    return WaitResult(
        execution_id=result.execution_id,
        status=result.status,
        timed_out=result.timed_out,
        stats=result.stats,
        error=result.error,
        finished_at=result.finished_at,
    )


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def lineage_page(records: list[LineageRecord], limit: int) -> LineagePage:
    """A page of records; ``next_after`` is set when the page is full."""
    items = [LineageRecordOut.model_validate(record.as_dict()) for record in records]
    return LineagePage(items=items, next_after=records[-1].id if len(records) >= limit else None)


def storage_page(records: list[StorageObjectRecord], limit: int) -> StoragePage:
    """A page of stored objects; ``next_after`` is set when the page is full."""
    items = [
        StorageObjectOut(
            id=r.id,
            key=r.key,
            size=r.size,
            checksum=r.checksum,
            content_type=r.content_type,
            route=r.route,
            message_id=r.message_id,
            written_at=r.written_at,
        )
        for r in records
    ]
    return StoragePage(items=items, next_after=records[-1].id if len(records) >= limit else None)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag equal under weak comparison."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


async def object_response(
    service: ExecutionService,
    execution_id: str,
    key: str,
    if_none_match: str | None = None,
    range_header: str | None = None,
    if_range: str | None = None,
) -> Response:
    """The bytes of one stored object, with its content type, a download name and its
    SHA-256 as ``ETag``; 304 without a body when ``If-None-Match`` names that tag;
    206 with one byte range for ``Range`` (unless ``If-Range`` names another tag),
    416 when that range is outside the object."""
    validate_key(key)
    meta, data = await service.read_object(execution_id, key)
    etag = f'"{meta.checksum}"'
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag, "Accept-Ranges": "bytes"})
    if if_range is not None and if_range.strip() != etag:
        range_header = None  # the client's copy changed: send it all
    name = key.rsplit("/", 1)[-1]
    quoted = quote(name)
    disposition = (
        f'attachment; filename="{name}"'
        if quoted == name
        else f"attachment; filename*=utf-8''{quoted}"
    )
    return range_response(
        data,
        meta.content_type,
        {"Content-Disposition": disposition, "ETag": etag},
        byte_range(range_header, len(data)),
    )


@lru_cache(maxsize=1)
def _head() -> str:
    return head_revision()


async def check_ready(service: ExecutionService) -> ReadyStatus:
    """Ready when the database answers and its schema is at this code's head revision."""
    try:
        revision = await current_revision(service.db)
    except InfrastructureError:
        raise
    except Exception as exc:  # readiness reports any failure as 503, never as 500
        _log.warning("readiness check failed: %s", exc)
        raise InfrastructureError(f"the database did not answer: {type(exc).__name__}") from exc
    head = _head()
    if revision != head:
        raise NotReadyError(
            f"the database schema is at revision {revision or 'none'}, this server needs "
            f"{head}; restart it with --migrate",
            extra={"revision": revision, "head": head},
        )
    return ReadyStatus(database=service.db.dialect, revision=revision)
