"""Schedules on both databases: validation, claiming fire times exactly once
(also with two services racing for the same times), catch-up after downtime
under each policy, the per-schedule run limit, pause/resume/delete, and the
scheduler loop woken by a change.  Time is driven explicitly (``tick(now=…)``)
except in the loop test."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factflow_engine import ConfigValidationError, Registry
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings, NotFoundError
from factflow_infra.db import Database, pipeline_executions, schedule_fires
from pydantic import ValidationError
from sqlalchemy import func, select

from .conftest import Gates, inline_config

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)

Make = Callable[..., Awaitable[ExecutionService]]


@pytest.fixture
async def make(
    settings: FactFlowSettings, db: Database, db_url: str, registry: Registry
) -> AsyncIterator[Make]:
    """Services on the (emptied) test database with the loop off (tests drive the
    clock); each has its own engine, as another server process would."""
    made: list[tuple[ExecutionService, Database]] = []

    async def _make(**overrides: Any) -> ExecutionService:
        database = Database(db_url)
        svc = ExecutionService.from_settings(
            settings.model_copy(update={"scheduler": False, **overrides}),
            db=database,
            registry=registry,
            owner_id=f"test-host:{1000 + len(made)}:s{len(made)}",
        )
        await svc.startup()
        svc.schedules.clock = lambda: T0
        made.append((svc, database))
        return svc

    yield _make
    for svc, database in made:
        await svc.shutdown(grace=0)
        await database.dispose()


async def _spec(service: ExecutionService, **fields: Any) -> Any:
    from factflow_execution._schedules_models import ScheduleSpec

    body = {"name": "every", "config_name": "t", "interval_seconds": 10, **fields}
    return ScheduleSpec.model_validate(body)


async def _runs(service: ExecutionService, schedule_id: str) -> list[Any]:
    async with service.db.connect() as conn:
        t = pipeline_executions
        rows = await conn.execute(
            select(t.c.id, t.c.source, t.c.status).where(t.c.schedule_id == schedule_id)
        )
        return list(rows.all())


async def test_a_fire_time_creates_one_scheduled_run_linked_to_its_schedule(
    make: Make, db: Database
) -> None:
    service = await make()
    await service.save_config(inline_config())
    schedule = await service.schedules.create(await _spec(service, labels={"team": "a"}))
    assert schedule.next_fire_at == T0 + timedelta(seconds=10)

    assert await service.schedules.tick(T0 + timedelta(seconds=9)) == schedule.next_fire_at
    assert await _runs(service, schedule.id) == []

    upcoming = await service.schedules.tick(T0 + timedelta(seconds=10, milliseconds=5))
    assert upcoming == T0 + timedelta(seconds=20)
    (fire,) = await service.schedules.fires(schedule.id)
    assert fire.fire_time == T0 + timedelta(seconds=10) and fire.outcome == "started"
    run = await service.get(fire.execution_id or "")
    assert run.source == "schedule" and run.schedule_id == schedule.id
    assert run.labels == {"team": "a"}
    assert (await service.wait(run.id, timeout=30)).status == "completed"
    page = await service.list(schedule_id=schedule.id)
    assert [e.id for e in page.items] == [run.id]
    assert (await service.schedules.get("every")).last_fire_at == fire.fire_time


async def test_two_servers_racing_for_the_same_fire_times_run_each_once(make: Make) -> None:
    a, b = await make(), await make()
    await a.save_config(inline_config())
    schedule = await a.schedules.create(await _spec(a, interval_seconds=1, catchup="all"))
    rng = random.Random(15)
    moments = [T0 + timedelta(seconds=s, milliseconds=rng.randint(0, 999)) for s in range(1, 13)]
    for now in moments:  # both servers wake at about the same instant, in random order
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        await asyncio.gather(first.schedules.tick(now), second.schedules.tick(now))
    fires = await a.schedules.fires(schedule.id, limit=100)
    times = sorted(f.fire_time for f in fires)
    assert times == [T0 + timedelta(seconds=s) for s in range(1, 13)]  # no gap, no duplicate
    runs = await _runs(a, schedule.id)
    assert sorted(r.id for r in runs) == sorted(f.execution_id or "" for f in fires)
    assert len({r.id for r in runs}) == 12
    for run in runs:
        assert (await a.wait(run.id, timeout=30)).status == "completed"


@pytest.mark.parametrize(
    ("catchup", "grace", "expected"),
    [
        # down from T0+10 s to T0+105.5 s: fire times 10, 20, …, 100 were missed
        ("skip", 30, [80, 90, 100]),  # those at most 30 s late run, oldest first
        ("skip", 5, []),  # even the latest is 5.5 s late, past a 5 s grace: nothing runs
        ("once", 5, [100]),  # one catch-up run whatever its lateness
        ("all", 5, [70, 80, 90, 100]),  # every missed one, bounded to the newest 4
    ],
)
async def test_restart_after_downtime_follows_the_catchup_policy(
    make: Make, catchup: str, grace: int, expected: list[int]
) -> None:
    first = await make()
    await first.save_config(inline_config())
    spec = await _spec(first, catchup=catchup, misfire_grace_seconds=grace, catchup_limit=4)
    schedule = await first.schedules.create(spec)
    await first.shutdown(grace=0)  # the only server stops before the first fire time

    restarted = await make()  # and a new one comes up 95.5 s after it
    now = T0 + timedelta(seconds=105, milliseconds=500)
    assert await restarted.schedules.tick(now) == T0 + timedelta(seconds=110)
    fires = sorted(await restarted.schedules.fires(schedule.id), key=lambda f: f.fire_time)
    assert [int((f.fire_time - T0).total_seconds()) for f in fires] == expected
    assert len(await _runs(restarted, schedule.id)) == len(expected)
    # back on time afterwards: the next fire time runs normally
    await restarted.schedules.tick(T0 + timedelta(seconds=110))
    assert len(await _runs(restarted, schedule.id)) == len(expected) + 1


async def test_max_active_runs_skips_a_fire_time_while_the_limit_is_reached(
    make: Make, gates: Gates
) -> None:
    service = await make()
    config = inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": [1]}},
                "processors": [{"type": "gate"}],
            }
        }
    )
    await service.save_config(config)
    schedule = await service.schedules.create(await _spec(service, max_active_runs=1))
    await service.schedules.tick(T0 + timedelta(seconds=10))
    await gates.wait_entered("default", 1)
    await service.schedules.tick(T0 + timedelta(seconds=20))
    fires = sorted(await service.schedules.fires(schedule.id), key=lambda f: f.fire_time)
    assert [f.outcome for f in fires] == ["started", "skipped"]
    assert fires[1].execution_id is None and "max_active_runs" in (fires[1].reason or "")
    gates.open("default")
    assert (await service.wait(fires[0].execution_id or "", timeout=30)).status == "completed"
    await service.schedules.tick(T0 + timedelta(seconds=30))
    assert (await service.schedules.fires(schedule.id))[0].outcome == "started"


async def test_an_archived_config_records_a_failed_fire_and_the_schedule_carries_on(
    make: Make,
) -> None:
    service = await make()
    await service.save_config(inline_config())
    schedule = await service.schedules.create(await _spec(service))
    await service.archive_config("t")
    await service.schedules.tick(T0 + timedelta(seconds=10))
    (fire,) = await service.schedules.fires(schedule.id)
    assert fire.outcome == "failed" and "archived" in (fire.reason or "")
    assert (await service.schedules.get(schedule.id)).next_fire_at == T0 + timedelta(seconds=20)


async def test_pause_resume_delete_and_next_fire_times(make: Make, db: Database) -> None:
    service = await make()
    await service.save_config(inline_config())
    schedule = await service.schedules.create(await _spec(service))
    assert await service.schedules.next_fire_times(schedule.id, 3) == [
        T0 + timedelta(seconds=s) for s in (10, 20, 30)
    ]
    paused = await service.schedules.pause("every")
    assert paused.paused and paused.next_fire_at is None
    await service.schedules.tick(T0 + timedelta(seconds=50))
    assert await service.schedules.fires(schedule.id) == []
    later = T0 + timedelta(seconds=55)
    service.schedules.clock = lambda: later
    resumed = await service.schedules.resume(schedule.id)  # paused time is not caught up
    assert resumed.next_fire_at == T0 + timedelta(seconds=60)
    await service.schedules.tick(T0 + timedelta(seconds=60))
    (fire,) = await service.schedules.fires(schedule.id)
    await service.wait(fire.execution_id or "", timeout=30)
    deleted = await service.schedules.delete(schedule.id)
    assert deleted.id == schedule.id
    with pytest.raises(NotFoundError):
        await service.schedules.get(schedule.id)
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(schedule_fires))).scalar() == 0
    assert len(await _runs(service, schedule.id)) == 1  # the run keeps its link


async def test_bad_schedules_are_refused_before_anything_is_stored(make: Make) -> None:
    service = await make()
    await service.save_config(inline_config(params={"n": {"type": "integer", "default": 1}}))
    with pytest.raises(NotFoundError):
        await service.schedules.create(await _spec(service, config_name="nope"))
    with pytest.raises(ConfigValidationError):
        await service.schedules.create(await _spec(service, params={"n": "many"}))
    for fields, message in [
        ({"cron": "61 * * * *"}, "invalid cron expression"),
        ({"interval_seconds": None}, "exactly one of cron and interval_seconds"),
        ({"interval_seconds": None, "cron": "* * * * *", "timezone": "Mars/Base"}, "time zone"),
        ({"interval_seconds": None, "cron": "* * *"}, "invalid cron expression"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
        ({"catchup": "sometimes"}, "catchup"),
    ]:
        with pytest.raises(ValidationError, match=message):
            await _spec(service, **fields)
    await service.schedules.create(await _spec(service))
    from factflow_execution._schedules_errors import ScheduleExistsError

    with pytest.raises(ScheduleExistsError):
        await service.schedules.create(await _spec(service))
    assert [s.name for s in await service.schedules.list()] == ["every"]


async def test_the_loop_wakes_on_a_new_schedule_and_fires_on_time(
    settings: FactFlowSettings, db: Database, registry: Registry
) -> None:
    """Real time: the loop sleeps with nothing scheduled, a create wakes it, and it
    fires at the next whole second (the only test here that waits on the clock)."""
    service = ExecutionService.from_settings(settings, db=db, registry=registry)
    await service.startup()
    try:
        assert service.scheduler.running
        await service.save_config(inline_config())
        fired: asyncio.Queue[Any] = asyncio.Queue()
        service.schedules.on_fire(fired.put_nowait)
        spec = await _spec(service, interval_seconds=1)
        schedule = await service.schedules.create(spec)
        first = await asyncio.wait_for(fired.get(), 10)
        second = await asyncio.wait_for(fired.get(), 10)
        assert second.fire_time - first.fire_time == timedelta(seconds=1)
        assert first.fire_time >= schedule.created_at
        await service.schedules.pause(schedule.id)
        for fire in (first, second):
            assert (await service.wait(fire.execution_id, timeout=30)).status == "completed"
    finally:
        await service.shutdown(grace=0)
