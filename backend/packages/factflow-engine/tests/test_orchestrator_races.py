"""Cancel racing completion: seeded repetitions must always end in exactly one outcome."""

from __future__ import annotations

import random
from typing import Any

from factflow_engine import ComponentOptions, PipelineOrchestrator, Registry
from factflow_engine.testing import RecordingCallback
from factflow_protocols import Message, ProcessorContext, RouteProgress

H = Any  # the Harness fixture (tests/conftest.py)


class Holder:
    orchestrator: PipelineOrchestrator | None = None
    calls = 0
    cancel_at_call = 0

    def cancel(self) -> None:
        if self.orchestrator is not None:
            self.orchestrator.cancel("race")


def make_trigger(holder: Holder) -> type:
    class Trigger:
        """Passes payloads on; cancels the run during its ``cancel_at_call``-th call."""

        class Options(ComponentOptions):
            pass

        def __init__(self, options: Options) -> None:
            pass

        async def process(self, message: Message, ctx: ProcessorContext) -> Any:
            holder.calls += 1
            if holder.calls == holder.cancel_at_call:
                holder.cancel()
            return [message.payload, message.payload] if message.payload % 2 else message.payload

    return Trigger


class CancellingCallback(RecordingCallback):
    """Cancels the run from inside a callback event (the other side of the race)."""

    def __init__(self, holder: Holder, method: str, route: str | None) -> None:
        super().__init__()
        self.holder = holder
        self.method = method
        self.route = route

    async def on_route_started(self, route: str) -> None:
        await super().on_route_started(route)
        if self.method == "on_route_started" and route == self.route:
            self.holder.cancel()

    async def on_route_drained(self, route: str, progress: RouteProgress) -> None:
        await super().on_route_drained(route, progress)
        if self.method == "on_route_drained" and route == self.route:
            self.holder.cancel()


MODES = ("in_processor", "on_route_drained", "on_route_started", "after_start", "never")


async def test_cancel_racing_drain_always_ends_in_exactly_one_state(
    harness: H, registry: Registry
) -> None:
    rng = random.Random(20240501)
    seen_statuses: set[str] = set()
    for iteration in range(200):
        holder = Holder()
        registry.register_processor("trigger", make_trigger(holder))
        items = list(range(rng.randint(0, 5)))
        routes = ["src", "mid", "sink"]
        config = {
            "name": "race",
            "routes": {
                "src": harness.inline(items, to="mid", concurrency=rng.randint(1, 3)),
                "mid": {
                    "processors": [{"type": "trigger"}],
                    "to": "sink",
                    "concurrency": rng.randint(1, 3),
                },
                "sink": {"concurrency": rng.randint(1, 2)},
            },
        }
        mode = rng.choice(MODES)
        holder.cancel_at_call = rng.randint(1, len(items) + 1) if mode == "in_processor" else 0
        callback = CancellingCallback(holder, mode, rng.choice(routes))
        run = await harness.start(
            config, execution_id=f"race-{iteration}", callback=callback, cancel_grace=0
        )
        holder.orchestrator = run.orchestrator
        if mode == "after_start":
            run.orchestrator.cancel("race")
        outcome = await run.orchestrator.wait()
        run.orchestrator.cancel("too late")  # always a no-op by now
        context = f"iteration {iteration}: mode={mode} items={len(items)} -> {outcome.status}"

        assert callback.outcomes == [outcome], context
        assert run.orchestrator.outcome is outcome, context
        assert outcome.status in ("completed", "cancelled"), context
        seen_statuses.add(outcome.status)
        names = [name for name, _ in callback.calls]
        assert names.count("on_finished") == 1 and names[-1] == "on_finished", context
        keys = [(e.route, e.message_id) for e in run.lineage.entries]
        assert len(keys) == len(set(keys)), context
        totals = outcome.progress.totals()
        assert totals.received == totals.settled == len(run.lineage.entries), context
        assert run.queues.open_count() == 0, context
        if outcome.status == "completed":
            assert {e.status for e in run.lineage.entries} <= {"processed"}, context
            odd = sum(1 for i in items if i % 2)
            assert len(run.lineage.for_route("sink")) == len(items) + odd, context
            assert outcome.progress.drained_routes == frozenset(routes), context
        else:
            assert outcome.error == "race", context
        if mode == "never":
            assert outcome.status == "completed", context
    assert seen_statuses == {"completed", "cancelled"}
