"""A run's objects as one streamed tar archive, and byte ranges of one object."""

from __future__ import annotations

import hashlib
import io
import tarfile

import httpx
import pytest
from factflow_foundation import utcnow
from factflow_infra.storage import StorageObjectRecord
from factflow_server._downloads import byte_range
from starlette.exceptions import HTTPException

from .conftest import API, assert_problem, inline_config, run_to_end

ITEMS = [{"n": i, "text": f"item {i} " + "x" * (i * 700)} for i in range(6)]


async def _finished_run(client: httpx.AsyncClient) -> str:
    await client.post(f"{API}/configs", json=inline_config(items=ITEMS))
    result = await run_to_end(client)
    assert result["status"] == "completed"
    execution_id: str = result["execution_id"]
    return execution_id


async def test_archive_holds_every_object_with_its_key_and_bytes(client: httpx.AsyncClient) -> None:
    execution_id = await _finished_run(client)
    listing = (await client.get(f"{API}/executions/{execution_id}/storage/objects")).json()
    async with client.stream("GET", f"{API}/executions/{execution_id}/storage/archive") as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/x-tar"
        assert reply.headers["content-disposition"] == (
            f'attachment; filename="{execution_id}.tar"'
        )
        assert "content-length" not in reply.headers  # streamed, not built in memory
        body = b"".join([chunk async for chunk in reply.aiter_bytes()])
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == [o["key"] for o in listing["items"]]
        for member, obj in zip(members, listing["items"], strict=True):
            data = archive.extractfile(member).read()  # type: ignore[union-attr]
            assert len(data) == obj["size"] == member.size
            assert hashlib.sha256(data).hexdigest() == obj["checksum"]


async def test_archive_of_a_run_without_objects_is_an_empty_tar(
    client: httpx.AsyncClient,
) -> None:
    bare = {
        "name": "bare",
        "routes": {"src": {"adapter": {"type": "inline", "with": {"items": [1]}}}},
    }
    await client.post(f"{API}/configs", json=bare)
    result = await run_to_end(client, "bare")
    reply = await client.get(f"{API}/executions/{result['execution_id']}/storage/archive")
    assert reply.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(reply.content)) as archive:
        assert archive.getmembers() == []


async def test_archive_of_an_unknown_execution_is_404(client: httpx.AsyncClient) -> None:
    reply = await client.get(
        f"{API}/executions/0199a3f2-0000-7000-8000-000000000000/storage/archive"
    )
    assert_problem(reply, 404, "execution-not-found")


async def test_ranges_of_one_object(client: httpx.AsyncClient) -> None:
    execution_id = await _finished_run(client)
    url = f"{API}/executions/{execution_id}/storage/objects"
    obj = (await client.get(url)).json()["items"][-1]
    whole = await client.get(f"{url}/{obj['key']}")
    assert whole.headers["accept-ranges"] == "bytes"
    data, size, etag = whole.content, obj["size"], whole.headers["etag"]

    for header, first, last in (
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, size - 1),
        ("bytes=-50", size - 50, size - 1),
        (f"bytes=10-{size + 1000}", 10, size - 1),
    ):
        part = await client.get(f"{url}/{obj['key']}", headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == data[first : last + 1]
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert part.headers["etag"] == etag

    outside = await client.get(f"{url}/{obj['key']}", headers={"Range": f"bytes={size}-"})
    assert_problem(outside, 416, "range-not-satisfiable")
    assert outside.headers["content-range"] == f"bytes */{size}"

    # Several ranges, another unit, or a stale If-Range: the whole object.
    for headers in (
        {"Range": "bytes=0-1,5-6"},
        {"Range": "items=0-1"},
        {"Range": "bytes=0-9", "If-Range": '"stale"'},
    ):
        full = await client.get(f"{url}/{obj['key']}", headers=headers)
        assert full.status_code == 200 and full.content == data, headers
    current = await client.get(
        f"{url}/{obj['key']}", headers={"Range": "bytes=0-9", "If-Range": etag}
    )
    assert current.status_code == 206 and current.content == data[:10]


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=9-", 10, (9, 9)),
        ("bytes=-20", 10, (0, 9)),
        ("bytes = 2 - 4", 10, (2, 4)),
        ("bytes=5-2", 10, None),  # invalid: ignored
        ("bytes=-", 10, None),
        ("pages=1-2", 10, None),
    ],
)
def test_byte_range_parsing(header: str | None, size: int, expected: object) -> None:
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=-5", 0)])
def test_unsatisfiable_ranges_are_416(header: str, size: int) -> None:
    with pytest.raises(HTTPException) as caught:
        byte_range(header, size)
    assert caught.value.status_code == 416
    assert caught.value.headers == {"Content-Range": f"bytes */{size}"}


def test_archive_members_keep_unicode_keys_and_write_times() -> None:
    from factflow_infra.storage.archive import _header

    when = utcnow()
    record = StorageObjectRecord(1, "e", "dir/ünï ✓.txt", 3, "c", "text/plain", None, None, when)
    body = _header(record, 3) + b"abc" + bytes(509) + bytes(1024)
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        (member,) = archive.getmembers()
        assert (member.name, member.size, member.mtime) == (
            "dir/ünï ✓.txt",
            3,
            int(when.timestamp()),
        )
        assert archive.extractfile(member).read() == b"abc"  # type: ignore[union-attr]
