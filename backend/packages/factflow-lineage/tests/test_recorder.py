"""LineageRecorder on both databases: batching, age flush, flush semantics, back-pressure."""

from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path
from typing import Any

import pytest
from factflow_foundation import FactFlowSettings, InvalidInputError, new_id
from factflow_infra.db import Database, lineage_records
from factflow_infra.storage import LocalFileStorage
from factflow_lineage import (
    LineageFlushError,
    LineageRecorder,
    LineageRecorderClosedError,
    NullLineageSink,
    get_record,
)
from sqlalchemy import select

WRITER_TASK = "factflow-lineage-writer"
NEVER = 3600.0  # a flush interval no test waits for


def writer_tasks() -> int:
    return sum(1 for t in asyncio.all_tasks() if t.get_name() == WRITER_TASK and not t.done())


async def message_ids(db: Database, execution_id: str) -> list[str]:
    query = select(lineage_records.c.message_id).where(
        lineage_records.c.execution_id == execution_id
    )
    async with db.connect() as conn:
        return list((await conn.execute(query)).scalars())


@pytest.mark.parametrize(("n", "batch"), [(1, 10), (10, 10), (95, 10), (1000, 64)])
async def test_n_records_take_ceil_n_over_batch_writes(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any, n: int, batch: int
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, batch_size=batch, flush_interval=NEVER)
    for i in range(n):
        await recorder.record(make_entry(execution_id))
        if i % 7 == 0:
            await asyncio.sleep(0)  # let the writer take full batches meanwhile
    await recorder.flush()
    counters = recorder.counters()
    assert counters.recorded == counters.rows_written == n
    assert counters.flushes == math.ceil(n / batch)
    assert counters.pending == 0
    assert await count_rows(execution_id) == n
    await recorder.close()


async def test_partial_batch_is_not_written_before_it_is_due(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, batch_size=100, flush_interval=NEVER)
    for _ in range(5):
        await recorder.record(make_entry(execution_id))
    for _ in range(20):
        await asyncio.sleep(0)
    assert recorder.counters().flushes == 0
    assert await count_rows(execution_id) == 0
    await recorder.close()
    assert await count_rows(execution_id) == 5


async def test_age_flush_writes_without_an_explicit_flush(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, batch_size=1000, flush_interval=0.02)
    for _ in range(3):
        await recorder.record(make_entry(execution_id))
    await asyncio.wait_for(recorder.wait_written(3), timeout=30)
    assert recorder.counters().flushes == 1
    assert await count_rows(execution_id) == 3
    # The timer keeps working for later entries too.
    await recorder.record(make_entry(execution_id))
    await asyncio.wait_for(recorder.wait_written(4), timeout=30)
    assert await count_rows(execution_id) == 4
    await recorder.close()


