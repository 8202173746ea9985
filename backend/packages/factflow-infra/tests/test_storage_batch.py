"""Group commit for storage on both databases: batches, durability order, give-up, cleanup."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from factflow_foundation import InvalidInputError, new_id, utcnow
from factflow_infra.db import Database
from factflow_infra.storage import (
    ExecutionStorageService,
    LocalFileStorage,
    StorageCommitter,
    StorageFlushError,
    remove_unrecorded_files,
)
from factflow_infra.storage.batch import RowWriter
from factflow_infra.storage.local import BatchSync, _syncfs
from factflow_protocols import StoredObject

from .test_storage_service import files, make_execution, rows


class SyncSpy(LocalFileStorage):
    """A real ``LocalFileStorage`` that logs what ``sync`` was asked, and when."""

    def __init__(self, root: Path, batch_sync: BatchSync = "auto") -> None:
        super().__init__(root, batch_sync=batch_sync)
        self.synced: list[list[str]] = []

    async def sync(self, locations: Sequence[str], *, threads: int = 8) -> set[str]:
        self.synced.append(list(locations))
        return await super().sync(locations, threads=threads)


class RecordingSink:
    """A ``CommitSink`` that checks every file is synced before the rows commit."""

    def __init__(self, db: Database, backend: SyncSpy) -> None:
        self._db = db
        self._backend = backend
        self.batches: list[list[str]] = []

    async def commit(self, objects: Sequence[StoredObject], write_rows: RowWriter) -> None:
        synced = {loc for batch in self._backend.synced for loc in batch}
        assert all(obj.location in synced for obj in objects)
        async with self._db.transaction() as conn:
            await write_rows(conn)
        self.batches.append([obj.key for obj in objects])


class FailingSink:
    def __init__(self) -> None:
        self.attempts = 0

    async def commit(self, objects: Sequence[StoredObject], write_rows: RowWriter) -> None:
        self.attempts += 1
        raise RuntimeError("the database said no")


def _stored(execution_id: str, key: str, location: str, data: bytes) -> StoredObject:
    return StoredObject(
        execution_id=execution_id,
        key=key,
        size=len(data),
        checksum=hashlib.sha256(data).hexdigest(),
        content_type="application/octet-stream",
        route=None,
        message_id=None,
        written_at=utcnow(),
        location=location,
    )


@pytest.mark.parametrize("mode", ["fsync", "syncfs"])
async def test_puts_are_recorded_in_one_batch_after_their_files_are_synced(
    db: Database, tmp_path: Path, mode: BatchSync
) -> None:
    if mode == "syncfs" and _syncfs() is None:
        pytest.skip("syncfs(2) is Linux-only")
    execution_id = await make_execution(db)
    backend = SyncSpy(tmp_path / "store", mode)
    sink = RecordingSink(db, backend)
    committer = StorageCommitter(db, backend, sink=sink)
    objects = []
    for i in range(50):
        data = f"object {i}".encode()
        location = await committer.write(f"{execution_id}/o/{i}.txt", data)
        objects.append(_stored(execution_id, f"o/{i}.txt", location, data))
    # Nothing yields between submits: the writer finds all 50 in its buffer.
    for obj in objects:
        await committer.submit(obj)
    assert await rows(db, execution_id) == []
    await committer.flush(execution_id)
    assert sink.batches == [[f"o/{i}.txt" for i in range(50)]]
    assert committer.batches == 1 and committer.settled == 50
    recorded = await rows(db, execution_id)
    assert [r["key"] for r in recorded] == [f"o/{i}.txt" for i in range(50)]
    assert backend.synced == [[obj.location for obj in objects]]
    await committer.close()


async def test_service_put_returns_before_the_row_and_flush_waits_for_it(
    db: Database, tmp_path: Path
) -> None:
    execution_id = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    committer = StorageCommitter(db, backend)
    storage = ExecutionStorageService(db, backend, execution_id, committer=committer)
    written = await asyncio.gather(
        *(storage.put(f"k/{i}", bytes([i]) * 10, route="r") for i in range(40))
    )
    assert await storage.get("k/3") == bytes([3]) * 10  # readable at once
    await storage.flush()
    recorded = {r["key"]: r for r in await rows(db, execution_id)}
    assert sorted(recorded) == sorted(obj.key for obj in written)
    assert all(recorded[o.key]["checksum"] == o.checksum for o in written)
    assert [o.key for o in await storage.list()] == [r["key"] for r in await rows(db, execution_id)]
    assert committer.batches < 40
    await committer.close()


async def test_same_key_twice_in_a_batch_keeps_the_last_write(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    committer = StorageCommitter(db, backend)
    first = _stored(execution_id, "same", await committer.write(f"{execution_id}/same", b"1"), b"1")
    second = _stored(
        execution_id, "same", await committer.write(f"{execution_id}/same", b"22"), b"22"
    )
    await committer.submit(first)
    await committer.submit(second)
    await committer.flush(execution_id)
    (row,) = await rows(db, execution_id)
    assert row["size"] == 2 and row["checksum"] == second.checksum
    assert await backend.read(f"{execution_id}/same") == b"22"
    await committer.close()


async def test_a_batch_that_cannot_commit_is_given_up_files_removed_and_flush_says_so(
    db: Database, tmp_path: Path
) -> None:
    execution_id = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    sink = FailingSink()
    committer = StorageCommitter(
        db, backend, sink=sink, max_attempts=2, retry_backoff=(0.001, 0.001)
    )
    storage = ExecutionStorageService(db, backend, execution_id, committer=committer)
    await storage.put("a.txt", b"a")
    await storage.put("b.txt", b"b")
    with pytest.raises(StorageFlushError, match="the database said no"):
        await storage.flush()
    await storage.flush()  # said once: the run that flushed it has failed
    assert sink.attempts >= 3  # two whole-batch attempts, then one for the execution
    assert committer.given_up == 2
    assert files(tmp_path / "store") == []
    assert await rows(db, execution_id) == []
    await committer.close()


async def test_a_file_removed_before_its_batch_is_not_recorded(
    db: Database, tmp_path: Path
) -> None:
    execution_id = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    committer = StorageCommitter(db, backend)
    kept = _stored(execution_id, "kept", await committer.write(f"{execution_id}/kept", b"k"), b"k")
    gone_at = await committer.write(f"{execution_id}/gone", b"g")
    os.unlink(gone_at)
    await committer.submit(kept)
    await committer.submit(_stored(execution_id, "gone", gone_at, b"g"))
    with pytest.raises(StorageFlushError, match="'gone' was removed"):
        await committer.flush(execution_id)
    assert [r["key"] for r in await rows(db, execution_id)] == ["kept"]
    await committer.close()


async def test_put_refuses_nul_in_metadata_before_writing(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    committer = StorageCommitter(db, backend)
    storage = ExecutionStorageService(db, backend, execution_id, committer=committer)
    with pytest.raises(InvalidInputError, match="content_type contains a NUL"):
        await storage.put("x", b"x", content_type="text/plain\x00")
    await storage.flush()
    assert files(tmp_path / "store") == [] and await rows(db, execution_id) == []
    await committer.close()


async def test_submit_after_close_raises(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    committer = StorageCommitter(db, backend)
    await committer.close()
    storage = ExecutionStorageService(db, backend, execution_id, committer=committer)
    with pytest.raises(StorageFlushError, match="closed"):
        await storage.put("late", b"x")


async def test_recovery_removes_files_no_row_records(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    other = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    storage = ExecutionStorageService(db, backend, execution_id)
    await storage.put("kept/a.json", b"{}")
    # What a crash between a batch's fsync and its commit leaves behind:
    unrecorded = await backend.write_unsynced(f"{execution_id}/lost/b.json", b"{}")
    temp = Path(unrecorded).parent / ".factflow-abc.tmp"
    temp.write_bytes(b"half")
    await backend.write(f"{other}/c.json", b"{}")
    await backend.write(f"_lineage/{execution_id}/m.json", b"{}")

    removed = await remove_unrecorded_files(db, backend, [execution_id, new_id()])

    assert sorted(removed) == [
        f"{execution_id}/lost/.factflow-abc.tmp",
        f"{execution_id}/lost/b.json",
    ]
    assert files(tmp_path / "store" / execution_id) == ["kept/a.json"]
    assert files(tmp_path / "store" / other) == ["c.json"]
    assert files(tmp_path / "store" / "_lineage") == [f"{execution_id}/m.json"]
