"""``/api/v1/executions/{id}/storage/objects``: what a run stored (lineage: ``_routes_lineage``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from factflow_server._deps import ExecutionId, Service
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
    "/storage/objects/{key:path}",
    response_class=Response,
    summary="Download one stored object",
    description=(
        "The bytes with their stored content type; 422 for a malformed key. With "
        "`If-None-Match` naming the object's `ETag` (its SHA-256), 304 and no body."
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
        304: {
            "description": "Not modified: If-None-Match names this ETag.",
            "headers": _ETAG_HEADER,
        },
        **problems(404),
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
) -> Response:
    return await object_response(service, execution_id, key, if_none_match)
