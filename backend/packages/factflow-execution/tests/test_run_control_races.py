"""Run control under races: start, cancel, finish and shutdown interleaved.

The orchestrators are ``ScriptedOrchestrator``s (the honest double of
``PipelineOrchestrator``: the same contract tests run on both), so a test
decides when a run ends by itself, how long a cancel stays in its grace, and
what happens first - while the rows, events and transitions are the real ones,
on both databases.  Interleavings come from a seeded number of event-loop
yields before each action; no clock is involved.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest
from factflow_engine import Registry
from factflow_engine.testing import ScriptedOrchestrator
from factflow_execution import (
    ExecutionService,
    IllegalTransitionError,
    OrchestratorRequest,
    PipelineExecution,
)
from factflow_execution._events import read_events
from factflow_foundation import CapacityExceededError, FactFlowSettings
from factflow_infra.db import Database
from factflow_protocols import Orchestrator

from .conftest import inline_config

TERMINAL = {"completed", "failed", "cancelled", "interrupted"}
SHUTDOWN = "interrupted: the server shut down"


class Scripted:
    """An orchestrator factory whose runs the test scripts, by execution id."""

    def __init__(self) -> None:
        self.runs: dict[str, ScriptedOrchestrator] = {}
        self.hold: set[str] = set()  # cancelled runs of these ids stay in their grace

    def __call__(self, request: OrchestratorRequest) -> Orchestrator:
        run = ScriptedOrchestrator(
            request.execution_id, request.callback, routes=request.pipeline.config.routes
        )
        if request.execution_id in self.hold:
            run.hold_grace()
        self.runs[request.execution_id] = run
        return run

    def release(self, execution_id: str) -> None:
        """In-flight work finished: a cancelled run may end."""
        self.hold.discard(execution_id)
        if execution_id in self.runs:
            self.runs[execution_id].release_grace()


@pytest.fixture
def scripted() -> Scripted:
    return Scripted()


def _service(
    settings: FactFlowSettings, db: Database, registry: Registry, scripted: Scripted
) -> ExecutionService:
    # No startup(): these runs need no recovery, heartbeat or LISTEN connection.
    return ExecutionService.from_settings(
        settings, db=db, registry=registry, orchestrators=scripted
    )


@pytest.fixture
async def scripted_service(
    settings: FactFlowSettings, db: Database, registry: Registry, scripted: Scripted
) -> AsyncIterator[ExecutionService]:
    service = _service(settings, db, registry, scripted)
    await service.save_config(inline_config())
    try:
        yield service
    finally:
        await service.shutdown(grace=0)


async def _statuses(service: ExecutionService, execution_id: str) -> list[dict[str, Any]]:
    async with service.db.connect() as conn:
        events = await read_events(conn, execution_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    return [e.data for e in events if e.kind == "status"]


async def _check_one_end(service: ExecutionService, execution_id: str) -> PipelineExecution:
    """The row is terminal with exactly one terminal event, the log's last status."""
    row = await service.get(execution_id)
    assert row.status in TERMINAL, row
    statuses = await _statuses(service, execution_id)
    terminal = [s for s in statuses if s["status"] in TERMINAL]
    assert len(terminal) == 1 and terminal[0]["status"] == row.status, statuses
    assert statuses[0]["status"] == "pending" and statuses[-1] is terminal[0]
    assert [s["status"] for s in statuses[1:-1]] in ([], ["running"]), statuses
    assert row.stats is not None and row.finished_at is not None
    return row


async def _after(rng_steps: int) -> None:
    for _ in range(rng_steps):
        await asyncio.sleep(0)  # yield to the other actions a seeded number of times


def _schedule(
    service: ExecutionService,
    scripted: Scripted,
    eid: str,
    rng: random.Random,
    told: dict[str, Any],
) -> list[Coroutine[Any, Any, None]]:
    """One run's actions - start it, let it end by itself, let its in-flight work
    finish, maybe cancel it - each after a seeded number of yields, counted from
    the beginning or from the moment its start settled (so some land on a
    running run).  What each caller was told goes into ``told``."""
    if rng.random() < 0.5:
        scripted.hold.add(eid)
    settled = asyncio.Event()
    # One run in ten is cancelled before anyone tries to start it, so the start
    # surely meets a terminal row (timing alone would make that case rare).
    cancelled_first = asyncio.Event() if rng.random() < 0.1 else None

    async def after(steps: int, anchored: bool) -> None:
        if anchored:
            await settled.wait()
        await _after(steps)

    async def start(steps: int) -> None:
        if cancelled_first is not None:
            await cancelled_first.wait()
        await _after(steps)
        try:
            told["start"] = (await service.start(eid)).status
        except (IllegalTransitionError, CapacityExceededError) as exc:
            told["start"] = type(exc).__name__
        finally:
            settled.set()

    async def cancel(when: tuple[int, bool]) -> None:
        if cancelled_first is None:
            await after(*when)
        try:
            told["cancel"] = (await service.cancel(eid, "user")).status
        except IllegalTransitionError as exc:
            told["cancel"] = f"refused:{exc.status}"
        finally:
            if cancelled_first is not None:
                cancelled_first.set()

    async def finish(when: tuple[int, bool], ending: str) -> None:
        await after(*when)
        run = scripted.runs.get(eid)
        if run is not None:  # the run ends by itself (if nothing decided first)
            run.complete() if ending == "completed" else run.fail("boom")

    async def release(when: tuple[int, bool]) -> None:
        await after(*when)
        scripted.release(eid)

    def when() -> tuple[int, bool]:
        return rng.randrange(12), rng.random() < 0.7

    actions = [
        start(rng.randrange(40)),
        finish(when(), rng.choice(["completed", "failed"])),
        release(when()),
    ]
    if cancelled_first is not None or rng.random() < 0.7:
        actions.append(cancel(when()))
    return actions


