"""Large payloads spill to storage; load_payload reads inline and spilled ones alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factflow_foundation import InvalidInputError, loads
from factflow_infra.db import Database
from factflow_infra.storage import LocalFileStorage
from factflow_lineage import LineageRecorder, get_record, load_payload, spill_key

LIMIT = 100


async def test_large_payload_spills_and_loads_back(
    db: Database, tmp_path: Path, make_execution: Any, make_entry: Any
) -> None:
    execution_id = await make_execution()
    storage = LocalFileStorage(tmp_path / "store")
    recorder = LineageRecorder(db, max_inline_payload=LIMIT, storage=storage)
    small = make_entry(execution_id, payload={"t": "x" * 10})
    big_payload = {"t": "x" * 500, "n": list(range(20))}
    big = make_entry(execution_id, payload=big_payload)
    # 40 characters of JSON but 77 UTF-8 bytes: the limit counts bytes.
    wide = make_entry(execution_id, payload="é" * 38)
    for entry in (small, big, wide):
        await recorder.record(entry)
    await recorder.close()
    assert recorder.counters().spilled_payloads == 1

    async with db.connect() as conn:
        small_row = await get_record(conn, execution_id, small.message_id)
        big_row = await get_record(conn, execution_id, big.message_id)
        wide_row = await get_record(conn, execution_id, wide.message_id)
    assert (small_row.payload, small_row.payload_ref) == ({"t": "x" * 10}, None)
    assert wide_row.payload == "é" * 38
    assert big_row.payload is None
    assert big_row.payload_ref == spill_key(execution_id, big.message_id)
    assert big_row.payload_ref == f"_lineage/{execution_id}/{big.message_id}.json"
    assert loads(await storage.read(big_row.payload_ref)) == big_payload

    assert await load_payload(big_row, storage) == big_payload
    assert await recorder.load_payload(big_row) == big_payload
    assert await load_payload(small_row) == {"t": "x" * 10}
    with pytest.raises(InvalidInputError, match="pass the StorageBackend"):
        await load_payload(big_row)


async def test_wide_payload_over_the_byte_limit_spills(
    db: Database, tmp_path: Path, make_execution: Any, make_entry: Any
) -> None:
    execution_id = await make_execution()
    storage = LocalFileStorage(tmp_path / "store")
    recorder = LineageRecorder(db, max_inline_payload=LIMIT, storage=storage)
    entry = make_entry(execution_id, payload="é" * 60)  # 62 characters, 122 bytes
    await recorder.record(entry)
    await recorder.close()
    async with db.connect() as conn:
        row = await get_record(conn, execution_id, entry.message_id)
    assert row.payload is None
    assert await load_payload(row, storage) == "é" * 60


async def test_without_storage_large_payloads_stay_inline(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(db, max_inline_payload=LIMIT)
    entry = make_entry(execution_id, payload={"t": "y" * 1000})
    await recorder.record(entry)
    await recorder.close()
    async with db.connect() as conn:
        row = await get_record(conn, execution_id, entry.message_id)
    assert (row.payload, row.payload_ref) == ({"t": "y" * 1000}, None)
    assert recorder.counters().spilled_payloads == 0


async def test_unusable_spill_key_keeps_the_payload_inline(
    db: Database, tmp_path: Path, make_execution: Any, make_entry: Any
) -> None:
    execution_id = await make_execution()
    recorder = LineageRecorder(
        db, max_inline_payload=LIMIT, storage=LocalFileStorage(tmp_path / "store")
    )
    entry = make_entry(execution_id, message_id="../../escape", payload={"t": "z" * 500})
    await recorder.record(entry)
    await recorder.close()
    async with db.connect() as conn:
        row = await get_record(conn, execution_id, "../../escape")
    assert (row.payload, row.payload_ref) == ({"t": "z" * 500}, None)
