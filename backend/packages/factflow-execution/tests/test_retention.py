"""Deleting runs (one, pruned, by the retention loop) on both databases: everything
of the deleted run goes, nothing of a kept run is touched."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from factflow_execution import (
    ConfigSourceType,
    ExecutionInUseError,
    ExecutionNotFoundError,
    ExecutionService,
    IllegalTransitionError,
    PipelineExecutionRepository,
    ReplaySource,
    Retention,
)
from factflow_foundation import InvalidInputError, new_id, utcnow
from factflow_infra.db import Database, metadata, pipeline_executions
from sqlalchemy import delete, func, select

from .conftest import Gates, inline_config

BIG = "x" * (70 * 1024)  # over the lineage row's inline limit: spilled to _lineage/<id>/


def _stored(name: str = "t") -> dict[str, Any]:
    return inline_config(
        name,
        routes={
            "src": {
                "adapter": {
                    "type": "inline",
                    "with": {"items": [{"n": 1, "text": "small"}, {"n": 2, "text": BIG}]},
                },
                "processors": [{"type": "storage_write"}],
                "to": ["sink"],
            },
            "sink": {},
        },
    )


async def _finished(service: ExecutionService, name: str = "t", **kwargs: Any) -> str:
    execution = await service.run(name, **kwargs)
    result = await service.wait(execution.id, timeout=60)
    assert result.status == "completed", result.error
    return execution.id


async def _rows(db: Database, execution_id: str) -> dict[str, int]:
    """Rows of ``execution_id`` in every table that has an ``execution_id`` column
    (lineage, totals, objects, events, and whatever a later table adds)."""
    counts = {}
    async with db.connect() as conn:
        for table in metadata.sorted_tables:
            if "execution_id" in table.c:
                query = select(func.count()).where(table.c.execution_id == execution_id)
                counts[table.name] = int((await conn.execute(query)).scalar_one())
        query = select(func.count()).where(pipeline_executions.c.id == execution_id)
        counts["pipeline_executions"] = int((await conn.execute(query)).scalar_one())
    return counts


def _files(root: Path, execution_id: str) -> dict[str, bytes]:
    found = {}
    for top in (root / execution_id, root / "_lineage" / execution_id):
        for path in sorted(top.rglob("*")) if top.exists() else []:
            if path.is_file():
                found[str(path.relative_to(root))] = path.read_bytes()
    return found


def _root(service: ExecutionService) -> Path:
    return Path(service.settings.resolved_storage_dir)


async def test_delete_removes_one_run_and_leaves_the_other_intact(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(_stored())
    gone, kept = await _finished(service), await _finished(service)
    before = await _rows(db, kept)
    kept_files = _files(_root(service), kept)
    assert before["lineage_records"] == 4 and before["storage_objects"] == 2
    assert before["execution_events"] > 0 and before["lineage_records_totals"] > 0
    assert any(name.startswith("_lineage/") for name in kept_files)  # the spilled payload
    assert len(_files(_root(service), gone)) == len(kept_files) == 4  # 2 objects, 2 spills
    kept_lineage = await service.lineage_records(kept)
    kept_events = [e async for e in service.events(kept)]

    await service.retention.delete(gone)

    assert set((await _rows(db, gone)).values()) == {0}
    assert _files(_root(service), gone) == {}
    assert not (_root(service) / gone).exists()
    assert not (_root(service) / "_lineage" / gone).exists()
    with pytest.raises(ExecutionNotFoundError):
        await service.get(gone)
    assert await _rows(db, kept) == before
    assert _files(_root(service), kept) == kept_files
    assert await service.lineage_records(kept) == kept_lineage
    assert [e async for e in service.events(kept)] == kept_events
    big = next(r for r in kept_lineage if r.payload is None)
    chain = await service.ancestry(kept, big.message_id)
    assert chain[-1].payload_ref is not None
    _, data = await service.read_object(kept, (await service.storage_objects(kept))[0].key)
    assert data

    with pytest.raises(ExecutionNotFoundError):
        await service.retention.delete(gone)  # a second time: it is gone


async def test_delete_removes_the_run_log_and_keeps_the_other_runs(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(
        inline_config(
            "noisy",
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"n": 1}, {"n": 2}]}},
                    "processors": [{"type": "fail", "with": {"when": {"n": 2}}}],
                }
            },
            settings={"max_retries": 0},
        )
    )
    gone, kept = await _finished(service, "noisy"), await _finished(service, "noisy")
    before = await _rows(db, kept)
    assert before["execution_logs"] > 0  # the failed attempt's traceback, at least
    assert (await _rows(db, gone))["execution_logs"] == before["execution_logs"]
    await service.retention.delete(gone)
    assert set((await _rows(db, gone)).values()) == {0}
    assert await _rows(db, kept) == before


async def test_a_delete_is_announced_on_the_change_feed(service: ExecutionService) -> None:
    await service.save_config(_stored())
    gone = await _finished(service)
    changes = service.changes()
    feed = aiter(changes)
    await service.retention.delete(gone)
    change = await anext(feed)
    while "deleted" not in change.kinds:  # a late change of the finished run, if any
        change = await anext(feed)
    assert (change.execution_id, change.kinds, change.seq) == (gone, ("deleted",), None)
    await changes.aclose()


async def test_delete_refuses_a_pending_or_running_run(
    service: ExecutionService, db: Database, gates: Gates
) -> None:
    await service.save_config(
        inline_config(
            routes={
                "src": {"adapter": {"type": "inline", "with": {"items": [{"n": 1}]}}, "to": ["w"]},
                "w": {"processors": [{"type": "gate"}]},
            }
        )
    )
    running = await service.run("t")
    await gates.wait_entered("default")
    before = await _rows(db, running.id)
    with pytest.raises(IllegalTransitionError, match=r"it is running .* can be deleted") as err:
        await service.retention.delete(running.id)
    assert err.value.status == "running"
    pending = await service.create_execution("t")
    with pytest.raises(IllegalTransitionError, match="it is pending"):
        await service.retention.delete(pending.id)
    assert (await service.get(pending.id)).status == "pending"
    gates.open()
    assert (await service.wait(running.id, timeout=60)).status == "completed"
    assert (await _rows(db, running.id))["pipeline_executions"] == 1
    assert before["pipeline_executions"] == 1
    await service.retention.delete(running.id)
    assert set((await _rows(db, running.id)).values()) == {0}


async def test_deleting_a_replayed_run_keeps_the_replay(service: ExecutionService) -> None:
    await service.save_config(_stored())
    parent = await _finished(service)
    roots = await service.lineage_records(parent, route="src")
    replay = await service.replay(
        ReplaySource(parent_execution_id=parent, mode="ids", message_ids=[roots[0].message_id])
    )
    assert (await service.wait(replay.id, timeout=60)).status == "completed"
    child_lineage = await service.lineage_records(replay.id)

    await service.retention.delete(parent)

    child = await service.get(replay.id)
    assert child.parent_execution_id is None  # the link is nulled
    assert child.replay_source is not None and child.replay_source.parent_execution_id == parent
    assert await service.lineage_records(replay.id) == child_lineage
    assert _files(_root(service), replay.id)


async def test_a_run_a_live_replay_continues_is_not_deleted(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(_stored())
    parent = await _finished(service)
    child = new_id()
    async with db.transaction() as conn:  # a replay (or resume) admitted but not started yet
        await PipelineExecutionRepository(conn).add(
            execution_id=child,
            config=None,
            config_name="t",
            snapshot={},
            source=ConfigSourceType.REPLAY,
            parent_execution_id=parent,
            owner=service.manager.owner_id,
        )
    before = await _rows(db, parent)
    with pytest.raises(ExecutionInUseError, match=f"execution {child} continues it"):
        await service.retention.delete(parent)
    assert await _rows(db, parent) == before
    assert (await service.cancel(child)).status == "cancelled"
    await service.retention.delete(parent)
    assert set((await _rows(db, parent)).values()) == {0}
    assert (await service.get(child)).parent_execution_id is None


async def test_prune_by_age_and_status(service: ExecutionService, db: Database) -> None:
    await service.save_config(_stored())
    await service.save_config(
        inline_config(
            "bad",
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"n": 1}]}},
                    "processors": [{"type": "fail"}],
                }
            },
            settings={"on_message_error": "fail", "max_retries": 0},
        )
    )
    completed = await _finished(service)
    failing = await service.run("bad")
    assert (await service.wait(failing.id, timeout=60)).status == "failed"
    soon = utcnow() + timedelta(seconds=1)
    long_ago = utcnow() - timedelta(days=1)

    assert (await service.retention.prune(ended_before=long_ago)).execution_ids == []
    dry = await service.retention.prune(ended_before=soon, statuses=["failed"], dry_run=True)
    assert dry.execution_ids == [failing.id] and dry.dry_run and not dry.more
    assert (await _rows(db, failing.id))["pipeline_executions"] == 1

    capped = await service.retention.prune(ended_before=soon, limit=1, dry_run=True)
    assert capped.execution_ids == [completed] and capped.more  # oldest first

    done = await service.retention.prune(ended_before=soon, statuses=["failed"])
    assert done.execution_ids == [failing.id] and not done.dry_run
    assert set((await _rows(db, failing.id)).values()) == {0}
    assert (await _rows(db, completed))["lineage_records"] == 4

    with pytest.raises(InvalidInputError, match="'running' is not one of"):
        await service.retention.prune(ended_before=soon, statuses=["running"])
    with pytest.raises(InvalidInputError, match="limit"):
        await service.retention.prune(ended_before=soon, limit=0)


async def test_two_servers_pruning_at_once_delete_each_run_once(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(_stored())
    runs = [await _finished(service) for _ in range(6)]
    soon = utcnow() + timedelta(seconds=1)
    first = Retention(service.db, service.storage, service.bus)
    second = Retention(service.db, service.storage, service.bus)
    a, b = await asyncio.gather(first.prune(ended_before=soon), second.prune(ended_before=soon))
    assert sorted(a.execution_ids + b.execution_ids) == sorted(runs)
    assert not set(a.execution_ids) & set(b.execution_ids)
    for execution_id in runs:
        assert set((await _rows(db, execution_id)).values()) == {0}


async def test_orphaned_files_of_a_crashed_delete_are_swept(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(_stored())
    crashed, kept = await _finished(service), await _finished(service)
    kept_files = _files(_root(service), kept)
    # A crash after the rows' commit, before the files went: the row is gone, the files stay.
    async with db.transaction() as conn:
        await conn.execute(delete(pipeline_executions).where(pipeline_executions.c.id == crashed))
    assert _files(_root(service), crashed)
    other = _root(service) / "not-a-run"
    other.mkdir()

    assert await service.retention.sweep_orphans() == [crashed]

    assert _files(_root(service), crashed) == {}
    assert _files(_root(service), kept) == kept_files
    assert other.is_dir()
    assert await service.retention.sweep_orphans() == []


async def test_the_retention_loop_deletes_old_runs_and_stops_cleanly(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(_stored())
    old = await _finished(service)
    running_loops = [t for t in asyncio.all_tasks() if t.get_name() == "factflow-retention"]
    assert running_loops == []  # without retention_days the start-up sweep ran and ended

    retention = Retention(service.db, service.storage, service.bus, days=1e-9, interval=3600)
    first_pass = retention.pass_done
    await retention.start()
    await first_pass.wait()
    assert retention.passes == 1
    assert set((await _rows(db, old)).values()) == {0}
    assert _files(_root(service), old) == {}
    # The loop now sleeps for an hour; stop wakes it and it ends at once.
    await retention.stop()
    assert [t for t in asyncio.all_tasks() if t.get_name() == "factflow-retention"] == []


async def test_apply_keeps_runs_younger_than_the_retention(
    service: ExecutionService, db: Database
) -> None:
    await service.save_config(_stored())
    young = await _finished(service)
    retention = Retention(service.db, service.storage, service.bus, days=30)
    assert await retention.apply() == []
    assert (await _rows(db, young))["lineage_records"] == 4
    assert await retention.apply(now=utcnow() + timedelta(days=31)) == [young]
    assert set((await _rows(db, young)).values()) == {0}


def test_every_per_run_table_goes_with_its_run() -> None:
    """A delete relies on the foreign keys: every table with an ``execution_id``
    column must cascade from ``pipeline_executions`` (a new per-run table that
    does not would make deletes fail or leave its rows behind).  Schedule fire
    records are the one exception: they keep the id of a deleted run."""
    kept_links = {"schedule_fires"}
    for table in metadata.sorted_tables:
        if "execution_id" not in table.c or table.name in kept_links:
            continue
        keys = [
            fk for fk in table.c.execution_id.foreign_keys if fk.column.table is pipeline_executions
        ]
        assert keys, f"{table.name}.execution_id has no foreign key to pipeline_executions"
        assert all(fk.ondelete == "CASCADE" for fk in keys), table.name
    parent = next(iter(pipeline_executions.c.parent_execution_id.foreign_keys))
    assert parent.ondelete == "SET NULL"  # replays and resumes outlive their parent


@pytest.mark.dialect("sqlite")  # the broker half is the point; the rows are covered above
async def test_delete_discards_what_a_durable_broker_kept_for_the_run(
    service: ExecutionService, db: Database, rabbitmq_url: str
) -> None:
    from factflow_infra.broker import RabbitMQQueueBackend
    from factflow_protocols import Message

    await service.save_config(_stored())
    run = await service.create_execution("t")
    queue_names = sorted(set(run.config_snapshot["directory"].values()))
    broker = RabbitMQQueueBackend(rabbitmq_url)
    kept = new_id()
    try:
        for execution_id in (run.id, kept):  # what a dead process left behind
            queue = broker.open(execution_id, queue_names[0], maxsize=10)
            await queue.put(Message("m1", execution_id, "sink", {"n": 1}, "m1", None, 0, {}))
        assert (await service.cancel(run.id)).status == "cancelled"
        retention = Retention(service.db, service.storage, service.bus, queues=broker)
        await retention.delete(run.id)
        assert await broker.leftovers(run.id, queue_names) == []
        assert [m.id for m in await broker.leftovers(kept, queue_names)] == ["m1"]
    finally:
        await broker.discard_leftovers(kept, queue_names)
        await broker.discard_leftovers(run.id, queue_names)
        await broker.close()
