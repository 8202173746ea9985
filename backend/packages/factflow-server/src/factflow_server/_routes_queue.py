"""``/api/v1/queue`` and ``/api/v1/configs/{name}/limit``: the run queue and
per-config concurrency limits.

Runs over capacity wait ``pending`` in one queue shared by every server on the
database and start in order (higher ``priority`` first, FIFO within one) as
slots free; a config's limit caps its running executions across all servers.
"""

from __future__ import annotations

from typing import Annotated

from factflow_execution import ConfigLimit, QueuedRun
from fastapi import APIRouter, Body, Query
from pydantic import Field

from factflow_server._deps import ConfigName, Service
from factflow_server._openapi import problems
from factflow_server._schemas import _Request, _Response

__all__ = ["router"]

router = APIRouter(tags=["queue"])


class QueueView(_Response):
    """``GET /queue``: what waits, in start order, and the limits that apply."""

    items: list[QueuedRun] = Field(description="The first `limit` queued runs, in start order.")
    total: int = Field(description="How many runs wait in all.")
    capacity: int = Field(
        description="How many runs this server runs at once (FACTFLOW_MAX_RUNNING_EXECUTIONS)."
    )
    running_here: int = Field(description="Runs this server is running (or starting) now.")
    limits: list[ConfigLimit] = Field(description="Every per-config limit set, by config name.")


class LimitRequest(_Request):
    """``PUT /configs/{name}/limit``."""

    max_running: int = Field(
        ge=0,
        le=1_000_000,
        description="At most this many executions of the config run at once, across every "
        "server; 0 holds its new runs in the queue.",
    )


@router.get(
    "/queue",
    response_model=QueueView,
    summary="The run queue: waiting runs in start order, and the config limits",
    description=(
        "Runs wait here (status `pending`, with a `queue_position`) while no server has "
        "a free slot for them, or while their config is at its limit. Any server on the "
        "database starts the next one as a slot frees: higher `priority` first, then "
        "first come, first served; runs of a config at its limit are passed over."
    ),
    responses=problems(),
)
async def get_queue(
    service: Service,
    limit: Annotated[int, Query(ge=1, le=1000, description="List at most this many.")] = 100,
) -> QueueView:
    items, total = await service.run_queue.waiting(limit)
    return QueueView(
        items=items,
        total=total,
        capacity=service.manager.capacity,
        running_here=len(service.manager),
        limits=await service.run_queue.limits(),
    )


@router.get(
    "/configs/{name}/limit",
    response_model=ConfigLimit,
    summary="Show a config's concurrency limit, with its running and queued runs",
    description="`max_running` is null when the config has no limit of its own.",
    responses=problems(404),
)
async def get_config_limit(service: Service, name: ConfigName) -> ConfigLimit:
    return await service.run_queue.limit(name)


@router.put(
    "/configs/{name}/limit",
    response_model=ConfigLimit,
    summary="Set a config's concurrency limit (across every server)",
    description=(
        "At most `max_running` executions of the config run at once on all servers "
        "sharing the database; the others wait in the queue (or, with `?queue=false`, "
        "are refused with 503 `config-limit-reached`). Lowering it stops nothing that "
        "runs; raising it starts waiting runs at once."
    ),
    responses=problems(400, 404, 413),
)
async def set_config_limit(
    service: Service, name: ConfigName, request: Annotated[LimitRequest, Body()]
) -> ConfigLimit:
    return await service.run_queue.set_limit(name, request.max_running)


@router.delete(
    "/configs/{name}/limit",
    response_model=ConfigLimit,
    summary="Remove a config's concurrency limit",
    description="Idempotent; answers the config's (now unlimited) counts.",
    responses=problems(404),
)
async def delete_config_limit(service: Service, name: ConfigName) -> ConfigLimit:
    return await service.run_queue.set_limit(name, None)
