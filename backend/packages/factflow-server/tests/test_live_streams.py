"""Live SSE over a real uvicorn (in this process, so the event bus can be inspected):
200 concurrent subscribers, clients that go away mid-stream, heartbeats, long-poll
disconnects.  Every step synchronises on frames read or subscriber counts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from factflow_execution import ExecutionEvent, ExecutionService
from factflow_execution._channels import Wakeup
from factflow_foundation import FactFlowSettings
from factflow_server import ServerSettings, create_app

from .conftest import (
    API,
    Frame,
    Gates,
    ServiceFactory,
    TrackingBus,
    gated_config,
    iter_sse,
    serve_in_process,
)

SUBSCRIBERS = 200


@dataclass(frozen=True)
class Live:
    base_url: str
    bus: TrackingBus
    service: ExecutionService


@pytest.fixture
async def live(settings: FactFlowSettings, make_service: ServiceFactory) -> AsyncIterator[Live]:
    """A running uvicorn over a service whose bus counts subscribers."""
    bus = TrackingBus()
    service = await make_service(bus=bus)
    tuned = ServerSettings.from_base(settings).model_copy(update={"sse_heartbeat": 0.2})
    async with serve_in_process(create_app(tuned, service=service)) as base_url:
        yield Live(base_url, bus, service)


async def test_200_concurrent_subscribers_all_get_the_terminal_event_and_leave_nothing(
    live: Live, gates: Gates
) -> None:
    base_url, bus, service = live.base_url, live.bus, live.service
    await service.save_config(gated_config())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    url = f"{API}/executions/{execution.id}/events"
    first_frames = 0
    everyone_in = asyncio.Event()

    async def subscriber(client: httpx.AsyncClient) -> list[Frame]:
        nonlocal first_frames
        frames: list[Frame] = []
        async with client.stream("GET", url) as response:
            assert response.status_code == 200
            async for frame in iter_sse(response):
                frames.append(frame)
                if len(frames) == 1:
                    first_frames += 1  # subscribed: the backlog has started
                    if first_frames == SUBSCRIBERS:
                        everyone_in.set()
        return frames  # read to the end of the stream

    limits = httpx.Limits(max_connections=SUBSCRIBERS + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        tasks = [asyncio.create_task(subscriber(client)) for _ in range(SUBSCRIBERS)]
        await asyncio.wait_for(everyone_in.wait(), 120)
        assert bus.subscriber_count() == SUBSCRIBERS
        gates.open()
        results = await asyncio.gather(*tasks)
    expected = [f.id for f in results[0]]
    assert expected == list(range(1, len(expected) + 1))
    for frames in results:
        assert [f.id for f in frames] == expected  # every event, once, in order
        assert frames[-1].terminal and frames[-1].data["data"]["status"] == "completed"
    assert service.bus.subscriber_count() == 0


async def test_clients_that_go_away_mid_stream_free_their_subscriptions_at_once(
    live: Live, gates: Gates
) -> None:
    base_url, bus, service = live.base_url, live.bus, live.service
    await service.save_config(gated_config())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for path in ("events", "storage/events"):
            responses = []
            for _ in range(10):
                request = client.build_request("GET", f"{API}/executions/{execution.id}/{path}")
                responses.append(await client.send(request, stream=True))
            await bus.wait_for_count(10)
            for response in responses:
                await response.aclose()  # disconnect while the run is still going
            await bus.wait_for_count(0)
    gates.open()
    result = await service.wait(execution.id, timeout=60)
    assert result.status == "completed"


async def test_idle_streams_carry_comment_heartbeats(live: Live, gates: Gates) -> None:
    base_url, service = live.base_url, live.service
    await service.save_config(gated_config())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
        client.stream("GET", f"{API}/executions/{execution.id}/storage/events") as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith(":"):
                break  # a heartbeat: nothing else can arrive while the gate is shut
    gates.open()
    await service.wait(execution.id, timeout=60)


async def test_a_long_poll_whose_client_goes_away_stops_waiting(live: Live, gates: Gates) -> None:
    base_url, bus, service = live.base_url, live.bus, live.service
    await service.save_config(gated_config())
    execution = await service.run("t")
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        poll = asyncio.create_task(
            client.get(f"{API}/executions/{execution.id}/wait", params={"timeout": 300})
        )
        await bus.wait_for_count(1)  # the waiter is subscribed
        poll.cancel()  # the client closes the connection
        await bus.wait_for_count(0)  # and the server stops waiting at once
    gates.open()
    assert (await service.wait(execution.id, timeout=60)).status == "completed"


class WakeupOnlyBus(TrackingBus):
    """Delivers every execution event as a bare wake-up, as another process's
    events reach this one (PostgreSQL NOTIFY): the stream must read the log and
    the row to know what happened."""

    def publish(self, topic: str, payload: Any) -> None:
        if isinstance(payload, ExecutionEvent):
            payload = Wakeup(payload.execution_id, payload.seq)
        super().publish(topic, payload)


@pytest.mark.parametrize("wakeups_only", [False, True], ids=["events", "wakeups"])
async def test_streams_resumed_past_the_last_event_close_when_the_run_ends(
    settings: FactFlowSettings, make_service: ServiceFactory, gates: Gates, wakeups_only: bool
) -> None:
    bus = WakeupOnlyBus() if wakeups_only else TrackingBus()
    service = await make_service(bus=bus)
    tuned = ServerSettings.from_base(settings).model_copy(update={"sse_heartbeat": 0.2})
    await service.save_config(gated_config())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    async with (
        serve_in_process(create_app(tuned, service=service)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        baseline = bus.subscriber_count()
        responses = []
        for path in ("events", "storage/events"):
            request = client.build_request(
                "GET",
                f"{API}/executions/{execution.id}/{path}",
                headers={"Last-Event-ID": "1000000"},
            )
            responses.append(await client.send(request, stream=True))
        await bus.wait_for_count(baseline + 2)  # both streams are live
        gates.open()

        async def frames_until_closed(response: httpx.Response) -> list[Frame]:
            return [frame async for frame in iter_sse(response)]

        # the guard only turns a stream that never closes into a failure
        ended = await asyncio.wait_for(
            asyncio.gather(*(frames_until_closed(r) for r in responses)), 120
        )
        for response in responses:
            await response.aclose()
    assert ended == [[], []]  # nothing after seq 1000000, and closed once the run ended
    assert (await service.wait(execution.id, timeout=60)).status == "completed"
