"""``/api/v1/executions``: list, show, cancel, replay, resume, wait, stats and DAG."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from factflow_execution import (
    ConfigSourceType,
    DAGResponse,
    ExecutionStats,
    ExecutionStatus,
    PipelineExecution,
)
from fastapi import APIRouter, Body, Query, Request, Response, status
from pydantic import AfterValidator, BeforeValidator

from factflow_server._deps import CONFIG_NAME_PATTERN, ExecutionId, Service
from factflow_server._openapi import LOCATION_HEADER, QUEUE_PARAM_DESCRIPTION, problems
from factflow_server._schemas import (
    CancelRequest,
    ExecutionList,
    ReplayRequest,
    ResumeRequest,
    WaitResult,
)
from factflow_server._views import execution_with_stats, wait_unless_disconnected

__all__ = ["router"]

router = APIRouter(prefix="/executions", tags=["executions"])

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _not_a_number(value: object) -> object:
    # Pydantic would read "-86" as a Unix timestamp; the documented format is ISO 8601.
    if isinstance(value, str | int | float) and _NUMBER.fullmatch(str(value).strip()):
        raise ValueError("expected an ISO 8601 date-time such as 2026-01-31T12:00:00Z")
    return value


def _utc(value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the datetime is out of range once converted to UTC") from None


UTCDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_utc)]

_LABEL_FILTER_CHARS = 1000


def _label_filter(value: str) -> str:
    key, colon, _ = value.partition(":")
    if not colon or not key:
        raise ValueError(f"a label filter is key:value (key, a colon, the value), not {value!r}")
    if len(value) > _LABEL_FILTER_CHARS:
        raise ValueError(f"a label filter has at most {_LABEL_FILTER_CHARS} characters")
    return value


LabelFilter = Annotated[str, AfterValidator(_label_filter)]


@router.get(
    "",
    response_model=ExecutionList,
    summary="List executions (newest first, with stats)",
    description=(
        "Filters combine with AND; repeat `status` (any of them) or `label` (all of them) "
        "for several. `since` is inclusive and `until` exclusive on the creation time "
        "(naive times are UTC). Pass `next_cursor` "
        "back as `cursor` for the next page. Items are summaries: the config snapshot "
        "(~5 KB each) only comes with `include=snapshot`, or from the detail endpoint."
    ),
    responses=problems(),
)
async def list_executions(
    service: Service,
    status: Annotated[
        list[ExecutionStatus] | None,
        Query(description="Only these statuses (repeat for several)."),
    ] = None,
    config: Annotated[
        str | None, Query(pattern=CONFIG_NAME_PATTERN, description="Only runs of this config.")
    ] = None,
    source: Annotated[
        ConfigSourceType | None, Query(description="Only runs started this way.")
    ] = None,
    since: Annotated[
        UTCDateTime | None,
        Query(description="Created at or after this ISO 8601 time (naive = UTC)."),
    ] = None,
    until: Annotated[
        UTCDateTime | None, Query(description="Created before this ISO 8601 time (naive = UTC).")
    ] = None,
    schedule: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="Only runs fired by this schedule id."
        ),
    ] = None,
    label: Annotated[
        list[LabelFilter] | None,
        Query(
            max_length=20,
            description="`key:value`: only runs whose label `key` is `value` (the first colon "
            "splits; repeat for several, all must hold).",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
    cursor: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9_-]{1,512}$", description="`next_cursor` of the last page."),
    ] = None,
    include: Annotated[
        list[Literal["snapshot"]] | None,
        Query(description="`snapshot` adds each item's `config_snapshot`."),
    ] = None,
) -> Response:
    page = await service.list(
        status=status,
        config_name=config,
        source=source.value if source is not None else None,
        since=since,
        until=until,
        schedule_id=schedule,
        labels=[_pair(text) for text in label or ()],
        limit=limit,
        cursor=cursor,
        snapshots="snapshot" in (include or ()),
    )
    body = ExecutionList.json_of(
        page.items, page.next_cursor, snapshot="snapshot" in (include or ())
    )
    return Response(content=body, media_type="application/json")


def _pair(text: str) -> tuple[str, str]:
    key, _, value = text.partition(":")
    return key, value


@router.get(
    "/{execution_id}",
    response_model=PipelineExecution,
    summary="Show an execution (with live stats while it runs)",
    responses=problems(404),
)
async def get_execution(service: Service, execution_id: ExecutionId) -> PipelineExecution:
    return await execution_with_stats(service, execution_id)


@router.post(
    "/{execution_id}/cancel",
    response_model=PipelineExecution,
    summary="Cancel a pending or running execution",
    description=(
        "Returns the execution once it is terminal; 409 when it already was. A run "
        "waiting in the queue ends `cancelled` at once and never starts."
    ),
    responses=problems(400, 404, 409, 413),
)
async def cancel_execution(
    service: Service,
    execution_id: ExecutionId,
    request: Annotated[CancelRequest | None, Body()] = None,
) -> PipelineExecution:
    return await service.cancel(execution_id, request.reason if request else None)


@router.post(
    "/{execution_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PipelineExecution,
    summary="Replay messages of a finished execution as a new execution",
    description=(
        "`mode`: `failed` (default) re-injects the failed messages, `cancelled` those a "
        "stop left unfinished, `unfinished` both, `all` the root messages, `ids` exactly "
        "`message_ids`; `route` narrows any mode. 409 when the parent still runs or nothing "
        "matches. What a crash lost was never recorded: resume the run to finish it. Like "
        "a run, it starts at once or waits in the run queue (`pending` with "
        "`queue_position`); `?queue=false` refuses with 503 instead of queueing."
    ),
    responses={
        202: {
            "description": "Created: started (`running`) or queued (`pending`, with "
            "`queue_position`).",
            "headers": LOCATION_HEADER,
        },
        **problems(400, 404, 409, 413, capacity=True),
    },
)
async def replay_execution(
    service: Service,
    execution_id: ExecutionId,
    response: Response,
    request: Annotated[ReplayRequest | None, Body()] = None,
    queue: Annotated[bool, Query(description=QUEUE_PARAM_DESCRIPTION)] = True,
) -> PipelineExecution:
    replay = request or ReplayRequest()
    execution = await service.replay(
        replay.selection(execution_id),
        labels=replay.labels,
        queue=queue,
        priority=replay.priority,
    )
    response.headers["Location"] = f"/api/v1/executions/{execution.id}"
    return execution


@router.post(
    "/{execution_id}/resume",
    status_code=status.HTTP_201_CREATED,
    response_model=PipelineExecution,
    summary="Finish an interrupted or cancelled execution as a new execution",
    description=(
        "Creates and starts a new execution (`source: resume`, `parent_execution_id` = this "
        "one) from the parent's config snapshot that does exactly the parent's unfinished "
        "work: every input the source would have produced and every message that had not "
        "settled is processed; a message that settled at a route in the parent (or in the "
        "runs it resumed) is not recorded there again. With a RabbitMQ queue backend it also "
        "takes the messages still in the parent's queues. 409 `illegal-transition` unless the "
        "parent is `interrupted` or `cancelled`; 409 `conflict` when it was resumed already "
        "(resume that resume instead) or finishes a replay."
    ),
    responses={
        201: {"description": "Created and started.", "headers": LOCATION_HEADER},
        **problems(400, 404, 409, 413, capacity=True),
    },
)
async def resume_execution(
    service: Service,
    execution_id: ExecutionId,
    response: Response,
    request: Annotated[ResumeRequest | None, Body()] = None,
) -> PipelineExecution:
    execution = await service.resume(execution_id, labels=request.labels if request else None)
    response.headers["Location"] = f"/api/v1/executions/{execution.id}"
    return execution


@router.get(
    "/{execution_id}/wait",
    response_model=WaitResult,
    summary="Wait until an execution is terminal (long-poll)",
    description=(
        "Answers as soon as the execution is terminal, or after `timeout` seconds with "
        "`timed_out: true`."
    ),
    responses=problems(404),
)
async def wait_execution(
    service: Service,
    execution_id: ExecutionId,
    request: Request,
    timeout: Annotated[
        float,
        Query(ge=0, le=300, allow_inf_nan=False, description="Seconds to wait at most."),
    ] = 30.0,
) -> WaitResult:
    return await wait_unless_disconnected(service, request, execution_id, timeout)


@router.get(
    "/{execution_id}/stats",
    response_model=ExecutionStats,
    summary="Execution stats (live while running)",
    responses=problems(404),
)
async def get_execution_stats(service: Service, execution_id: ExecutionId) -> ExecutionStats:
    return await service.stats(execution_id)


@router.get(
    "/{execution_id}/dag",
    response_model=DAGResponse,
    summary="The execution's routes and edges with message counts",
    responses=problems(404),
)
async def get_execution_dag(service: Service, execution_id: ExecutionId) -> DAGResponse:
    return await service.dag(execution_id)
