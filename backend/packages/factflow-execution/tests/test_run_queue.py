"""The run queue on both databases: runs over capacity wait ``pending`` and start
in order as slots free; per-config limits; cancelling a queued run; queued
runs outliving their server; scheduled runs queueing instead of failing.

Runs are ``ScriptedOrchestrator``s (the honest double of
``PipelineOrchestrator``): the test decides when each run ends, so "at most N
at once" is asserted with a counter kept from the orchestrators' starts and
the controller's releases - never by sampling - and interleavings come from a
seeded number of event-loop yields, no clock.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factflow_engine import Registry
from factflow_engine.testing import ScriptedOrchestrator
from factflow_execution import (
    ExecutionService,
    LocalRun,
    OrchestratorRequest,
    PipelineExecution,
    RunPhase,
)
from factflow_execution._queue_models import ConfigLimitReachedError
from factflow_foundation import FactFlowSettings
from factflow_infra.db import Database, pipeline_executions, run_queue
from factflow_protocols import Orchestrator
from sqlalchemy import func, select

from .conftest import inline_config


class CountedRuns:
    """An orchestrator factory that counts what runs at once, from events only.

    ``running`` goes up when an orchestrator starts and down when the run
    controller releases the run; ``peak`` is its maximum, also per config.
    """

    def __init__(self) -> None:
        self.runs: dict[str, ScriptedOrchestrator] = {}
        self.configs: dict[str, str] = {}
        self.order: list[str] = []
        self.running: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.ended = 0
        self.changed = asyncio.Event()
        self.started: asyncio.Queue[str] = asyncio.Queue()

    def __call__(self, request: OrchestratorRequest) -> Orchestrator:
        counted = self
        config = request.pipeline.config.name

        class Run(ScriptedOrchestrator):
            async def start(self) -> None:
                await super().start()
                counted._started(self.execution_id, config)

        run = Run(request.execution_id, request.callback, routes=request.pipeline.config.routes)
        self.runs[request.execution_id] = run
        self.configs[request.execution_id] = config
        return run

    def _started(self, execution_id: str, config: str) -> None:
        self.order.append(execution_id)
        for key in ("*", config):
            self.running[key] += 1
            self.peak[key] = max(self.peak[key], self.running[key])
        self.started.put_nowait(execution_id)
        self.changed.set()

    def released(self, run: LocalRun) -> None:
        if run.phase is RunPhase.RESERVED or run.execution_id not in self.configs:
            return  # a slot given back without a launch
        for key in ("*", self.configs[run.execution_id]):
            self.running[key] -= 1
        self.ended += 1
        self.changed.set()

    async def until(self, check: Callable[[], bool]) -> None:
        while not check():
            self.changed.clear()
            await self.changed.wait()


Make = Callable[..., Awaitable[tuple[ExecutionService, CountedRuns]]]


@pytest.fixture
async def make(
    settings: FactFlowSettings, db: Database, db_url: str, registry: Registry
) -> AsyncIterator[Make]:
    """Started services on the test database, each with its own engine and counter."""
    made: list[tuple[ExecutionService, Database]] = []

    async def _make(capacity: int = 10, **overrides: Any) -> tuple[ExecutionService, CountedRuns]:
        runs = CountedRuns()
        database = Database(db_url)
        service = ExecutionService.from_settings(
            settings.model_copy(
                update={"max_running_executions": capacity, "scheduler": False, **overrides}
            ),
            db=database,
            registry=registry,
            orchestrators=runs,
            owner_id=f"test-host:{2000 + len(made)}:q{len(made)}",
        )
        service.manager.on_release(runs.released)
        await service.startup()
        made.append((service, database))
        return service, runs

    yield _make
    for service, database in made:
        await service.shutdown(grace=0)
        await database.dispose()


async def _yields(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def _queue_rows(service: ExecutionService) -> int:
    async with service.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(run_queue))).scalar_one())


@pytest.mark.parametrize("seed", [15])
async def test_500_runs_over_a_capacity_of_10_all_complete_in_fifo_order(
    make: Make, seed: int
) -> None:
    service, runs = await make(capacity=10)
    await service.save_config(inline_config())
    rng = random.Random(seed)

    def finish_some(n: int) -> None:  # the oldest started runs end by themselves
        for _ in range(n):
            if runs.started.empty():
                return
            runs.runs[runs.started.get_nowait()].complete()

    submitted: list[PipelineExecution] = []
    for _ in range(500):  # fewer runs end than are asked for: the queue grows
        submitted.append(await service.run("t"))
        finish_some(rng.choice([0, 0, 1, 1, 2]))
        await _yields(rng.randrange(0, 5))
    while runs.ended < 500:
        finish_some(10)
        await runs.until(lambda: runs.ended == 500 or not runs.started.empty())

    ids = [e.id for e in submitted]
    assert runs.order == ids  # started strictly in the order they were asked for
    assert runs.peak["*"] == 10  # the limit was reached, and never passed
    queued = [e for e in submitted if e.status == "pending"]
    assert len(queued) > 400, len(queued)  # most of them had to wait
    assert all(e.queue_position is not None and e.queue_position >= 1 for e in queued)
    assert all(e.status == "running" and e.queue_position is None for e in submitted[:10])
    async with service.db.connect() as conn:
        t = pipeline_executions
        statuses = await conn.execute(select(t.c.status, func.count()).group_by(t.c.status))
        assert dict(statuses.all()) == {"completed": 500}
    assert await _queue_rows(service) == 0


async def test_higher_priority_starts_first_and_positions_say_where_each_waits(
    make: Make,
) -> None:
    service, runs = await make(capacity=1)
    await service.save_config(inline_config())
    first = await service.run("t")
    low = await service.run("t")
    high = await service.run("t", priority=5)
    later = await service.run("t")
    assert (low.queue_position, high.queue_position, later.queue_position) == (1, 1, 3)
    placed = {e.id: e.queue_position for e in (await service.list(status="pending")).items}
    assert placed == {high.id: 1, low.id: 2, later.id: 3}
    assert (await service.get(low.id)).queue_position == 2
    for execution_id in (first.id, high.id, low.id, later.id):
        await runs.until(lambda: runs.order[-1:] == [execution_id])  # noqa: B023
        assert (await service.get(execution_id)).queue_position is None
        runs.runs[execution_id].complete()
    await runs.until(lambda: runs.ended == 4)
    assert runs.order == [first.id, high.id, low.id, later.id]


async def test_a_cancelled_queued_run_ends_cancelled_and_never_starts(make: Make) -> None:
    service, runs = await make(capacity=1)
    await service.save_config(inline_config())
    first = await service.run("t")
    queued = await service.run("t")
    assert queued.status == "pending" and queued.queue_position == 1
    waited = await service.wait(queued.id, timeout=0)  # a long-pending run: still waiting
    assert waited.timed_out and waited.status == "pending"
    waiter = asyncio.create_task(service.wait(queued.id, timeout=30))
    cancelled = await service.cancel(queued.id, "not needed")
    assert cancelled.status == "cancelled" and cancelled.error == "not needed"
    assert cancelled.started_at is None and cancelled.queue_position is None
    assert (await waiter).status == "cancelled"
    runs.runs[first.id].complete()
    await runs.until(lambda: runs.ended == 1)
    assert await service.run_queue.pump() == 0  # nothing left to start
    assert queued.id not in runs.runs  # never built, never started
    assert await _queue_rows(service) == 0  # the stale entry was cleared
    assert (await service.get(queued.id)).status == "cancelled"


async def test_a_config_limit_holds_while_other_configs_pass_the_queue(make: Make) -> None:
    service, runs = await make(capacity=10)
    await service.save_config(inline_config("t"))
    await service.save_config(inline_config("u"))
    limit = await service.run_queue.set_limit("t", 2)
    assert (limit.max_running, limit.running, limit.queued) == (2, 0, 0)
    ts = [await service.run("t") for _ in range(6)]
    assert [e.status for e in ts] == ["running"] * 2 + ["pending"] * 4
    other = await service.run("u")  # runs wait, but none it may pass: it starts at once
    assert other.status == "running"
    shown = await service.run_queue.limit("t")
    assert (shown.running, shown.queued) == (2, 4)
    with pytest.raises(ConfigLimitReachedError, match="already runs 2 executions"):
        await service.run("t", queue=False)
    assert len((await service.list(config_name="t")).items) == 6  # no row left behind
    for execution in ts:
        await runs.until(lambda: execution.id in runs.runs)  # noqa: B023
        runs.runs[execution.id].complete()
    runs.runs[other.id].complete()
    await runs.until(lambda: runs.ended == 7)
    assert runs.peak["t"] == 2 and runs.order[:2] == [ts[0].id, ts[1].id]
    assert [i for i in runs.order if runs.configs[i] == "t"] == [e.id for e in ts]
    await service.run_queue.set_limit("t", None)
    assert (await service.run_queue.limit("t")).max_running is None
    assert await service.run_queue.limits() == []


async def test_queued_runs_outlive_their_server_and_start_on_the_next(make: Make) -> None:
    first_server, _ = await make(capacity=1)
    await first_server.save_config(inline_config())
    running = await first_server.run("t")
    queued = await first_server.run("t")
    await first_server.shutdown(grace=0)  # its run ends interrupted; the queued one waits
    assert (await first_server.get(running.id)).status == "interrupted"
    assert (await first_server.get(queued.id)).status == "pending"
    second_server, runs = await make(capacity=1)  # recovery leaves the queued row alone
    await runs.until(lambda: queued.id in runs.order)
    assert (await second_server.get(queued.id)).owner == second_server.manager.owner_id
    runs.runs[queued.id].complete()
    assert (await second_server.wait(queued.id, timeout=30)).status == "completed"


async def test_a_schedule_firing_at_capacity_queues_its_run_instead_of_failing(
    make: Make,
) -> None:
    from factflow_execution._schedules_models import ScheduleSpec

    t0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    service, runs = await make(capacity=1)
    service.schedules.clock = lambda: t0
    await service.save_config(inline_config())
    spec = ScheduleSpec.model_validate({"name": "s", "config_name": "t", "interval_seconds": 10})
    schedule = await service.schedules.create(spec)
    await service.schedules.tick(t0 + timedelta(seconds=10))
    await service.schedules.tick(t0 + timedelta(seconds=20))
    fires = sorted(await service.schedules.fires(schedule.id), key=lambda f: f.fire_time)
    assert [f.outcome for f in fires] == ["started", "started"]
    first = await service.get(fires[0].execution_id or "")
    waiting = await service.get(fires[1].execution_id or "")
    assert first.status == "running"
    assert waiting.status == "pending" and waiting.queue_position == 1
    runs.runs[first.id].complete()
    await runs.until(lambda: runs.order == [first.id, waiting.id])
    runs.runs[waiting.id].complete()
    assert (await service.wait(waiting.id, timeout=30)).status == "completed"


async def test_a_slot_recovery_frees_starts_the_queued_run_at_once(
    make: Make, settings: FactFlowSettings, db_url: str, registry: Registry
) -> None:
    """A run of a config at its limit waits for a run another server owned; when
    recovery interrupts that orphan, the queue looks again at once (not after its
    300 s safety timeout)."""
    service, runs = await make(capacity=5, heartbeat_timeout=0.001)
    await service.save_config(inline_config())
    await service.run_queue.set_limit("t", 1)
    elsewhere_db = Database(db_url)
    elsewhere = ExecutionService.from_settings(  # another server, never started, soon "gone"
        settings, db=elsewhere_db, registry=registry, orchestrators=CountedRuns(),
        owner_id="elsewhere-host:1:gone",
    )  # fmt: skip
    try:
        orphan = await elsewhere.run("t")
        assert orphan.status == "running"
        queued = await service.run("t")
        assert queued.status == "pending" and queued.queue_position == 1
        await service.recover()  # the orphan's heartbeat is stale: interrupted
        await asyncio.wait_for(runs.until(lambda: queued.id in runs.order), 30)
        assert (await service.get(orphan.id)).status == "interrupted"
    finally:
        await elsewhere.shutdown(grace=0)
        await elsewhere_db.dispose()
