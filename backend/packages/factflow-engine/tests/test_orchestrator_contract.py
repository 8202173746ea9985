"""The ``Orchestrator`` contract, run against ``PipelineOrchestrator`` and its test
double ``ScriptedOrchestrator`` alike, so the double stays honest.

Each driver gives the tests the same handles: wait until work is in flight,
let the run end by itself, and a grace period held open by in-flight work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from factflow_engine import ComponentOptions, PipelineOrchestrator, Registry, RouteDirectory
from factflow_engine.testing import (
    InMemoryExecutionStorage,
    InMemoryLineageSink,
    RecordingCallback,
    ScriptedOrchestrator,
)
from factflow_infra import InMemoryQueueBackend
from factflow_protocols import Message, Orchestrator, ProcessorContext

from .conftest import Harness


class Driver:
    """One orchestrator under test and the levers the contract tests pull."""

    def __init__(self, orchestrator: Orchestrator, callback: RecordingCallback) -> None:
        self.orchestrator = orchestrator
        self.callback = callback

    async def working(self) -> None:
        """Until the run has work in flight (it cannot have ended by itself yet)."""
        raise NotImplementedError

    def end_by_itself(self) -> None:
        """Let the run reach its own outcome (drain)."""
        raise NotImplementedError

    def release_in_flight(self) -> None:
        """Let work in flight finish (ends a cancelled run's grace period)."""
        raise NotImplementedError


class RealDriver(Driver):
    def __init__(self, harness: Harness, *, broken: bool = False) -> None:
        callback = RecordingCallback()
        route: dict[str, Any] = harness.inline([1], processors=[harness.proc("hold")])
        if broken:
            route = harness.inline([1], processors=[harness.proc("broken")])
        pipeline = harness.pipeline({"name": "contract", "routes": {"src": route}})
        orchestrator = PipelineOrchestrator(
            "exec-contract",
            pipeline,
            queue_names=RouteDirectory().resolve(pipeline),
            queues=InMemoryQueueBackend(),
            lineage=InMemoryLineageSink(),
            storage=InMemoryExecutionStorage("exec-contract"),
            callback=callback,
            registry=harness.registry,
            cancel_grace=60.0,  # in-flight work, not the clock, ends the grace here
            progress_interval=0.01,
        )
        super().__init__(orchestrator, callback)
        self._gate = harness.gate

    async def working(self) -> None:
        await self._gate.wait_entered(1)

    def end_by_itself(self) -> None:
        self._gate.open()

    def release_in_flight(self) -> None:
        self._gate.open()


class ScriptedDriver(Driver):
    def __init__(self, *, broken: bool = False) -> None:
        callback = RecordingCallback()
        error = RuntimeError("cannot build processor 'broken'") if broken else None
        self.scripted = ScriptedOrchestrator("exec-contract", callback, start_error=error)
        self.scripted.hold_grace()  # like a message still inside its processor
        super().__init__(self.scripted, callback)

    async def working(self) -> None:
        await self.scripted.started.wait()

    def end_by_itself(self) -> None:
        self.scripted.release_grace()
        self.scripted.complete()

    def release_in_flight(self) -> None:
        self.scripted.release_grace()


class Broken:
    """A processor that cannot be built."""

    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        raise RuntimeError("cannot build processor 'broken'")

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:  # pragma: no cover
        return message.payload


@pytest.fixture(params=["pipeline", "scripted"])
def make(request: pytest.FixtureRequest, registry: Registry) -> Callable[..., Driver]:
    registry.register_processor("broken", Broken)
    harness = Harness(registry)

    def build(*, broken: bool = False) -> Driver:
        if request.param == "pipeline":
            return RealDriver(harness, broken=broken)
        return ScriptedDriver(broken=broken)

    return build


async def _settle(steps: int = 20) -> None:
    for _ in range(steps):  # let every ready task run; no clock involved
        await asyncio.sleep(0)


async def test_start_returns_at_once_and_a_run_that_ends_by_itself_reports_once(
    make: Callable[..., Driver],
) -> None:
    driver = make()
    with pytest.raises(RuntimeError, match="not started"):
        await driver.orchestrator.wait()
    await driver.orchestrator.start()
    await driver.working()
    assert driver.callback.outcomes == []
    with pytest.raises(RuntimeError, match="already started"):
        await driver.orchestrator.start()
    driver.end_by_itself()
    outcome = await driver.orchestrator.wait()
    assert outcome.status == "completed"
    assert driver.callback.outcomes == [outcome]
    assert driver.callback.calls[-1] == ("on_finished", outcome)  # nothing after it
    driver.orchestrator.cancel("too late")  # a no-op once an outcome was decided
    await _settle()
    assert driver.callback.outcomes == [outcome]
    assert await driver.orchestrator.wait() == outcome


async def test_cancel_ends_the_run_cancelled_after_its_in_flight_work_and_the_first_reason_wins(
    make: Callable[..., Driver],
) -> None:
    driver = make()
    await driver.orchestrator.start()
    await driver.working()
    driver.orchestrator.cancel("first")
    driver.orchestrator.cancel("second")
    driver.end_by_itself()  # work finishing inside the grace does not change the outcome
    outcome = await driver.orchestrator.wait()
    assert (outcome.status, outcome.error) == ("cancelled", "first")
    assert driver.callback.outcomes == [outcome]


async def test_on_finished_waits_for_work_still_in_its_grace_period(
    make: Callable[..., Driver],
) -> None:
    driver = make()
    await driver.orchestrator.start()
    await driver.working()
    driver.orchestrator.cancel("stop")
    await _settle()
    assert driver.callback.outcomes == []  # still inside its grace
    waiting = asyncio.ensure_future(driver.orchestrator.wait())
    await _settle()
    assert not waiting.done()
    driver.release_in_flight()
    outcome = await waiting
    assert outcome.status == "cancelled" and driver.callback.outcomes == [outcome]


async def test_a_run_that_cannot_start_raises_and_never_calls_back(
    make: Callable[..., Driver],
) -> None:
    driver = make(broken=True)
    with pytest.raises(Exception, match="broken"):
        await driver.orchestrator.start()
    await _settle()
    assert driver.callback.calls == []


async def test_progress_is_a_snapshot_of_every_route_at_any_time(
    make: Callable[..., Driver],
) -> None:
    driver = make()
    assert set(driver.orchestrator.progress().routes) == {"src"}
    await driver.orchestrator.start()
    await driver.working()
    driver.end_by_itself()
    await driver.orchestrator.wait()
    assert set(driver.orchestrator.progress().routes) == {"src"}
