"""A storage batch spanning many runs: rows and storage.written events in one transaction,
each run's seqs dense and in write order, published after the commit."""

from __future__ import annotations

import hashlib

import pytest
from factflow_execution import ExecutionService
from factflow_execution._events import EventKind, execution_topic, read_events
from factflow_execution._objects import storage_committer
from factflow_foundation import new_id, utcnow
from factflow_infra.db import storage_objects
from factflow_infra.storage import StorageFlushError
from factflow_protocols import StoredObject
from sqlalchemy import select

from .conftest import inline_config


def _stored(execution_id: str, key: str, location: str, data: bytes) -> StoredObject:
    return StoredObject(
        execution_id=execution_id,
        key=key,
        size=len(data),
        checksum=hashlib.sha256(data).hexdigest(),
        content_type="text/plain",
        route="r",
        message_id=None,
        written_at=utcnow(),
        location=location,
    )


async def test_one_batch_of_three_runs_numbers_each_runs_events_densely(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    runs = [await service.create_execution("t") for _ in range(3)]
    subscriptions = [service.bus.subscribe(execution_topic(r.id)) for r in runs]
    service.event_log.post(runs[1].id, EventKind.PROGRESS, {"before": True})  # keeps its place
    committer = storage_committer(service.db, service.storage, service.event_log)
    objects = []
    for i in range(12):
        run = runs[i % 3]
        data = f"{i}".encode()
        location = await committer.write(f"{run.id}/k/{i}", data)
        objects.append(_stored(run.id, f"k/{i}", location, data))
    for obj in objects:  # no await yields in between: one batch
        await committer.submit(obj)
    await committer.flush()
    assert committer.batches == 1
    async with service.db.connect() as conn:
        for n, run in enumerate(runs):
            events = await read_events(conn, run.id)
            written = [e for e in events if e.kind == EventKind.STORAGE_WRITTEN]
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert [e.data["key"] for e in written] == [f"k/{i}" for i in range(n, 12, 3)]
            if n == 1:
                assert [e.kind for e in events[:-4]][-1] == EventKind.PROGRESS
            rows = (
                await conn.execute(
                    select(storage_objects.c.key).where(storage_objects.c.execution_id == run.id)
                )
            ).scalars()
            assert sorted(rows) == sorted(e.data["key"] for e in written)
    for run, subscription in zip(runs, subscriptions, strict=True):
        published = [await subscription.get() for _ in range(4 + (run is runs[1]))]
        seqs = [e.seq for e in published]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, none missing
        assert [e.kind for e in published[-4:]] == [EventKind.STORAGE_WRITTEN] * 4
        subscription.close()
    await committer.close()


async def test_a_batch_for_a_run_without_a_row_gives_only_that_run_up(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    run = await service.create_execution("t")
    ghost = new_id()  # no execution row: its storage rows would break the FK
    committer = storage_committer(service.db, service.storage, service.event_log)
    committer._max_attempts = 1
    for execution_id in (run.id, ghost):
        location = await committer.write(f"{execution_id}/x", b"x")
        await committer.submit(_stored(execution_id, "x", location, b"x"))
    with pytest.raises(StorageFlushError):
        await committer.flush(ghost)
    await committer.flush(run.id)  # the other run's object was recorded
    async with service.db.connect() as conn:
        events = await read_events(conn, run.id)
    assert [e.data["key"] for e in events if e.kind == EventKind.STORAGE_WRITTEN] == ["x"]
    await committer.close()