async def test_one_writer_task_started_lazily_and_stopped_by_close(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    execution_id = await make_execution()
    before = writer_tasks()
    recorder = LineageRecorder(db, batch_size=3, flush_interval=0.01)
    assert writer_tasks() == before
    for _ in range(20):
        await recorder.record(make_entry(execution_id))
    assert writer_tasks() == before + 1
    await recorder.flush()
    assert writer_tasks() == before + 1
    await recorder.close()
    assert writer_tasks() == before


@pytest.mark.parametrize("seed", range(60))
async def test_concurrent_record_and_flush_never_lose_or_duplicate(
    db: Database, make_execution: Any, make_entry: Any, seed: int
) -> None:
    rng = random.Random(seed)
    execution_id = await make_execution()
    recorder = LineageRecorder(
        db,
        batch_size=rng.randint(1, 8),
        flush_interval=rng.choice([0.001, NEVER]),
        max_buffer=rng.choice([4, 16, 1000]),
    )
    recorded: list[str] = []
    checks = 0

    async def producer(steps: int, prng: random.Random) -> None:
        nonlocal checks
        for _ in range(steps):
            action = prng.random()
            if action < 0.7:
                entry = make_entry(execution_id)
                await recorder.record(entry)
                recorded.append(entry.message_id)
            elif action < 0.85:
                before = list(recorded)
                await recorder.flush()
                durable = set(await message_ids(db, execution_id))
                assert set(before) <= durable, "flush returned before its entries were durable"
                checks += 1
            else:
                for _ in range(prng.randint(1, 3)):
                    await asyncio.sleep(0)

    producers = [producer(rng.randint(5, 25), random.Random(rng.random())) for _ in range(4)]
    await asyncio.gather(*producers)
    await recorder.close()
    stored = await message_ids(db, execution_id)
    assert len(stored) == len(set(stored)), "a row was written twice"
    assert sorted(stored) == sorted(recorded)
    assert recorder.counters().rows_written == len(recorded)


async def test_back_pressure_bounds_unwritten_entries(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, batch_size=10, flush_interval=NEVER, max_buffer=50)
    highest = 0
    blocked = 0

    async def producer() -> None:
        nonlocal highest, blocked
        for _ in range(100):
            before = recorder.counters().recorded
            await recorder.record(make_entry(execution_id))
            if recorder.counters().recorded - before > 1:
                blocked += 1  # others recorded while this one waited
            highest = max(highest, recorder.counters().pending)
            assert recorder.counters().pending <= 50

    await asyncio.gather(*(producer() for _ in range(5)))
    await recorder.close()
    assert highest == 50
    assert blocked > 0
    assert await count_rows(execution_id) == 500


async def test_max_buffer_below_batch_size_still_progresses(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, batch_size=100, flush_interval=NEVER, max_buffer=3)
    for _ in range(10):
        await recorder.record(make_entry(execution_id))
        assert recorder.counters().pending <= 3
    await recorder.close()
    assert await count_rows(execution_id) == 10


async def test_failed_batch_is_kept_retried_and_surfaced_by_flush(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any
) -> None:
    # The parent execution row is missing: the foreign key fails every attempt.
    execution_id = new_id()
    recorder = LineageRecorder(
        db, batch_size=100, flush_interval=NEVER, retry_backoff_initial=0.01, retry_backoff_max=0.05
    )
    entries = [make_entry(execution_id) for _ in range(7)]
    for entry in entries:
        await recorder.record(entry)
    with pytest.raises(LineageFlushError, match="7 entries are not yet durable") as caught:
        await recorder.flush()
    assert caught.value.pending == 7
    assert caught.value.code == "lineage-flush-failed"
    assert recorder.counters().failed_flushes >= 1
    assert recorder.counters().pending == 7
    # A later flush tries again and reports again.
    with pytest.raises(LineageFlushError):
        await recorder.flush()
    # Once the cause is gone the same batch goes through, exactly once.
    await make_execution(execution_id)
    await recorder.flush()
    assert await count_rows(execution_id) == 7
    assert sorted(await message_ids(db, execution_id)) == sorted(e.message_id for e in entries)
    assert recorder.counters().pending == 0
    await recorder.close()


async def test_close_on_a_failing_database_raises_with_what_was_lost(
    db: Database, make_entry: Any
) -> None:
    recorder = LineageRecorder(db, batch_size=10, flush_interval=NEVER, retry_backoff_initial=0.01)
    await recorder.record(make_entry(new_id()))
    with pytest.raises(LineageFlushError) as caught:
        await recorder.close()
    assert caught.value.pending == 1
    assert writer_tasks() == 0
    with pytest.raises(LineageFlushError, match="closed; 1 entries were not written"):
        await recorder.flush()


async def test_close_flushes_then_refuses_new_entries(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, batch_size=100, flush_interval=NEVER)
    await recorder.record(make_entry(execution_id))
    await recorder.close()
    await recorder.close()  # idempotent
    assert await count_rows(execution_id) == 1
    with pytest.raises(LineageRecorderClosedError, match="recorder is closed"):
        await recorder.record(make_entry(execution_id))
    await recorder.flush()  # nothing pending: fine


async def test_close_without_records_starts_nothing(db: Database) -> None:
    before = writer_tasks()
    recorder = LineageRecorder(db)
    await recorder.flush()
    await recorder.close()
    assert writer_tasks() == before


async def test_row_values_round_trip(db: Database, make_execution: Any, make_entry: Any) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, flush_interval=NEVER)
    parent = make_entry(execution_id)
    child = make_entry(
        execution_id,
        parent_message_id=parent.message_id,
        origin_message_id=parent.message_id,
        route="split",
        status="failed",
        attempt=3,
        error="ValueError: bad",
        outputs=0,
        payload={"n": [1, 2.5, None, True], "s": "ünï"},
    )
    unstarted = make_entry(execution_id, started_at=None, payload=None, status="cancelled")
    for entry in (parent, child, unstarted):
        await recorder.record(entry)
    await recorder.close()
    async with db.connect() as conn:
        got = await get_record(conn, execution_id, child.message_id)
        none = await get_record(conn, execution_id, unstarted.message_id)
    assert (got.parent_message_id, got.origin_message_id) == (parent.message_id, parent.message_id)
    assert (got.route, got.status, got.attempt, got.error, got.outputs) == (
        "split",
        "failed",
        3,
        "ValueError: bad",
        0,
    )
    assert got.payload == {"n": [1, 2.5, None, True], "s": "ünï"}
    assert got.started_at == child.started_at
    assert got.finished_at == child.finished_at
    assert got.duration_ms == pytest.approx(5.0)
    assert (none.started_at, none.duration_ms, none.payload, none.payload_ref) == (
        None,
        None,
        None,
        None,
    )


