"""``/api/v1/executions/{id}/storage/objects`` and ``…/storage/archive``: what a run
stored (lineage: ``_routes_lineage``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from factflow_server._deps import ExecutionId, Service
from factflow_server._downloads import archive_response
from factflow_server._openapi import problems
from factflow_server._schemas import StoragePage
from factflow_server._views import object_response, storage_page

__all__ = ["router"]

router = APIRouter(prefix="/executions/{execution_id}", tags=["lineage and storage"])

_MAX_ID = 2**63 - 1

After = Annotated[
    int | None,
    Query(ge=0, le=_MAX_ID, description="`next_after` of the last page (an item `id`)."),
]
Limit = Annotated[int, Query(ge=1, le=10_000, description="Page size.")]


@router.get(
    "/storage/objects",
    response_model=StoragePage,
    summary="Objects an execution stored (paged)",
    responses=problems(404),
)
async def list_storage_objects(
    service: Service,
    execution_id: ExecutionId,
    after: After = None,
    limit: Limit = 100,
) -> StoragePage:
    records = await service.storage_objects(execution_id, after_id=after, limit=limit)
    return storage_page(records, limit)


_ETAG_HEADER = {
    "ETag": {
        "description": "The object's SHA-256 in quotes; send it back as If-None-Match.",
        "schema": {"type": "string"},
    }
}


@router.get(
    "/storage/archive",
    response_class=Response,
    summary="Download every stored object of an execution as one tar archive",
    description=(
        "A POSIX (pax) tar archive streamed as it is read: one member per object, named "
        "by its key, in write order, with the object's write time. Memory stays bounded "
        "whatever the run stored. Unpack with `tar -xf`; or use `factflow storage export`."
    ),
    responses={
        200: {
            "description": "The archive.",
            "content": {"application/x-tar": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "Content-Disposition": {
                    "description": "attachment; filename=<execution id>.tar",
                    "schema": {"type": "string"},
                }
            },
        },
        **problems(404, 501),
    },
)
async def download_storage_archive(service: Service, execution_id: ExecutionId) -> Response:
    return await archive_response(service, execution_id)


@router.get(
    "/storage/objects/{key:path}",
    response_class=Response,
    summary="Download one stored object",
    description=(
        "The bytes with their stored content type; 422 for a malformed key. With "
        "`If-None-Match` naming the object's `ETag` (its SHA-256), 304 and no body. "
        "With `Range: bytes=FIRST-LAST` (or `FIRST-`, or `-SUFFIX`), 206 and that part "
        "(`Content-Range` says which); 416 when it starts past the end. Several ranges "
        "in one header get the whole object (200)."
    ),
    responses={
        200: {
            "description": "The object's bytes.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                **_ETAG_HEADER,
                "Content-Disposition": {
                    "description": "attachment; filename=<the key's last segment>",
                    "schema": {"type": "string"},
                },
            },
        },
        206: {
            "description": "The part of the object the Range header asked for.",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                **_ETAG_HEADER,
                "Content-Range": {
                    "description": "bytes FIRST-LAST/SIZE",
                    "schema": {"type": "string"},
                },
            },
        },
        304: {
            "description": "Not modified: If-None-Match names this ETag.",
            "headers": _ETAG_HEADER,
        },
        **problems(404, 416),
    },
)
async def download_storage_object(
    service: Service,
    execution_id: ExecutionId,
    key: Annotated[str, Path(description="The object's key (may contain '/').")],
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            max_length=8192,
            description="ETags the client has (or *): 304 when one is this object's.",
        ),
    ] = None,
    range_header: Annotated[
        str | None,
        Header(
            alias="Range",
            max_length=200,
            description="One byte range, e.g. `bytes=0-1023`, `bytes=1024-`, `bytes=-500`.",
        ),
    ] = None,
    if_range: Annotated[
        str | None,
        Header(
            alias="If-Range",
            max_length=200,
            description="Honour Range only while the object's ETag is still this one.",
        ),
    ] = None,
) -> Response:
    return await object_response(service, execution_id, key, if_none_match, range_header, if_range)