def _check_the_cause(row: PipelineExecution, told: dict[str, Any], run: Any) -> None:
    """The status is the one the run's first decisive cause calls for, with its
    reason, and what each caller was told agrees with the row."""
    started = told["start"] == "running"
    assert (run is not None and run.started.is_set()) == started
    if started:  # every started orchestrator stopped and reported once
        assert run.finished and run.outcome is not None
    if row.status == "cancelled":
        assert row.error == "user" and "cancel" in told
    elif row.status == "interrupted":
        assert (row.error or "").startswith(SHUTDOWN)
    else:  # completed or failed: it ended by itself before any stop counted
        assert started and run.decided == row.status
        assert row.error == (None if row.status == "completed" else "boom")
    if started and run.decided in ("completed", "failed"):
        assert row.status == run.decided  # a stop that came later changed nothing
    if "cancel" in told:
        assert told["cancel"] in (row.status, f"refused:{row.status}"), (told, row.status)


RUNS_PER_ROUND = 10


async def test_seeded_interleavings_of_start_cancel_finish_and_shutdown(
    settings: FactFlowSettings, db: Database, registry: Registry, scripted: Scripted
) -> None:
    """Every run ends in exactly one terminal status with one terminal event, the
    one its first decisive cause calls for, and nothing is left tracked.

    Rounds of ten runs on one service, each run with its own seeded schedule,
    and in about four rounds out of ten a shutdown racing all of them: 500 interleavings
    on SQLite, 100 more on PostgreSQL (to keep CI lean)."""
    rng = random.Random(20260509)
    seen: dict[tuple[str, str], int] = {}
    setup = _service(settings, db, registry, scripted)
    await setup.save_config(inline_config())
    await setup.shutdown(grace=0)
    for _ in range((500 if db.is_sqlite else 100) // RUNS_PER_ROUND):
        service = _service(settings, db, registry, scripted)
        told: dict[str, dict[str, Any]] = {}
        actions: list[Coroutine[Any, Any, None]] = []
        for _ in range(RUNS_PER_ROUND):
            eid = (await service.create_execution("t")).id
            told[eid] = {}
            actions += _schedule(service, scripted, eid, rng, told[eid])
        interrupted: list[str] = []

        async def shut_down(
            steps: int, service: ExecutionService = service, into: list[str] = interrupted
        ) -> None:
            await _after(steps)
            into.extend(await service.shutdown(grace=0))

        racing = rng.random() < 0.4
        if racing:
            actions.append(shut_down(rng.randrange(60)))
        await asyncio.gather(*actions)
        if not racing:
            await shut_down(0)  # ends what nothing else ended
        assert len(service.manager) == 0
        ended_interrupted = set()
        for eid, what in told.items():
            row = await _check_one_end(service, eid)
            _check_the_cause(row, what, scripted.runs.get(eid))
            if row.status == "interrupted":
                ended_interrupted.add(eid)
            key = (str(what["start"]), row.status)
            seen[key] = seen.get(key, 0) + 1
        assert sorted(interrupted) == sorted(ended_interrupted)  # shutdown told the truth
    # The schedules really exercised the races: each end was reached, by started
    # runs and by runs that never started.
    assert {status for _, status in seen} == TERMINAL, seen
    assert {start for start, _ in seen} >= {"running", "IllegalTransitionError"}, seen


async def test_a_cancel_in_its_grace_when_shutdown_comes_stays_cancelled(
    scripted_service: ExecutionService, scripted: Scripted
) -> None:
    """The rule (docs/architecture.md): the first stop request wins.  A user's
    cancel still finishing its in-flight work when shutdown asks every run to
    stop ends ``cancelled`` with the user's reason, not ``interrupted``."""
    service = scripted_service
    execution = await service.run("t")
    run = scripted.runs[execution.id]
    run.hold_grace()
    cancelling = asyncio.ensure_future(service.cancel(execution.id, "user"))
    while run.decided is None:
        await asyncio.sleep(0)
    stopping = asyncio.ensure_future(service.shutdown(grace=0))
    while service.manager.accepting:
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not cancelling.done() and not stopping.done()  # both wait for the grace
    run.release_grace()
    assert await stopping == []  # nothing was interrupted
    final = await cancelling
    assert (final.status, final.error) == ("cancelled", "user")
    assert (await _check_one_end(service, execution.id)).status == "cancelled"


async def test_shutdown_first_then_a_cancel_gets_the_interrupted_row(
    scripted_service: ExecutionService, scripted: Scripted
) -> None:
    service = scripted_service
    execution = await service.run("t")
    run = scripted.runs[execution.id]
    run.hold_grace()
    stopping = asyncio.ensure_future(service.shutdown(grace=0))
    while run.decided is None:
        await asyncio.sleep(0)
    cancelling = asyncio.ensure_future(service.cancel(execution.id, "user"))
    await asyncio.sleep(0)
    run.release_grace()
    assert await stopping == [execution.id]
    final = await cancelling  # the cancel lost: the final row, not an error
    assert final.status == "interrupted" and (final.error or "").startswith(SHUTDOWN)
    assert (await _check_one_end(service, execution.id)).status == "interrupted"


async def test_a_run_that_never_stops_is_ended_by_shutdown_and_let_go(
    scripted_service: ExecutionService, scripted: Scripted
) -> None:
    """Past the stop timeout the row is made terminal anyway (with the first stop
    request's status); the orchestrator's late report then changes nothing."""
    service = scripted_service
    hung = await service.run("t")
    run = scripted.runs[hung.id]
    run.hold_grace()
    cancelled_first = await service.run("t")
    scripted.runs[cancelled_first.id].hold_grace()
    service.manager.stop(cancelled_first.id, _cancel_kind(), "user")
    reason = f"{SHUTDOWN} before it finished"
    interrupted = await service.manager.shutdown(0, 0, reason)
    assert interrupted == [hung.id]
    assert len(service.manager) == 0
    assert (await _check_one_end(service, hung.id)).error == reason
    assert (await _check_one_end(service, cancelled_first.id)).error == "user"
    run.release_grace()
    scripted.runs[cancelled_first.id].release_grace()
    await run.wait()  # its on_finished came late and was refused: still one end
    await service.event_log.flush_posted()
    assert (await _check_one_end(service, hung.id)).status == "interrupted"


def _cancel_kind() -> Any:
    from factflow_execution import StopKind

    return StopKind.CANCEL


async def test_a_full_server_refuses_and_a_start_that_fails_gives_its_slot_back(
    settings: FactFlowSettings, db: Database, registry: Registry, scripted: Scripted
) -> None:
    limited = settings.model_copy(update={"max_running_executions": 1})
    service = _service(limited, db, registry, scripted)
    await service.save_config(inline_config())
    try:
        first = await service.run("t")
        waiting = await service.create_execution("t")
        with pytest.raises(CapacityExceededError):
            await service.start(waiting.id)
        assert (await service.get(waiting.id)).status == "pending"  # admission is not the row
        scripted.runs[first.id].complete()
        await scripted.runs[first.id].wait()
        assert len(service.manager) == 0
        original = scripted.__call__

        def broken(request: OrchestratorRequest) -> Orchestrator:
            orchestrator = original(request)
            orchestrator._start_error = RuntimeError("no queue for you")  # type: ignore[attr-defined]
            return orchestrator

        service._builder._factory = broken  # type: ignore[attr-defined]
        with pytest.raises(RuntimeError, match="no queue for you"):
            await service.start(waiting.id)
        row = await _check_one_end(service, waiting.id)
        assert row.status == "failed" and "could not start: no queue for you" in (row.error or "")
        assert len(service.manager) == 0  # the slot came back
    finally:
        await service.shutdown(grace=0)


async def test_a_start_cancelled_midway_still_ends_its_run_once(
    scripted_service: ExecutionService, scripted: Scripted
) -> None:
    """The orchestrator's tasks may already run when the caller's task is
    cancelled inside ``start()``: the run stays owned and ends through finish."""
    service = scripted_service
    execution = await service.create_execution("t")
    blocked = asyncio.Event()
    original = scripted.__call__

    def slow_to_start(request: OrchestratorRequest) -> Orchestrator:
        orchestrator = original(request)
        started = orchestrator.start

        async def start() -> None:
            await started()
            blocked.set()
            await asyncio.Event().wait()  # e.g. enqueueing replayed messages

        orchestrator.start = start  # type: ignore[method-assign]
        return orchestrator

    service._builder._factory = slow_to_start  # type: ignore[attr-defined]
    starting = asyncio.ensure_future(service.start(execution.id))
    await blocked.wait()
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    run = scripted.runs[execution.id]
    await run.wait()
    row = await _check_one_end(service, execution.id)
    assert (row.status, row.error) == ("cancelled", "its start was cancelled")
    assert len(service.manager) == 0