async def test_awkward_payloads_are_stored_not_dropped(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, flush_interval=NEVER)
    cases: dict[str, Any] = {
        "nul": {"t": "a\x00b"},
        "date": {"when": make_entry(execution_id).finished_at},
        "tuple-keys": {(1, 2): "x"},
        "surrogate": {"t": "bad\udcff"},
    }
    entries = {name: make_entry(execution_id, payload=p) for name, p in cases.items()}
    error_entry = make_entry(execution_id, status="failed", error="boom\x00")
    for entry in [*entries.values(), error_entry]:
        await recorder.record(entry)
    await recorder.close()
    async with db.connect() as conn:
        got = {n: (await get_record(conn, execution_id, e.message_id)) for n, e in entries.items()}
        error = (await get_record(conn, execution_id, error_entry.message_id)).error
    # PostgreSQL's jsonb and text refuse NUL: it becomes U+FFFD there.
    assert got["nul"].payload["t"] in ("a\x00b", "a\ufffdb")
    assert error in ("boom\x00", "boom\ufffd")
    assert got["date"].payload == {"when": str(cases["date"]["when"])}
    assert got["tuple-keys"].payload == repr(cases["tuple-keys"])
    assert got["surrogate"].payload == {"t": "bad\\udcff"}


async def test_null_sink_counts_and_writes_nothing(
    db: Database, make_execution: Any, make_entry: Any, count_rows: Any
) -> None:
    execution_id = await make_execution()
    sink = NullLineageSink()
    for _ in range(5):
        await sink.record(make_entry(execution_id))
    await sink.flush()
    await sink.close()
    assert sink.counters().recorded == 5
    assert sink.counters().rows_written == 0
    assert await count_rows() == 0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("batch_size", 0),
        ("max_buffer", 0),
        ("max_inline_payload", 0),
        ("flush_interval", 0),
        ("retry_backoff_initial", -1),
    ],
)
def test_bad_options_are_rejected_without_io(tmp_path: Path, option: str, value: float) -> None:
    db = Database(f"sqlite:///{tmp_path / 'unused.db'}")
    with pytest.raises(InvalidInputError, match=f"LineageRecorder {option} must be"):
        LineageRecorder(db, **{option: value})


async def test_from_settings_uses_the_lineage_settings(
    settings: FactFlowSettings, make_execution: Any, make_entry: Any, count_rows: Any, db: Database
) -> None:
    storage = LocalFileStorage.from_settings(settings)
    assert str(storage.root) == str(settings.resolved_storage_dir)
    recorder = LineageRecorder.from_settings(db, settings, storage=storage)
    execution_id = await make_execution()
    await recorder.record(make_entry(execution_id))
    # settings.lineage_flush_interval is short in the test settings: the age flush writes it.
    await asyncio.wait_for(recorder.wait_written(1), timeout=30)
    assert await count_rows(execution_id) == 1
    await recorder.close()
