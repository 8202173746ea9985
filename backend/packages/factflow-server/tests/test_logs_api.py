"""``GET /executions/{id}/logs`` and ``…/logs/stream``: a run's log, paged and followed
(SSE over a real uvicorn: live frames, Last-Event-ID resume, disconnects)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_server import ServerSettings, create_app

from .conftest import (
    API,
    Gates,
    ServiceFactory,
    TrackingBus,
    assert_problem,
    failing_config,
    run_to_end,
    serve_in_process,
)

Frame = tuple[int | None, str, dict[str, Any]]


def _frames(lines: Iterable[str]) -> list[Frame]:
    """(id, event, data) of each frame; the closing status frame has no id."""
    frames: list[Frame] = []
    fields: dict[str, str] = {}
    for line in [*lines, ""]:
        if not line and fields:
            seq = int(fields["id"]) if "id" in fields else None
            frames.append((seq, fields["event"], json.loads(fields["data"])))
            fields = {}
        elif line and not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    return frames


def _gated_failure() -> dict[str, Any]:
    """src → hold (gate) → sink, which fails the item with i == 1."""
    config = failing_config("f")
    config["routes"]["src"]["to"] = ["hold"]
    config["routes"]["hold"] = {"processors": [{"type": "gate"}], "to": ["sink"]}
    return config


async def _failed_message(client: httpx.AsyncClient, execution_id: str) -> str:
    url = f"{API}/executions/{execution_id}/lineage"
    failed = (await client.get(url, params={"status": "failed"})).json()["items"]
    assert len(failed) == 1
    message_id: str = failed[0]["message_id"]
    return message_id


async def test_the_log_of_a_run_with_a_failure_pages_and_filters(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/configs", json=failing_config())
    execution_id = (await run_to_end(client, "f"))["execution_id"]
    url = f"{API}/executions/{execution_id}/logs"
    body = (await client.get(url)).json()
    assert body["next_after"] is None
    attempts = [r for r in body["items"] if r["traceback"]]
    assert [(r["level"], r["attempt"]) for r in attempts] == [
        ("info", 1),
        ("info", 2),
        ("warning", 3),
    ]
    failure = attempts[-1]
    assert failure["level_no"] == 30 and failure["route"] == "sink"
    assert failure["message_id"] == await _failed_message(client, execution_id)
    assert "Traceback (most recent call last)" in failure["traceback"]
    assert set(failure) == {
        "execution_id",
        "seq",
        "at",
        "level",
        "level_no",
        "logger",
        "route",
        "message_id",
        "attempt",
        "message",
        "traceback",
    }

    by_message = (await client.get(url, params={"message_id": failure["message_id"]})).json()
    assert failure in by_message["items"]
    assert {r["message_id"] for r in by_message["items"]} == {failure["message_id"]}
    errors = (await client.get(url, params={"level": "error"})).json()["items"]
    assert all(r["level_no"] >= 40 for r in errors) and failure not in errors
    first = (await client.get(url, params={"limit": 1})).json()
    assert first["next_after"] == body["items"][0]["seq"]

    assert_problem(await client.get(url, params={"level": "loud"}), 422, "invalid-request")
    assert_problem(await client.get(url, params={"after": -1}), 422, "invalid-request")
    assert_problem(await client.get(url, params={"mesage_id": "x"}), 422, "invalid-request")
    missing = f"{API}/executions/00000000-0000-0000-0000-000000000000/logs"
    assert_problem(await client.get(missing), 404, "execution-not-found")
    assert_problem(await client.get(f"{missing}/stream"), 404, "execution-not-found")


async def test_the_stream_of_a_finished_run_is_its_backlog_and_resumes_by_id(
    client: httpx.AsyncClient,
) -> None:
    await client.post(f"{API}/configs", json=failing_config())
    execution_id = (await run_to_end(client, "f"))["execution_id"]
    url = f"{API}/executions/{execution_id}/logs"
    stored = (await client.get(url)).json()["items"]
    *frames, end = _frames((await client.get(f"{url}/stream")).text.splitlines())
    assert [seq for seq, _, _ in frames] == [r["seq"] for r in stored]
    assert {event for _, event, _ in frames} == {"log"}
    assert [data for _, _, data in frames] == stored
    assert end == (
        None,
        "status",
        {"execution_id": execution_id, "kind": "status", "data": {"status": "completed"}},
    )
    resumed = await client.get(f"{url}/stream", headers={"Last-Event-ID": str(stored[0]["seq"])})
    assert [seq for seq, _, _ in _frames(resumed.text.splitlines())] == [
        *(r["seq"] for r in stored[1:]),
        None,
    ]


@pytest.fixture
async def live(
    settings: FactFlowSettings, make_service: ServiceFactory
) -> AsyncIterator[tuple[str, TrackingBus, ExecutionService]]:
    bus = TrackingBus()
    service = await make_service(bus=bus)
    tuned = ServerSettings.from_base(settings).model_copy(update={"sse_heartbeat": 0.2})
    async with serve_in_process(create_app(tuned, service=service)) as base_url:
        yield base_url, bus, service


async def test_following_a_running_execution_over_http_gets_its_failures_live(
    live: tuple[str, TrackingBus, ExecutionService], gates: Gates
) -> None:
    base_url, bus, service = live
    await service.save_config(_gated_failure())
    execution = await service.run("f")
    await gates.wait_entered("default", 1)
    url = f"{API}/executions/{execution.id}/logs/stream"
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        going_away = await client.send(client.build_request("GET", url), stream=True)
        async with client.stream("GET", url, params={"level": "warning"}) as response:
            await bus.wait_for_count(4)  # two subscriptions per follower
            await going_away.aclose()
            await bus.wait_for_count(2)
            assert (await service.get(execution.id)).status == "running"
            gates.open()
            frames = _frames([line async for line in response.aiter_lines()])
    (_, _, failure), end = frames
    assert failure["message"].split(":")[0] == (
        f"message {failure['message_id']} failed at route 'sink' after 3 attempt(s)"
    )
    assert end[1:] == (
        "status",
        {"execution_id": execution.id, "kind": "status", "data": {"status": "completed"}},
    )
    assert (await service.get(execution.id)).terminal
    await bus.wait_for_count(0)
