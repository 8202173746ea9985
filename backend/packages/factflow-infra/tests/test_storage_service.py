"""ExecutionStorageService on both databases: keys, rows, files and observers agree."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from factflow_foundation import InfrastructureError, InvalidInputError, new_id, utcnow
from factflow_infra.db import Database, pipeline_executions, storage_objects
from factflow_infra.storage import (
    MAX_KEY_LENGTH,
    ExecutionStorageService,
    InvalidStorageKeyError,
    LocalFileStorage,
    StorageTotals,
    get_storage_object,
    list_storage_objects,
    storage_totals,
    validate_key,
)
from factflow_protocols import StoredObject
from sqlalchemy import event, func, insert, select, text

# (key, what the error must say)
REJECTED_KEYS: list[tuple[str, str]] = [
    ("", "empty"),
    ("/abs/path", "absolute"),
    ("/", "absolute"),
    ("C:\\windows\\x", "drive letter"),
    ("c:/x", "drive letter"),
    ("\\\\server\\share", "UNC"),
    ("\\x", "UNC"),
    ("..", "'..'"),
    ("../x", "'..'"),
    ("a/../b", "segment 2 is '..'"),
    ("a/..", "'..'"),
    (".", "'.'"),
    ("./a", "segment 1 is '.'"),
    ("a/./b", "'.'"),
    ("a//b", "segment 2 is empty"),
    ("a/", "empty"),
    ("a\\b", "backslash at position 1"),
    ("a\x00b", "U+0000 at position 1"),
    ("a\nb", "U+000A"),
    ("tab\there", "U+0009"),
    ("del\x7f", "U+007F"),
    ("c1\x85", "U+0085"),
    ("bad\udcff", "lone surrogate"),
    ("x" * (MAX_KEY_LENGTH + 1), f"the limit is {MAX_KEY_LENGTH}"),
    ("a/" + "y" * 256, "256 bytes"),
    ("é" * 128, "256 bytes"),
]

ACCEPTED_KEYS = [
    "a",
    "facts/0001.json",
    "deep/er/and/deeper/file.tar.gz",
    ".hidden",
    "..dots..",
    "a b/ünïcødé ✓.txt",
    "x" * 255,
    "/".join(["s"] * 512)[:MAX_KEY_LENGTH],
]


async def make_execution(db: Database) -> str:
    """Insert the minimal ``pipeline_executions`` row storage rows need (FK)."""
    execution_id = new_id()
    async with db.transaction() as conn:
        await conn.execute(
            insert(pipeline_executions).values(
                id=execution_id,
                config_name="test",
                config_snapshot={},
                status="running",
                source="api",
                created_at=utcnow(),
            )
        )
    return execution_id


async def rows(db: Database, execution_id: str | None = None) -> list[dict[str, Any]]:
    query = select(storage_objects).order_by(storage_objects.c.id)
    if execution_id is not None:
        query = query.where(storage_objects.c.execution_id == execution_id)
    async with db.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


def files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


class RecordingObserver:
    def __init__(self) -> None:
        self.seen: list[StoredObject] = []

    async def storage_written(self, obj: StoredObject) -> None:
        self.seen.append(obj)


@pytest.mark.parametrize(("key", "fragment"), REJECTED_KEYS)
def test_validate_key_rejects_and_says_why(key: str, fragment: str) -> None:
    with pytest.raises(InvalidStorageKeyError) as caught:
        validate_key(key)
    error = caught.value
    assert isinstance(error, InvalidInputError)
    assert error.code == "invalid-storage-key"
    assert str(error).startswith(f"invalid storage key {key!r}: ")
    assert fragment in str(error)


@pytest.mark.parametrize("key", ACCEPTED_KEYS)
def test_validate_key_accepts_safe_relative_paths(key: str) -> None:
    assert validate_key(key) == key


async def test_put_get_list_round_trip(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    storage = ExecutionStorageService(db, backend, execution_id, observer=None)
    data = b'{"fact": 42}'
    obj = await storage.put(
        "facts/1.json", data, content_type="application/json", route="write", message_id="m1"
    )
    assert obj.size == len(data)
    assert obj.checksum == hashlib.sha256(data).hexdigest()
    assert obj.location == str(tmp_path / "store" / execution_id / "facts" / "1.json")
    assert files(tmp_path / "store") == [f"{execution_id}/facts/1.json"]
    assert await storage.get("facts/1.json") == data
    [listed] = await storage.list()
    assert listed == obj
    [row] = await rows(db)
    assert (row["key"], row["size"], row["checksum"]) == ("facts/1.json", len(data), obj.checksum)
    assert (row["content_type"], row["route"], row["message_id"]) == (
        "application/json",
        "write",
        "m1",
    )


async def test_same_key_again_overwrites_file_and_row(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    storage = ExecutionStorageService(db, LocalFileStorage(tmp_path / "store"), execution_id)
    first = await storage.put("out.txt", b"first, longer", route="a")
    second = await storage.put("out.txt", b"2nd", content_type="text/plain", route="b")
    assert await storage.get("out.txt") == b"2nd"
    [row] = await rows(db)
    assert (row["size"], row["checksum"], row["route"]) == (3, second.checksum, "b")
    assert row["content_type"] == "text/plain"
    assert second.written_at >= first.written_at
    assert files(tmp_path / "store") == [f"{execution_id}/out.txt"]


@pytest.mark.parametrize(("key", "fragment"), REJECTED_KEYS)
async def test_rejected_key_writes_nothing_anywhere(
    db: Database, tmp_path: Path, key: str, fragment: str
) -> None:
    execution_id = await make_execution(db)
    observer = RecordingObserver()
    storage = ExecutionStorageService(db, LocalFileStorage(tmp_path / "s"), execution_id, observer)
    with pytest.raises(InvalidStorageKeyError, match="invalid storage key"):
        await storage.put(key, b"data")
    assert not (tmp_path / "s").exists()
    assert await rows(db) == []
    assert observer.seen == []


async def test_symlink_escape_records_nothing(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / execution_id).mkdir(parents=True)
    outside.mkdir()
    os.symlink(outside, root / execution_id / "link")
    observer = RecordingObserver()
    storage = ExecutionStorageService(db, LocalFileStorage(root), execution_id, observer)
    with pytest.raises(InvalidStorageKeyError, match="outside the storage root"):
        await storage.put("link/x.txt", b"x")
    assert files(outside) == []
    assert await rows(db) == []
    assert observer.seen == []


async def test_failed_row_removes_the_file(db: Database, tmp_path: Path) -> None:
    # No pipeline_executions row: the foreign key rejects the storage row.
    observer = RecordingObserver()
    storage = ExecutionStorageService(db, LocalFileStorage(tmp_path / "store"), new_id(), observer)
    with pytest.raises(InfrastructureError, match=r"could not record storage object 'orphan\.bin'"):
        await storage.put("orphan.bin", b"x")
    assert files(tmp_path / "store") == []
    assert await rows(db) == []
    assert observer.seen == []


@asynccontextmanager
async def updates_rejected(db: Database) -> AsyncIterator[None]:
    """A real trigger that makes every UPDATE of storage_objects fail, meanwhile."""
    async with db.transaction() as conn:
        if db.is_postgres:
            await conn.execute(
                text(
                    "CREATE FUNCTION test_reject_update() RETURNS trigger AS $$ "
                    "BEGIN RAISE EXCEPTION 'update rejected by test'; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER test_reject_update BEFORE UPDATE ON storage_objects "
                    "FOR EACH ROW EXECUTE FUNCTION test_reject_update()"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE TRIGGER test_reject_update BEFORE UPDATE ON storage_objects "
                    "BEGIN SELECT RAISE(ABORT, 'update rejected by test'); END"
                )
            )
    try:
        yield
    finally:
        async with db.transaction() as conn:
            await conn.execute(
                text(
                    "DROP TRIGGER test_reject_update"
                    + (" ON storage_objects" if db.is_postgres else "")
                )
            )
            if db.is_postgres:
                await conn.execute(text("DROP FUNCTION test_reject_update()"))


async def test_failed_overwrite_leaves_neither_file_nor_stale_row(
    db: Database, tmp_path: Path
) -> None:
    execution_id = await make_execution(db)
    observer = RecordingObserver()
    storage = ExecutionStorageService(
        db, LocalFileStorage(tmp_path / "store"), execution_id, observer
    )
    first = await storage.put("k", b"v1")
    async with updates_rejected(db):
        with pytest.raises(InfrastructureError, match="update rejected by test"):
            await storage.put("k", b"v2")
    assert files(tmp_path / "store") == []
    assert await rows(db) == []
    assert observer.seen == [first]


@pytest.mark.parametrize("field", ["content_type", "route", "message_id"])
async def test_too_long_metadata_writes_nothing(db: Database, tmp_path: Path, field: str) -> None:
    execution_id = await make_execution(db)
    storage = ExecutionStorageService(db, LocalFileStorage(tmp_path / "store"), execution_id)
    with pytest.raises(InvalidInputError, match=f"{field} is 300 characters long"):
        await storage.put("k", b"v", **{field: "x" * 300})
    assert files(tmp_path / "store") == []
    assert await rows(db) == []


async def test_observer_sees_each_write_after_it_is_recorded(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    seen_rows: list[int] = []

    class CheckingObserver(RecordingObserver):
        async def storage_written(self, obj: StoredObject) -> None:
            seen_rows.append(len(await rows(db, obj.execution_id)))
            await super().storage_written(obj)

    observer = CheckingObserver()
    storage = ExecutionStorageService(
        db, LocalFileStorage(tmp_path / "store"), execution_id, observer
    )
    a = await storage.put("a", b"1")
    b = await storage.put("b", b"22")
    assert observer.seen == [a, b]
    assert seen_rows == [1, 2]


async def test_one_object_row_is_read_by_execution_and_key(db: Database, tmp_path: Path) -> None:
    execution_id, other = await make_execution(db), await make_execution(db)
    backend = LocalFileStorage(tmp_path / "store")
    stored = await ExecutionStorageService(db, backend, execution_id).put(
        "x.json", b"{}", content_type="application/json", route="sink", message_id="m1"
    )
    async with db.connect() as conn:
        record = await get_storage_object(conn, execution_id, "x.json")
        assert await get_storage_object(conn, execution_id, "y.json") is None
        assert await get_storage_object(conn, other, "x.json") is None
    assert record is not None
    assert record.to_stored_object(stored.location) == stored


async def test_listing_pages_by_id(db: Database, tmp_path: Path) -> None:
    execution_id = await make_execution(db)
    storage = ExecutionStorageService(db, LocalFileStorage(tmp_path / "store"), execution_id)
    for i in range(7):
        await storage.put(f"obj/{i}", b"x" * i)
    await storage.put("obj/3", b"overwritten")  # keeps its place in the order
    keys: list[str] = []
    after: int | None = None
    async with db.connect() as conn:
        while True:
            page = await list_storage_objects(conn, execution_id, after_id=after, limit=3)
            keys.extend(r.key for r in page)
            if len(page) < 3:
                break
            after = page[-1].id
        with pytest.raises(InvalidInputError, match="between 1 and"):
            await list_storage_objects(conn, execution_id, limit=0)
    assert keys == [f"obj/{i}" for i in range(7)]
    assert [o.key for o in await storage.list()] == keys


async def test_totals_for_many_executions_in_one_query(db: Database, tmp_path: Path) -> None:
    backend = LocalFileStorage(tmp_path / "store")
    a, b, empty = [await make_execution(db) for _ in range(3)]
    for i in range(3):
        await ExecutionStorageService(db, backend, a).put(f"f{i}", b"x" * 10)
    await ExecutionStorageService(db, backend, b).put("only", b"12345")

    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "storage_objects" in statement:
            statements.append(statement)

    for engine in db.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db.connect() as conn:
            totals = await storage_totals(conn, [a, b, empty, a])
            assert await storage_totals(conn, []) == {}
    finally:
        for engine in db.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert totals == {a: StorageTotals(3, 30), b: StorageTotals(1, 5), empty: StorageTotals(0, 0)}
    async with db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(storage_objects))).scalar() == 4
