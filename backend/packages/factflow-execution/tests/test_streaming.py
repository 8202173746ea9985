"""Event streams: backlog then live, resume from any seq, no gap, no duplicate."""

from __future__ import annotations

import asyncio
import random

from factflow_execution import ExecutionEventStreamer, ExecutionService, StorageEventStreamer
from factflow_execution._events import EventKind, ExecutionEvent, read_events

from .conftest import Gates, inline_config


def _gated_fanout(items: int = 3) -> dict:
    return inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": [{"n": 2}] * items}},
                "processors": [{"type": "fan_out"}],
                "to": ["hold"],
            },
            "hold": {"processors": [{"type": "gate"}], "to": ["sink"]},
            "sink": {},
        }
    )


async def _all_events(service: ExecutionService, execution_id: str) -> list[ExecutionEvent]:
    async with service.db.connect() as conn:
        return await read_events(conn, execution_id, limit=10_000)


async def _collect(streamer: ExecutionEventStreamer) -> list[ExecutionEvent]:
    return [event async for event in streamer]


async def test_streamer_from_the_start_yields_every_event_once_and_ends(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(_gated_fanout())
    execution = await service.run("t")
    collector = asyncio.create_task(_collect(service.events(execution.id)))
    await gates.wait_entered("default", 1)
    gates.open("default")
    streamed = await collector
    stored = await _all_events(service, execution.id)
    assert [e.seq for e in streamed] == [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert streamed[-1].terminal and streamed[-1].data["status"] == "completed"
    assert service.bus.subscriber_count() == 0


async def test_resume_from_a_middle_seq_yields_exactly_the_missing_then_live_events(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(_gated_fanout())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    early = service.events(execution.id)
    backlog = [await early.__anext__() for _ in range(4)]  # wait reactively for 4 events
    await early.aclose()
    assert service.bus.subscriber_count() == 0
    middle = backlog[1].seq
    streamer = service.events(execution.id, after=middle)
    first = await streamer.__anext__()  # from the backlog
    assert first.seq == middle + 1
    gates.open("default")  # now live events flow
    rest = [e async for e in streamer]
    got = [first.seq] + [e.seq for e in rest]
    stored = await _all_events(service, execution.id)
    assert got == [e.seq for e in stored if e.seq > middle]
    assert rest[-1].terminal


async def test_resume_after_the_terminal_event_ends_immediately(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    execution = await service.run("t")
    await service.wait(execution.id, timeout=30)
    last = (await service.get(execution.id)).last_event_seq
    assert await _collect(service.events(execution.id, after=last)) == []
    tail = await _collect(service.events(execution.id, after=last - 1))
    assert [e.seq for e in tail] == [last] and tail[0].terminal


async def test_events_arriving_during_the_backlog_to_live_switch_are_neither_lost_nor_doubled(
    service: ExecutionService,
) -> None:
    """Seeded interleavings of appends with a streamer's start, on a live run."""
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [1]}},
                    "processors": [{"type": "gate"}],
                }
            }
        )
    )
    # a cancelled gate run then stops at once instead of after a grace period
    service.settings = service.settings.model_copy(update={"cancel_grace": 0.0})
    rng = random.Random(7)
    for round_ in range(25):
        execution = await service.run("t")
        for i in range(rng.randrange(0, 5)):
            await service.event_log.append(execution.id, "test.marker", {"i": i})
        start = rng.randrange(0, 3)
        streamer = service.events(execution.id, after=start)
        reader = asyncio.create_task(_collect(streamer))

        async def writer(execution_id: str = execution.id) -> None:
            for i in range(rng.randrange(5, 30)):
                await service.event_log.append(execution_id, "test.marker", {"i": i})
                if rng.random() < 0.5:
                    await asyncio.sleep(0)

        await writer()
        await service.cancel(execution.id)
        streamed = await reader
        stored = await _all_events(service, execution.id)
        assert [e.seq for e in streamed] == [e.seq for e in stored if e.seq > start], round_
        assert streamed[-1].terminal


async def test_a_slow_consumer_does_not_block_the_pipeline_and_still_gets_everything(
    service: ExecutionService,
) -> None:
    """A streamer that does not read while a run emits more events than its live
    buffer holds: the run completes anyway, and the streamer later recovers every
    event from the log (overflow → catch up), in order, once."""
    service.bus._buffer = 8  # type: ignore[attr-defined]  # a tiny live buffer
    items = [{"n": 3}] * 40
    await service.save_config(
        inline_config(
            items=items,
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": items}},
                    "processors": [{"type": "fan_out"}],
                    "to": ["boom"],
                },
                "boom": {"processors": [{"type": "fail"}]},
            },
            settings={"max_retries": 0},
        )
    )
    execution = await service.run("t")
    streamer = service.events(execution.id)
    first = await streamer.__anext__()  # subscribed, then stops reading
    result = await service.wait(execution.id, timeout=60)
    assert result.status == "completed"
    rest = [e async for e in streamer]
    stored = await _all_events(service, execution.id)
    assert len(stored) > 8 + 3
    assert [first.seq] + [e.seq for e in rest] == [e.seq for e in stored]
    failures = [e for e in stored if e.kind == EventKind.MESSAGE_FAILED]
    assert len(failures) == service.settings.max_failure_events
    assert result.stats is not None and result.stats.failure_events_suppressed == 120 - len(
        failures
    )


async def test_storage_streamer_yields_storage_writes_then_the_terminal_event(
    service: ExecutionService,
) -> None:
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"k": "a"}, {"k": "b"}]}},
                    "processors": [{"type": "storage_write", "with": {"key": "out/{{k}}.json"}}],
                }
            }
        )
    )
    execution = await service.run("t")
    streamed = [e async for e in StorageEventStreamer(execution.id, db=service.db, bus=service.bus)]
    assert sorted(e.data["key"] for e in streamed[:-1]) == ["out/a.json", "out/b.json"]
    assert all(e.kind == EventKind.STORAGE_WRITTEN for e in streamed[:-1])
    assert streamed[-1].terminal
    objects = await service.storage_objects(execution.id)
    assert len(objects) == 2
    meta, data = await service.read_object(execution.id, "out/a.json")
    assert meta.size == len(data) and b'"k"' in data
