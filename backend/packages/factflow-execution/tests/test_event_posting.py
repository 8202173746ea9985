"""Posted events (route, progress, failures): written by a flush task or with the
terminal status, in order with every other event, and never lost at shutdown."""

from __future__ import annotations

from factflow_execution import ExecutionService
from factflow_execution._events import EventKind, read_events

from .conftest import Gates, count_statements, inline_config


def _gated() -> dict:
    return inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": [1]}},
                "processors": [{"type": "gate"}],
            }
        }
    )


async def test_posted_events_are_written_by_the_flush_task_in_order(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(_gated())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    for i in range(3):
        service.event_log.post(execution.id, "test.posted", {"i": i})
    await service.event_log.flush_posted()
    async with service.db.connect() as conn:
        events = await read_events(conn, execution.id)
    posted = [e for e in events if e.kind == "test.posted"]
    assert [e.data["i"] for e in posted] == [0, 1, 2]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    gates.open("default")
    assert (await service.wait(execution.id, timeout=30)).status == "completed"


async def test_a_short_run_commits_its_last_events_with_the_terminal_status(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    with count_statements(service.db) as counter:
        execution = await service.run("t")
        result = await service.wait(execution.id, timeout=30)
        await service.event_log.flush_posted()
    assert result.status == "completed"
    async with service.db.connect() as conn:
        events = await read_events(conn, execution.id)
    kinds = [e.kind for e in events]
    assert kinds[0] == kinds[1] == EventKind.STATUS  # pending, running
    assert EventKind.ROUTE_DRAINED in kinds and kinds[-1] == EventKind.STATUS
    assert events[-1].terminal
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    status_updates = [s for s in counter.statements if "SET status" in s]
    seq_updates = [s for s in counter.statements if "SET last_event_seq" in s]
    # pending+running in one transaction, the terminal one with the claimed events:
    # fewer seq bumps than events, because posted events are written in batches
    assert len(status_updates) == 2
    assert len(seq_updates) < len(events)


async def test_shutdown_writes_what_was_posted(service: ExecutionService, gates: Gates) -> None:
    await service.save_config(_gated())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    service.event_log.post(execution.id, "test.posted", {"last": True})
    gates.open("default")
    await service.wait(execution.id, timeout=30)
    await service.shutdown(grace=0)
    async with service.db.connect() as conn:
        events = await read_events(conn, execution.id)
    assert any(e.kind == "test.posted" for e in events)
