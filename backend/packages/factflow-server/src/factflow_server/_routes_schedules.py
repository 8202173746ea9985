"""``/api/v1/schedules``: create, list, show, pause, resume and delete schedules;
their next fire times and the fire times already claimed.

``{schedule}`` in a path is a schedule's id or its name.  The runs a schedule
starts are executions with ``source=schedule``; list them with
``GET /executions?schedule=<id>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from factflow_server._deps import CONFIG_NAME_PATTERN, Service
from factflow_server._openapi import problems
from factflow_server._schemas_schedules import (
    FireList,
    NextFireTimes,
    ScheduleCreate,
    ScheduleFireOut,
    ScheduleList,
    ScheduleOut,
)

__all__ = ["router"]

router = APIRouter(prefix="/schedules", tags=["schedules"])

ScheduleRef = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$",
        description="The schedule's id or name.",
        examples=["nightly-facts"],
    ),
]


def _out(schedule: Any) -> ScheduleOut:
    return ScheduleOut.model_validate(schedule.model_dump())


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ScheduleOut,
    summary="Create a schedule",
    description=(
        "Validates the trigger (cron expression and time zone, or interval), that the "
        "config exists and that the params resolve against it. The first fire time is the "
        "first one after now. 409 when the name is taken."
    ),
    responses=problems(400, 404, 409, 413),
)
async def create_schedule(
    service: Service, body: ScheduleCreate, response: Response
) -> ScheduleOut:
    schedule = await service.schedules.create(body.model_dump())
    response.headers["Location"] = f"/api/v1/schedules/{schedule.id}"
    return _out(schedule)


@router.get("", response_model=ScheduleList, summary="List schedules", responses=problems())
async def list_schedules(
    service: Service,
    config: Annotated[
        str | None, Query(pattern=CONFIG_NAME_PATTERN, description="Only those of this config.")
    ] = None,
    paused: Annotated[
        bool | None, Query(description="Only paused (true) or active (false) ones.")
    ] = None,
) -> ScheduleList:
    items = await service.schedules.list(config_name=config, paused=paused)
    return ScheduleList(items=[_out(s) for s in items])


@router.get(
    "/{schedule}", response_model=ScheduleOut, summary="Show a schedule", responses=problems(404)
)
async def get_schedule(service: Service, schedule: ScheduleRef) -> ScheduleOut:
    return _out(await service.schedules.get(schedule))


@router.post(
    "/{schedule}/pause",
    response_model=ScheduleOut,
    summary="Pause a schedule (idempotent)",
    description="No fire time runs while paused; runs already started carry on.",
    responses=problems(404),
)
async def pause_schedule(service: Service, schedule: ScheduleRef) -> ScheduleOut:
    return _out(await service.schedules.pause(schedule))


@router.post(
    "/{schedule}/resume",
    response_model=ScheduleOut,
    summary="Resume a schedule (idempotent)",
    description="Fires again from the first fire time after now; nothing is caught up "
    "for the time it was paused.",
    responses=problems(404),
)
async def resume_schedule(service: Service, schedule: ScheduleRef) -> ScheduleOut:
    return _out(await service.schedules.resume(schedule))


@router.delete(
    "/{schedule}",
    response_model=ScheduleOut,
    summary="Delete a schedule",
    description="Deletes the schedule and its fire records; its runs stay, still "
    "carrying its `schedule_id`. Answers with the deleted schedule.",
    responses=problems(404),
)
async def delete_schedule(service: Service, schedule: ScheduleRef) -> ScheduleOut:
    return _out(await service.schedules.delete(schedule))


@router.get(
    "/{schedule}/next",
    response_model=NextFireTimes,
    summary="The next fire times",
    responses=problems(404),
)
async def next_fire_times(
    service: Service,
    schedule: ScheduleRef,
    count: Annotated[int, Query(ge=1, le=100, description="How many fire times.")] = 5,
) -> NextFireTimes:
    stored = await service.schedules.get(schedule)
    times = await service.schedules.next_fire_times(stored.id, count)
    return NextFireTimes(schedule_id=stored.id, paused=stored.paused, times=times)


@router.get(
    "/{schedule}/fires",
    response_model=FireList,
    summary="Fire times claimed, newest first",
    description="Each with its outcome and the execution it created. Pass `next_before` "
    "back as `before` for older ones.",
    responses=problems(404),
)
async def list_fires(
    service: Service,
    schedule: ScheduleRef,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
    before: Annotated[
        datetime | None, Query(description="Only fire times before this (`next_before`).")
    ] = None,
) -> FireList:
    fires = await service.schedules.fires(schedule, limit=limit, before=before)
    items = [ScheduleFireOut.model_validate(f.model_dump()) for f in fires]
    next_before = items[-1].fire_time if len(items) == limit else None
    return FireList(items=items, next_before=next_before)
