"""Stopping a run: cancel with and without grace, timeout, adapter errors, drain edge cases."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

from factflow_engine import ComponentOptions, PipelineOrchestrator, Registry, RouteDirectory
from factflow_engine.testing import (
    InMemoryExecutionStorage,
    InMemoryLineageSink,
    RecordingCallback,
)
from factflow_infra import InMemoryQueueBackend
from factflow_protocols import AdapterContext, RunOutcome

H = Any  # the Harness fixture (tests/conftest.py)


def held(harness: H, items: list[Any], concurrency: int = 3, **settings: Any) -> dict[str, Any]:
    """src -> work (hold, blocks on the gate) -> after."""
    return {
        "name": "t",
        "settings": settings,
        "routes": {
            "src": harness.inline(items, to="work"),
            "work": {"processors": [{"type": "hold"}], "to": "after", "concurrency": concurrency},
            "after": {},
        },
    }


class FinishProbe(RecordingCallback):
    """Records, at ``on_finished`` time, what was still running."""

    def __init__(self, harness: H) -> None:
        super().__init__()
        self.harness = harness
        self.live_tasks: list[str] | None = None
        self.processors_inside: int | None = None
        self.flushes_before: int | None = None
        self.lineage: Any = None

    async def on_finished(self, outcome: RunOutcome) -> None:
        me = asyncio.current_task()
        self.live_tasks = sorted(
            t.get_name()
            for t in asyncio.all_tasks()
            if t is not me and t.get_name().startswith("factflow:") and not t.done()
        )
        self.processors_inside = self.harness.gate.active
        self.flushes_before = self.lineage.flushes if self.lineage is not None else None
        await super().on_finished(outcome)


async def test_cancel_mid_run_records_in_flight_and_queued_messages_cancelled(harness: H) -> None:
    probe = FinishProbe(harness)
    run = await harness.start(held(harness, list(range(10))), callback=probe, cancel_grace=0)
    probe.lineage = run.lineage
    await harness.gate.wait_entered(3)
    run.orchestrator.cancel("user asked")
    outcome = await run.orchestrator.wait()
    assert outcome.status == "cancelled"
    assert outcome.error == "user asked"
    assert run.orchestrator.outcome is outcome and run.orchestrator.finished
    work = run.lineage.for_route("work")
    assert len(work) == 10 and {e.status for e in work} == {"cancelled"}
    in_flight = [e for e in work if e.started_at is not None]
    queued = [e for e in work if e.started_at is None]
    assert (len(in_flight), len(queued)) == (3, 7)
    assert all(e.error == "run cancelled: user asked" for e in work)
    assert harness.gate.left == 0  # the held processors were interrupted, not finished
    assert run.statuses("src") == {"processed": 10}
    assert run.lineage.for_route("after") == []
    assert outcome.progress.routes["work"].cancelled == 10
    assert outcome.progress.routes["work"].in_flight == 0
    assert probe.live_tasks == []
    assert probe.processors_inside == 0
    assert probe.flushes_before == 1
    assert len(probe.outcomes) == 1
    assert run.queues.open_count() == 0
    assert "work" not in outcome.progress.drained_routes


async def test_cancel_lets_in_flight_processors_finish_within_the_grace(harness: H) -> None:
    run = await harness.start(held(harness, list(range(10))), cancel_grace=30)
    await harness.gate.wait_entered(3)
    run.orchestrator.cancel()
    harness.gate.open()  # the three in-flight messages may now finish
    outcome = await run.orchestrator.wait()
    assert outcome.status == "cancelled"
    assert outcome.error is None
    assert run.statuses("work") == {"processed": 3, "cancelled": 7}
    # their children were enqueued but never started
    after = run.lineage.for_route("after")
    assert len(after) == 3 and all(e.status == "cancelled" and e.started_at is None for e in after)
    assert all(e.error == "run cancelled" for e in after)


async def test_cancel_is_idempotent_and_a_no_op_after_completion(harness: H) -> None:
    run = await harness.run({"name": "t", "routes": {"src": harness.inline([1, 2])}})
    assert run.outcome.status == "completed"
    run.orchestrator.cancel()
    run.orchestrator.cancel("again")
    assert run.orchestrator.outcome is run.outcome
    assert len(run.callback.outcomes) == 1


async def test_cancel_before_start_runs_nothing(harness: H) -> None:
    pipeline = harness.pipeline(held(harness, [1, 2]))
    callback = RecordingCallback()
    lineage = InMemoryLineageSink()
    orchestrator = PipelineOrchestrator(
        "e", pipeline, queue_names=RouteDirectory().resolve(pipeline),
        queues=InMemoryQueueBackend(), lineage=lineage, storage=InMemoryExecutionStorage(),
        callback=callback, registry=harness.registry,
    )  # fmt: skip
    orchestrator.cancel("early")
    await orchestrator.start()
    outcome = await orchestrator.wait()
    assert (outcome.status, outcome.error) == ("cancelled", "early")
    assert lineage.entries == []
    assert harness.gate.entered == 0
    assert len(callback.outcomes) == 1


async def test_timeout_fails_the_run_and_cancels_what_is_unfinished(harness: H) -> None:
    run = await harness.run(held(harness, [1, 2], timeout=0.05), cancel_grace=0)
    assert run.outcome.status == "failed"
    assert run.outcome.error == "timed out after 0.05 s"
    assert run.statuses("work") == {"cancelled": 2}
    assert all(e.error == "run failed: timed out after 0.05 s" for e in run.lineage.entries
               if e.status == "cancelled")  # fmt: skip


class Exploding:
    """Yields two payloads, then raises."""

    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        pass

    async def produce(self, ctx: AdapterContext) -> AsyncIterator[Any]:
        yield 1
        yield 2
        raise OSError("disk on fire")


async def test_an_adapter_that_raises_fails_the_run(harness: H, registry: Registry) -> None:
    registry.register_adapter("exploding", Exploding)
    config = {
        "name": "t",
        "routes": {"src": {"adapter": {"type": "exploding"}, "to": "next"}, "next": {}},
    }
    run = await harness.run(config)
    assert run.outcome.status == "failed"
    assert run.outcome.error == "route 'src': adapter 'exploding' failed: OSError: disk on fire"
    assert len(run.lineage.for_route("src")) == 2  # processed or cancelled, but recorded
    assert run.outcome.progress.totals().in_flight == 0


async def test_a_files_adapter_with_a_missing_root_fails_the_run(harness: H, tmp_path: Any) -> None:
    config = {
        "name": "t",
        "routes": {"src": {"adapter": {"type": "files", "with": {"root": str(tmp_path / "nope")}}}},
    }
    run = await harness.run(config)
    assert run.outcome.status == "failed"
    assert run.outcome.error.startswith(
        "route 'src': adapter 'files' failed: FileNotFoundError: files adapter: root directory"
    )


async def test_an_empty_source_drains_every_route(harness: H) -> None:
    config = {
        "name": "t",
        "routes": {
            "src": harness.inline([], to=["left", "right"]),
            "left": {"to": "join"},
            "right": {"to": "join"},
            "join": {},
        },
    }
    run = await harness.run(config)
    assert run.outcome.status == "completed"
    assert run.lineage.entries == []
    drained = [route for route, _ in run.callback.of("on_route_drained")]
    assert drained[0] == "src" and drained[-1] == "join" and set(drained) == set(config["routes"])
    assert run.callback.of("on_route_started") == ["src"]  # the adapter started; nothing else
    assert run.outcome.progress.drained_routes == frozenset(config["routes"])


async def test_a_downstream_route_that_receives_nothing_still_drains(harness: H) -> None:
    config = {
        "name": "t",
        "routes": {
            "src": harness.inline([2, 4, 6], to="odd"),
            "odd": {"processors": [{"type": "odd"}], "to": "sink"},
            "sink": {},
        },
    }
    run = await harness.run(config)
    assert run.outcome.status == "completed"
    events = [(name, arg if isinstance(arg, str) else arg[0]) for name, arg in run.callback.calls
              if name in ("on_route_started", "on_route_drained")]  # fmt: skip
    assert events == [
        ("on_route_started", "src"),
        ("on_route_started", "odd"),
        ("on_route_drained", "src"),
        ("on_route_drained", "odd"),
        ("on_route_drained", "sink"),
    ]
    sink_progress = dict(run.callback.of("on_route_drained"))["sink"]
    assert sink_progress.received == 0


async def test_route_drained_events_come_in_topological_order(harness: H) -> None:
    config = {
        "name": "t",
        "routes": {
            "c": {"processors": [{"type": "double"}]},
            "b": {"to": "c"},
            "a": harness.inline(list(range(50)), to="b", concurrency=2),
        },
    }
    run = await harness.run(config)
    drained = run.callback.of("on_route_drained")
    assert [route for route, _ in drained] == ["a", "b", "c"]
    assert [p.received for _, p in drained] == [50, 50, 50]
    finished_at = [name for name, _ in run.callback.calls].index("on_finished")
    assert finished_at == len(run.callback.calls) - 1


async def test_on_finished_runs_once_after_every_task_stopped(harness: H) -> None:
    probe = FinishProbe(harness)
    run = await harness.start(held(harness, list(range(6)), concurrency=2), callback=probe,
                              cancel_grace=0.01)  # fmt: skip
    probe.lineage = run.lineage
    await harness.gate.wait_entered(2)
    run.orchestrator.cancel()
    await run.orchestrator.wait()
    assert probe.live_tasks == []
    assert probe.processors_inside == 0
    assert len(probe.outcomes) == 1
    assert [name for name, _ in probe.calls][-2:] == ["on_progress", "on_finished"]


async def test_callback_errors_do_not_kill_the_run(harness: H) -> None:
    callback = RecordingCallback(
        raise_in={"on_route_started", "on_route_drained", "on_progress", "on_message_failed"}
    )
    config = {
        "name": "t",
        "settings": {"max_retries": 0},
        "routes": {"src": harness.inline([1, 2], to="f"), "f": {"processors": [{"type": "fail"}]}},
    }
    run = await harness.run(config, callback=callback)
    assert run.outcome.status == "completed"
    assert run.statuses("f") == {"failed": 2}
    assert len(callback.of("on_message_failed")) == 2
    assert len(callback.outcomes) == 1


async def test_an_exception_in_on_finished_still_resolves_wait(harness: H) -> None:
    callback = RecordingCallback(raise_in={"on_finished"})
    run = await harness.run(
        {"name": "t", "routes": {"src": harness.inline([1])}}, callback=callback
    )
    assert run.outcome.status == "completed"
    assert run.orchestrator.finished


async def test_progress_is_coalesced(harness: H) -> None:
    config = {"name": "t", "routes": {"src": harness.inline(list(range(300)), to="b"), "b": {}}}
    slow = await harness.run(config, progress_interval=3600)
    # the first change is reported at once, then nothing until the final snapshot
    assert len(slow.callback.of("on_progress")) == 2
    final = slow.callback.of("on_progress")[-1]
    assert final == slow.outcome.progress
    fast = await harness.run(config, progress_interval=0)
    snapshots = fast.callback.of("on_progress")[:-1]
    changes = 300 * 2 * 2  # each message: received + settled, at two routes
    assert 1 <= len(snapshots) < changes
    # a snapshot is only sent when something changed since the previous one
    assert all(a != b for a, b in itertools.pairwise(snapshots))


async def test_live_progress_while_running(harness: H) -> None:
    run = await harness.start(held(harness, list(range(5)), concurrency=2))
    await harness.gate.wait_entered(2)
    live = run.orchestrator.progress()
    assert live.routes["src"].processed == 5
    assert live.routes["work"].received == 5
    assert live.routes["work"].in_flight == 5
    assert live.drained_routes == frozenset({"src"})
    harness.gate.open()
    outcome = await run.orchestrator.wait()
    assert outcome.status == "completed"
    assert outcome.progress.routes["after"].processed == 5


class BrokenSink(InMemoryLineageSink):
    """Fails ``record`` (after ``ok`` entries) or ``flush`` on demand."""

    def __init__(self, ok: int | None = None, flush_fails: bool = False) -> None:
        super().__init__()
        self.ok = ok
        self.flush_fails = flush_fails

    async def record(self, entry: Any) -> None:
        if self.ok is not None and len(self.entries) >= self.ok:
            raise RuntimeError("lineage database is down")
        await super().record(entry)

    async def flush(self) -> None:
        await super().flush()
        if self.flush_fails:
            raise RuntimeError("flush refused")


async def run_with_sink(harness: H, sink: InMemoryLineageSink, items: list[Any]) -> RunOutcome:
    pipeline = harness.pipeline({"name": "t", "routes": {"src": harness.inline(items, to="b"),
                                                         "b": {}}})  # fmt: skip
    callback = RecordingCallback()
    orchestrator = PipelineOrchestrator(
        "e", pipeline, queue_names=RouteDirectory().resolve(pipeline),
        queues=InMemoryQueueBackend(), lineage=sink, storage=InMemoryExecutionStorage(),
        callback=callback, registry=harness.registry, cancel_grace=0,
    )  # fmt: skip
    await orchestrator.start()
    outcome = await orchestrator.wait()
    assert callback.outcomes == [outcome]
    return outcome


async def test_a_failing_lineage_sink_fails_the_run_instead_of_hanging(harness: H) -> None:
    outcome = await run_with_sink(harness, BrokenSink(ok=3), list(range(10)))
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert "could not settle message" in outcome.error
    assert outcome.error.endswith("RuntimeError: lineage database is down")


async def test_a_failing_flush_turns_completion_into_failure(harness: H) -> None:
    outcome = await run_with_sink(harness, BrokenSink(flush_fails=True), [1, 2])
    assert (outcome.status, outcome.error) == (
        "failed",
        "lineage flush failed: RuntimeError: flush refused",
    )


async def test_a_queue_refusing_replay_messages_fails_the_run(harness: H) -> None:
    from factflow_protocols import Message

    class RefusingQueue:
        needs_ack = False

        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.name = inner.name
            self.maxsize = inner.maxsize

        async def put(self, message: Message) -> None:
            raise ConnectionError("broker gone")

        async def get(self) -> Message:
            return await self.inner.get()  # type: ignore[no-any-return]

        async def drain(self) -> list[Message]:
            return await self.inner.drain()  # type: ignore[no-any-return]

        def qsize(self) -> int:
            return self.inner.qsize()  # type: ignore[no-any-return]

    class RefusingQueues(InMemoryQueueBackend):
        def open(self, execution_id: str, name: str, *, maxsize: int = 0) -> Any:
            return RefusingQueue(super().open(execution_id, name, maxsize=maxsize))

    pipeline = harness.pipeline({"name": "t", "routes": {"src": harness.inline([1])}})
    callback = RecordingCallback()
    lineage = InMemoryLineageSink()
    orchestrator = PipelineOrchestrator(
        "e", pipeline, queue_names=RouteDirectory().resolve(pipeline), queues=RefusingQueues(),
        lineage=lineage, storage=InMemoryExecutionStorage(), callback=callback,
        registry=harness.registry,
        initial_messages=[Message("m", "old", "src", 1, "m"), Message("n", "old", "src", 2, "n")],
    )  # fmt: skip
    await orchestrator.start()
    outcome = await orchestrator.wait()
    assert (outcome.status, outcome.error) == (
        "failed",
        "route 'src': could not enqueue message m: ConnectionError: broker gone",
    )
    assert callback.outcomes == [outcome]
    # Nothing is lost silently: both messages are recorded as not finished.
    assert [(e.message_id, e.status) for e in lineage.entries] == [
        ("m", "cancelled"),
        ("n", "cancelled"),
    ]
    assert outcome.progress.routes["src"].cancelled == 2
