"""Lineage and storage listings, object download, and the SSE streams (backlog, resume)."""

from __future__ import annotations

import httpx
from factflow_execution import ExecutionService
from factflow_execution._events import read_events
from factflow_server._schemas import ExecutionEventOut

from .conftest import API, assert_problem, inline_config, parse_sse, run_to_end

ITEMS = [{"n": i, "text": f"item {i}"} for i in range(5)]


async def _finished_run(client: httpx.AsyncClient) -> str:
    await client.post(f"{API}/configs", json=inline_config(items=ITEMS))
    result = await run_to_end(client)
    assert result["status"] == "completed"
    execution_id: str = result["execution_id"]
    return execution_id


async def test_lineage_pages_filters_and_payloads(client: httpx.AsyncClient) -> None:
    execution_id = await _finished_run(client)
    url = f"{API}/executions/{execution_id}/lineage"
    everything = (await client.get(url)).json()
    assert len(everything["items"]) == 10 and everything["next_after"] is None
    record = everything["items"][0]
    assert record["execution_id"] == execution_id and record["status"] == "processed"
    assert record["payload"] in ITEMS or "stored_key" in record["payload"]

    seen: list[int] = []
    after = None
    while True:
        params: dict[str, int] = {"limit": 3}
        if after is not None:
            params["after"] = after
        page = (await client.get(url, params=params)).json()
        seen.extend(r["id"] for r in page["items"])
        after = page["next_after"]
        if after is None:
            break
    assert seen == [r["id"] for r in everything["items"]]

    sink = (await client.get(url, params={"route": "sink"})).json()["items"]
    assert len(sink) == 5 and {r["route"] for r in sink} == {"sink"}
    assert (await client.get(url, params={"status": "failed"})).json()["items"] == []
    assert_problem(await client.get(url, params={"status": "lost"}), 422, "invalid-request")
    assert_problem(await client.get(url, params={"limit": 0}), 422, "invalid-request")
    assert_problem(await client.get(url, params={"after": -1}), 422, "invalid-request")


async def test_storage_objects_list_and_download(client: httpx.AsyncClient) -> None:
    execution_id = await _finished_run(client)
    url = f"{API}/executions/{execution_id}/storage/objects"
    listing = (await client.get(url)).json()
    assert len(listing["items"]) == 5 and listing["next_after"] is None
    first = listing["items"][0]
    assert set(first) == {
        "id",
        "key",
        "size",
        "checksum",
        "content_type",
        "route",
        "message_id",
        "written_at",
    }
    page = (await client.get(url, params={"limit": 2})).json()
    assert len(page["items"]) == 2 and page["next_after"] == page["items"][1]["id"]
    rest = (await client.get(url, params={"after": page["next_after"]})).json()
    assert [o["id"] for o in page["items"] + rest["items"]] == [o["id"] for o in listing["items"]]

    download = await client.get(f"{url}/{first['key']}")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert len(download.content) == first["size"]
    name = first["key"].rsplit("/", 1)[-1]
    assert download.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert download.json()["text"].startswith("item ")

    # Conditional GET (D11): the ETag is the SHA-256; naming it again gets a bodiless 304.
    etag = download.headers["etag"]
    assert etag == f'"{first["checksum"]}"'
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        unchanged = await client.get(
            f"{url}/{first['key']}", headers={"If-None-Match": if_none_match}
        )
        assert unchanged.status_code == 304, if_none_match
        assert unchanged.content == b"" and unchanged.headers["etag"] == etag
    changed = await client.get(f"{url}/{first['key']}", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200 and len(changed.content) == first["size"]

    missing = await client.get(f"{url}/src/missing.json")
    assert_problem(missing, 404, "not-found")
    backslash = await client.get(f"{url}/a%5Cb")
    body = assert_problem(backslash, 422, "invalid-storage-key")
    assert "backslash" in body["detail"]
    dots = await client.get(f"{url}/a/%2E%2E/b")
    assert dots.status_code in (404, 422)  # a client may normalise the path itself


async def test_event_stream_of_a_finished_run_replays_every_event_then_ends(
    client: httpx.AsyncClient, service: ExecutionService
) -> None:
    execution_id = await _finished_run(client)
    response = await client.get(f"{API}/executions/{execution_id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    frames = parse_sse(response.text)
    async with service.db.connect() as conn:
        stored = await read_events(conn, execution_id)
    assert [f.id for f in frames] == [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert [f.event for f in frames] == [e.kind for e in stored]
    assert frames[0].data == {
        "execution_id": execution_id,
        "seq": 1,
        "kind": "status",
        "data": {"status": "pending"},
        "at": frames[0].data["at"],
    }
    assert frames[-1].terminal and frames[-1].data["data"]["status"] == "completed"
    for frame in frames:  # the documented ExecutionEvent schema
        ExecutionEventOut.model_validate(frame.data)
    assert service.bus.subscriber_count() == 0


async def test_resume_with_after_or_last_event_id(client: httpx.AsyncClient) -> None:
    execution_id = await _finished_run(client)
    url = f"{API}/executions/{execution_id}/events"
    all_ids = [f.id for f in parse_sse((await client.get(url)).text)]
    resumed = parse_sse((await client.get(url, params={"after": 3})).text)
    assert [f.id for f in resumed] == all_ids[3:]
    by_header = parse_sse((await client.get(url, headers={"Last-Event-ID": "5"})).text)
    assert [f.id for f in by_header] == all_ids[5:]
    header_wins = await client.get(url, params={"after": 1}, headers={"Last-Event-ID": "6"})
    assert [f.id for f in parse_sse(header_wins.text)] == all_ids[6:]
    past_the_end = await client.get(url, params={"after": all_ids[-1]})
    assert past_the_end.status_code == 200 and parse_sse(past_the_end.text) == []
    bad = await client.get(url, headers={"Last-Event-ID": "seven"})
    body = assert_problem(bad, 422, "invalid-request")
    assert body["issues"][0]["path"] == "header.Last-Event-ID"
    assert_problem(await client.get(url, params={"after": -1}), 422, "invalid-request")


async def test_storage_event_stream_has_only_writes_then_the_terminal_status(
    client: httpx.AsyncClient,
) -> None:
    execution_id = await _finished_run(client)
    url = f"{API}/executions/{execution_id}/storage/events"
    frames = parse_sse((await client.get(url)).text)
    assert [f.event for f in frames] == ["storage.written"] * 5 + ["status"]
    assert frames[-1].terminal
    keys = {f.data["data"]["key"] for f in frames[:-1]}
    listing = (await client.get(f"{API}/executions/{execution_id}/storage/objects")).json()
    assert keys == {o["key"] for o in listing["items"]}
    resumed = parse_sse((await client.get(url, params={"after": frames[2].id})).text)
    assert [f.id for f in resumed] == [f.id for f in frames[3:]]
