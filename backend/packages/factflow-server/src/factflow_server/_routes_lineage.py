"""``/api/v1/executions/{id}/lineage``: records (paged, filtered) and one message's
ancestry and descendants."""

from __future__ import annotations

from typing import Annotated, Final

from factflow_foundation import dumps
from factflow_lineage import LineageRecord
from factflow_protocols import LineageStatus
from fastapi import APIRouter, Path, Query, Response

from factflow_server._deps import ExecutionId, Service
from factflow_server._openapi import problems
from factflow_server._schemas import LineagePage, LineageRecordOut
from factflow_server._schemas_lineage import (
    LineageAncestry,
    LineageContinuation,
    LineageDescendants,
    LineageNodeOut,
)
from factflow_server._views import lineage_page

__all__ = ["router"]

router = APIRouter(prefix="/executions/{execution_id}/lineage", tags=["lineage and storage"])

_MAX_ID: Final = 2**63 - 1
#: Message ids as the engine makes them (UUIDs), with room for other id shapes.
MESSAGE_ID_PATTERN: Final = r"^[A-Za-z0-9_.:-]{1,64}$"

MessageId = Annotated[
    str, Path(pattern=MESSAGE_ID_PATTERN, description="The message's id (full, not a prefix).")
]


def _out(record: LineageRecord) -> LineageRecordOut:
    return LineageRecordOut.model_validate(record.as_dict())


@router.get(
    "",
    response_model=LineagePage,
    summary="Lineage records of an execution (paged, payloads included)",
    description="Filters combine with AND. `message_id` gives the records of one message.",
    responses=problems(404),
)
async def list_lineage(
    service: Service,
    execution_id: ExecutionId,
    route: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$", description="Only this route."),
    ] = None,
    status: Annotated[LineageStatus | None, Query(description="Only this status.")] = None,
    message_id: Annotated[
        str | None,
        Query(pattern=MESSAGE_ID_PATTERN, description="Only the records of this message."),
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=_MAX_ID, description="`next_after` of the last page (an item `id`)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Page size.")] = 100,
) -> LineagePage:
    records = await service.lineage_records(
        execution_id,
        route=route,
        status=status,
        message_id=message_id,
        after_id=after,
        limit=limit,
    )
    return lineage_page(records, limit)


@router.get(
    "/{message_id}/ancestry",
    response_model=LineageAncestry,
    summary="A message's ancestry: the chain of records from its root down to it",
    description=(
        "Each record with its input payload. A replay's re-injected message has its "
        "parent in the replayed execution: `continues` says where. 404 for an unknown "
        "execution or a message it never recorded."
    ),
    responses=problems(404),
)
async def get_ancestry(
    service: Service, execution_id: ExecutionId, message_id: MessageId
) -> LineageAncestry:
    chain = await service.ancestry(execution_id, message_id)
    continues = None
    if chain and chain[0].parent_message_id is not None:
        execution = await service.get(execution_id)
        continues = LineageContinuation(
            execution_id=execution.parent_execution_id, message_id=chain[0].parent_message_id
        )
    return LineageAncestry(
        execution_id=execution_id,
        message_id=message_id,
        items=[_out(record) for record in chain],
        continues=continues,
    )


@router.get(
    "/{message_id}/descendants",
    response_model=LineageDescendants,
    summary="A message's descendants: its subtree, bounded in depth and size",
    description=(
        "Level by level, each record with its depth and input payload. At most `depth` "
        "levels and `limit` records; `truncated` says whether anything was left out. "
        "404 for an unknown execution or a message it never recorded."
    ),
    responses=problems(404),
)
async def get_descendants(
    service: Service,
    execution_id: ExecutionId,
    message_id: MessageId,
    depth: Annotated[
        int, Query(ge=1, le=10_000, description="Levels below the message to include.")
    ] = 100,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Records to include at most.")] = 1000,
) -> LineageDescendants:
    tree = await service.descendants(execution_id, message_id, max_depth=depth, limit=limit)
    return LineageDescendants(
        execution_id=execution_id,
        message=_out(tree.root),
        items=[
            LineageNodeOut.model_validate({**record.as_dict(), "depth": level})
            for level, record in tree.items
        ],
        truncated=tree.truncated,
        max_depth=tree.max_depth,
        limit=tree.limit,
    )


@router.get(
    "/{message_id}/payload",
    response_class=Response,
    summary="A message's input payload, also one too large to keep in its record",
    description=(
        "The JSON payload the message entered its route with (its latest record), read "
        "back from storage when the record only holds a `payload_ref`. 404 for an "
        "unknown execution or a message it never recorded."
    ),
    responses={
        200: {
            "description": "The payload, as JSON.",
            "content": {"application/json": {"schema": {}}},
        },
        **problems(404),
    },
)
async def get_payload(
    service: Service, execution_id: ExecutionId, message_id: MessageId
) -> Response:
    payload = await service.message_payload(execution_id, message_id)
    return Response(content=dumps(payload), media_type="application/json")
