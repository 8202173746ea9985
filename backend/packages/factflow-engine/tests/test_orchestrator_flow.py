"""PipelineOrchestrator message flow: fan-out, filter, retries, policies, replay, lineage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from factflow_engine import ComponentOptions, PipelineOrchestrator, Registry
from factflow_engine.testing import InMemoryExecutionStorage, InMemoryLineageSink, RecordingCallback
from factflow_foundation import InvalidInputError
from factflow_protocols import Message, MessageFailure, ProcessorContext

H = Any  # the Harness fixture (tests/conftest.py)


def chain(
    harness: H, items: list[Any], *routes: tuple[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """src -> routes[0] -> routes[1] -> ... (each with its processors)."""
    names = [name for name, _ in routes]
    config: dict[str, Any] = {"name": "t", "routes": {"src": harness.inline(items, to=names[:1])}}
    for index, (name, processors) in enumerate(routes):
        route: dict[str, Any] = {"processors": processors}
        if index + 1 < len(names):
            route["to"] = names[index + 1]
        config["routes"][name] = route
    return config


async def test_fan_out_and_filter_across_routes(harness: H) -> None:
    config = chain(
        harness, [1, 2, 3], ("wide", [harness.proc("double")]), ("odd", [harness.proc("odd")])
    )
    run = await harness.run(config)
    assert run.outcome.status == "completed"
    assert run.outcome.error is None
    src, wide, odd = (run.lineage.for_route(r) for r in ("src", "wide", "odd"))
    assert [(e.status, e.outputs, e.attempt) for e in src] == [("processed", 1, 1)] * 3
    assert sorted(e.payload for e in wide) == [1, 2, 3]
    assert all(e.status == "processed" and e.outputs == 2 for e in wide)
    assert sorted(e.payload for e in odd) == [10, 11, 20, 21, 30, 31]
    assert sorted(e.payload for e in odd if e.status == "filtered") == [10, 20, 30]
    assert all(e.outputs == 0 for e in odd if e.status == "filtered")
    # parents and origins: every child points at its parent, every origin is a root
    by_id = {(e.route, e.message_id): e for e in run.lineage.entries}
    roots = {e.message_id: e for e in src}
    for entry in src:
        assert entry.origin_message_id == entry.message_id
        assert entry.parent_message_id is None
    for entry in wide:
        parent = by_id[("src", entry.parent_message_id)]
        assert parent.payload == entry.payload
        assert entry.origin_message_id == parent.message_id
    for entry in odd:
        parent = by_id[("wide", entry.parent_message_id)]
        assert entry.payload // 10 == parent.payload
        assert roots[entry.origin_message_id].payload == parent.payload
    progress = run.outcome.progress.routes
    assert progress["src"].as_dict() == {
        "received": 3, "processed": 3, "failed": 0, "filtered": 0, "cancelled": 0,
        "in_flight": 0, "queued": 0, "in_progress": 0, "emitted": 3, "regenerated": 0,
    }  # fmt: skip
    assert (progress["wide"].received, progress["wide"].emitted) == (3, 6)
    assert (progress["odd"].processed, progress["odd"].filtered) == (3, 3)


async def test_a_list_fans_out_inside_the_chain(harness: H) -> None:
    config = chain(harness, [1, 2], ("work", [harness.proc("double"), harness.proc("odd")]))
    config["routes"]["work"]["to"] = "sink"
    config["routes"]["sink"] = {}
    run = await harness.run(config)
    work = run.lineage.for_route("work")
    assert [(e.status, e.outputs) for e in work] == [("processed", 1), ("processed", 1)]
    assert sorted(e.payload for e in run.lineage.for_route("sink")) == [11, 21]


async def test_a_chain_with_no_outputs_is_filtered(harness: H) -> None:
    config = chain(harness, [2, 4], ("even", [harness.proc("odd")]))
    config["routes"]["even"]["to"] = "never"
    config["routes"]["never"] = {}
    run = await harness.run(config)
    assert run.statuses("even") == {"filtered": 2}
    assert run.lineage.for_route("never") == []
    assert run.outcome.progress.routes["never"].received == 0


async def test_lineage_has_one_entry_per_message_per_route(harness: H) -> None:
    items = list(range(200))
    config = chain(
        harness, items, ("a", [harness.proc("double")]), ("b", [harness.proc("odd")]), ("c", [])
    )
    config["routes"]["a"]["concurrency"] = 8
    run = await harness.run(config)
    totals = run.outcome.progress.totals()
    assert len(run.lineage.entries) == totals.received == totals.settled == 200 + 200 + 400 + 200
    keys = [(e.route, e.message_id) for e in run.lineage.entries]
    assert len(keys) == len(set(keys))
    for entry in run.lineage.entries:
        assert entry.started_at is not None
        assert entry.started_at <= entry.finished_at
    assert run.lineage.flushes == 1


async def test_retry_then_success(harness: H) -> None:
    config = chain(harness, ["x"], ("flaky", [harness.proc("fail", attempts=2)]))
    config["settings"] = {"max_retries": 2, "retry_backoff": 0.001}
    run = await harness.run(config)
    (entry,) = run.lineage.for_route("flaky")
    assert (entry.status, entry.attempt, entry.error, entry.outputs) == ("processed", 3, None, 1)
    assert run.callback.of("on_message_failed") == []
    assert run.outcome.status == "completed"


async def test_retry_then_failure_continues_by_default(harness: H) -> None:
    config = chain(
        harness, ["bad", "good"], ("flaky", [harness.proc("fail", when={"k": "bad"}, error="boom")])
    )
    config["routes"]["src"]["adapter"]["with"]["items"] = [{"k": "bad"}, {"k": "good"}]
    config["routes"]["flaky"]["max_retries"] = 1
    config["settings"] = {"max_retries": 5, "retry_backoff": 0.001}
    run = await harness.run(config)
    assert run.outcome.status == "completed"
    entries = {e.payload["k"]: e for e in run.lineage.for_route("flaky")}
    assert (entries["bad"].status, entries["bad"].attempt) == ("failed", 2)
    assert entries["bad"].error == "DeliberateFailureError: boom"
    assert entries["good"].status == "processed"
    (failure,) = run.callback.of("on_message_failed")
    assert failure == MessageFailure(
        "exec-1", "flaky", entries["bad"].message_id, entries["bad"].origin_message_id, 2,
        "DeliberateFailureError: boom",
    )  # fmt: skip
    assert run.outcome.progress.routes["flaky"].failed == 1


async def test_retry_then_failure_stops_the_run_under_fail_policy(harness: H) -> None:
    config = chain(
        harness, [1, 2, 3], ("flaky", [harness.proc("fail", when={"n": 1}, error="boom")])
    )
    config["routes"]["src"]["adapter"]["with"]["items"] = [{"n": 1}, {"n": 2}, {"n": 3}]
    config["routes"]["flaky"]["concurrency"] = 1
    config["settings"] = {"on_message_error": "fail", "max_retries": 1, "retry_backoff": 0.001}
    run = await harness.run(config)
    assert run.outcome.status == "failed"
    failed = run.lineage.by_status("failed")
    assert len(failed) == 1
    assert run.outcome.error == (
        f"message {failed[0].message_id} failed at route 'flaky' after 2 attempts:"
        " DeliberateFailureError: boom"
    )
    # the two messages still queued behind it were never started
    cancelled = run.lineage.by_status("cancelled")
    assert sorted(e.payload["n"] for e in cancelled) == [2, 3]
    assert all(e.started_at is None for e in cancelled)
    assert len(run.callback.outcomes) == 1


def test_backoff_doubles_and_is_capped(harness: H) -> None:
    from factflow_engine.runtime.worker import RouteWorker

    class Env:
        retry_backoff = 0.1
        retry_backoff_max = 0.5
        execution_id = "e"
        params: dict[str, Any] = {}
        storage = None

    class Route:
        name = "r"
        logger = None

    worker = RouteWorker(Env(), Route())  # type: ignore[arg-type]
    assert [worker._backoff(n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]


async def test_processors_see_a_light_context(harness: H, registry: Registry) -> None:
    seen: list[tuple[str, str, Any, str | None, int]] = []

    class Peek:
        class Options(ComponentOptions):
            pass

        def __init__(self, options: Options) -> None:
            pass

        async def process(self, message: Message, ctx: ProcessorContext) -> Any:
            current = ctx.message  # type: ignore[attr-defined]
            seen.append(
                (ctx.execution_id, ctx.route, dict(ctx.params), current.id, message.attempt)
            )
            return message.payload

    registry.register_processor("peek", Peek)
    config = {
        "name": "t",
        "params": {"who": {"type": "string", "default": "me"}},
        "routes": {
            "src": harness.inline([1], to="look"),
            "look": {"processors": [{"type": "peek"}]},
        },
    }
    run = await harness.run(harness.pipeline(config), execution_id="exec-9")
    (entry,) = run.lineage.for_route("look")
    assert seen == [("exec-9", "look", {"who": "me"}, entry.message_id, 1)]


async def test_storage_write_end_to_end(harness: H) -> None:
    config = chain(
        harness,
        [{"fact": "a"}, {"fact": "b"}],
        ("store", [harness.proc("storage_write", key="facts/{{fact}}.json")]),
    )
    run = await harness.run(config)
    assert sorted(run.storage.objects) == ["facts/a.json", "facts/b.json"]
    assert {o.route for o in run.storage.written} == {"store"}
    store_ids = {e.message_id for e in run.lineage.for_route("store")}
    assert {o.message_id for o in run.storage.written} == store_ids


async def test_replay_runs_initial_messages_without_adapters(harness: H) -> None:
    config = chain(
        harness, [1, 2, 3], ("wide", [harness.proc("double")]), ("odd", [harness.proc("odd")])
    )
    first = await harness.run(config)
    to_replay = [
        Message(
            e.message_id, "exec-1", e.route, e.payload, e.origin_message_id, e.parent_message_id, 4
        )
        for e in first.lineage.for_route("wide")
        if e.payload in (1, 3)
    ]
    replay = await harness.run(first.pipeline, execution_id="exec-2", initial_messages=to_replay)
    assert replay.outcome.status == "completed"
    assert replay.lineage.for_route("src") == []
    wide = replay.lineage.for_route("wide")
    assert {(e.message_id, e.origin_message_id, e.parent_message_id) for e in wide} == {
        (m.id, m.origin_id, m.parent_id) for m in to_replay
    }
    assert all(e.execution_id == "exec-2" and e.attempt == 1 for e in wide)
    odd = replay.lineage.for_route("odd")
    assert sorted(e.payload for e in odd) == [10, 11, 30, 31]
    assert {e.origin_message_id for e in odd} == {m.origin_id for m in to_replay}
    drained = [route for route, _ in replay.callback.of("on_route_drained")]
    assert drained == ["src", "wide", "odd"]


async def test_replay_of_nothing_completes_at_once(harness: H) -> None:
    config = chain(harness, [1], ("a", []))
    run = await harness.run(config, initial_messages=[])
    assert run.outcome.status == "completed"
    assert run.lineage.entries == []
    assert [r for r, _ in run.callback.of("on_route_drained")] == ["src", "a"]


async def test_replay_rejects_messages_for_unknown_routes(harness: H) -> None:
    pipeline = harness.pipeline(chain(harness, [1], ("a", [])))
    with pytest.raises(InvalidInputError, match="addressed to route 'nope'"):
        PipelineOrchestrator(
            "e", pipeline, queue_names={"src": "q1", "a": "q2"}, queues=None,  # type: ignore[arg-type]
            lineage=InMemoryLineageSink(), storage=InMemoryExecutionStorage(),
            callback=RecordingCallback(), registry=harness.registry,
            initial_messages=[Message("m", "e", "nope", 1, "m")],
        )  # fmt: skip


@pytest.mark.parametrize(
    ("queue_names", "problem"),
    [
        ({"src": "q1"}, "queue_names has no queue for route(s) 'a'"),
        ({"src": "q", "a": "q"}, "routes 'src' and 'a' share queue 'q'"),
    ],
)
async def test_queue_names_must_cover_every_route_once(
    harness: H, queue_names: dict[str, str], problem: str
) -> None:
    pipeline = harness.pipeline(chain(harness, [1], ("a", [])))
    with pytest.raises(InvalidInputError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        PipelineOrchestrator(
            "e", pipeline, queue_names=queue_names, queues=None,  # type: ignore[arg-type]
            lineage=InMemoryLineageSink(), storage=InMemoryExecutionStorage(),
            callback=RecordingCallback(), registry=harness.registry,
        )  # fmt: skip


async def test_the_orchestrator_uses_the_given_queue_names(harness: H) -> None:
    from factflow_infra import InMemoryQueueBackend

    pipeline = harness.pipeline(chain(harness, [1, 2], ("a", [])))
    queues = InMemoryQueueBackend()
    opened: list[str] = []
    original = queues.open

    def spy(execution_id: str, name: str, *, maxsize: int = 0) -> Any:
        opened.append(name)
        return original(execution_id, name, maxsize=maxsize)

    queues.open = spy  # type: ignore[method-assign]
    callback = RecordingCallback()
    orchestrator = PipelineOrchestrator(
        "e", pipeline, queue_names={"src": "snap.src", "a": "snap.a"}, queues=queues,
        lineage=InMemoryLineageSink(), storage=InMemoryExecutionStorage(), callback=callback,
        registry=harness.registry,
    )  # fmt: skip
    await orchestrator.start()
    outcome = await orchestrator.wait()
    assert outcome.status == "completed"
    assert sorted(opened) == ["snap.a", "snap.src"]
    assert queues.open_count() == 0  # released


async def test_start_twice_and_wait_before_start_are_errors(harness: H) -> None:
    run = await harness.start(chain(harness, [1], ("a", [])))
    with pytest.raises(RuntimeError, match="already started"):
        await run.orchestrator.start()
    await run.orchestrator.wait()
    pipeline = harness.pipeline(chain(harness, [1], ("a", [])))
    fresh = PipelineOrchestrator(
        "x", pipeline, queue_names={"src": "1", "a": "2"}, queues=run.queues,
        lineage=InMemoryLineageSink(), storage=InMemoryExecutionStorage(),
        callback=RecordingCallback(), registry=harness.registry,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="was not started"):
        await asyncio.wait_for(fresh.wait(), 1)
    assert fresh.progress().routes["a"].received == 0
    assert fresh.outcome is None and not fresh.finished
