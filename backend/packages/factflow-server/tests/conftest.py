"""Fixtures: the app over a real ExecutionService on the parametrised database
(SQLite and PostgreSQL), an httpx client through ASGI, an in-process uvicorn on a
free loopback port, gate processors and an event bus whose subscriber count can
be awaited (tests synchronise on events, never on sleeps)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from factflow_engine import Registry
from factflow_engine.testing import Gates, gate_processor
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_infra import InProcessEventBus
from factflow_infra.db import Database
from factflow_server import create_app
from fastapi import FastAPI

API = "/api/v1"
YAML = {"content-type": "application/yaml"}


# -- synchronisation helpers ---------------------------------------------------------


class TrackingBus(InProcessEventBus):
    """The in-process bus, plus a way to await a given number of subscribers."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = asyncio.Event()

    def subscribe(self, topic: str) -> Any:
        subscription = super().subscribe(topic)
        self._signal()
        return subscription

    def _remove(self, subscription: Any) -> None:
        super()._remove(subscription)
        self._signal()

    def _signal(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_count(self, count: int, timeout: float = 60.0) -> None:
        """Until exactly ``count`` subscriptions are open (the timeout only guards a hang)."""

        async def _wait() -> None:
            while True:
                changed = self._changed
                if self.subscriber_count() == count:
                    return
                await changed.wait()

        await asyncio.wait_for(_wait(), timeout)


# -- configs -------------------------------------------------------------------------------


def inline_config(name: str = "t", *, items: list[Any] | None = None) -> dict[str, Any]:
    """An inline source 'src' that stores each item and feeds a sink."""
    return {
        "name": name,
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": items or [{"n": 1}]}},
                "processors": [{"type": "storage_write"}],
                "to": ["sink"],
            },
            "sink": {},
        },
    }


def gated_config(name: str = "t", *, items: int = 3) -> dict[str, Any]:
    """src → hold (waits on gate 'default') → sink."""
    return {
        "name": name,
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": [{"i": i} for i in range(items)]}},
                "to": ["hold"],
            },
            "hold": {"processors": [{"type": "gate"}], "to": ["sink"]},
            "sink": {},
        },
    }


def failing_config(name: str = "f") -> dict[str, Any]:
    """Three items; the sink fails the one with i == 1."""
    return {
        "name": name,
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": [{"i": 0}, {"i": 1}, {"i": 2}]}},
                "to": ["sink"],
            },
            "sink": {"processors": [{"type": "fail", "with": {"when": {"i": 1}}}]},
        },
    }


# -- SSE -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    id: int
    event: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.event == "status" and self.data["data"]["status"] in {
            "completed",
            "failed",
            "cancelled",
            "interrupted",
        }


def _frame(fields: dict[str, str]) -> Frame:
    return Frame(id=int(fields["id"]), event=fields["event"], data=json.loads(fields["data"]))


def parse_sse(text: str) -> list[Frame]:
    """Frames of a complete SSE body (comment lines skipped)."""
    frames: list[Frame] = []
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line:
            if fields:
                frames.append(_frame(fields))
                fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    if fields:
        frames.append(_frame(fields))
    return frames


async def iter_sse(response: httpx.Response) -> AsyncIterator[Frame]:
    """Frames of a streaming SSE response as they arrive."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if fields:
                yield _frame(fields)
                fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


# -- services, apps, clients ---------------------------------------------------------------


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
def registry(gates: Gates) -> Registry:
    registry = Registry.from_entry_points()
    registry.register_processor("gate", gate_processor(gates))
    return registry


ServiceFactory = Callable[..., Any]


@pytest.fixture
async def make_service(
    settings: FactFlowSettings, db: Database, registry: Registry
) -> AsyncIterator[ServiceFactory]:
    """Build started services on the test database (settings overridable); all are
    shut down at the end."""
    made: list[ExecutionService] = []

    async def _make(**overrides: Any) -> ExecutionService:
        bus = overrides.pop("bus", None)
        svc = ExecutionService.from_settings(
            settings.model_copy(update=overrides), db=db, registry=registry, bus=bus
        )
        await svc.startup()
        made.append(svc)
        return svc

    yield _make
    for svc in made:
        await svc.shutdown(grace=0)


@pytest.fixture
async def service(make_service: ServiceFactory) -> ExecutionService:
    svc: ExecutionService = await make_service()
    return svc


@pytest.fixture
def app(settings: FactFlowSettings, service: ExecutionService) -> FastAPI:
    return create_app(settings, service=service)


@asynccontextmanager
async def asgi_client(app: FastAPI, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", **kwargs) as c:
        yield c


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as c:
        yield c


def listening_socket() -> socket.socket:
    """A socket bound to a free loopback port and already listening: clients may
    connect at once and wait in the backlog until the server accepts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


@asynccontextmanager
async def serve_in_process(app: FastAPI) -> AsyncIterator[str]:
    """Run uvicorn as a task of this event loop; yields the base URL."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5, backlog=1024
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def run_to_end(client: httpx.AsyncClient, config: str = "t", **body: Any) -> dict[str, Any]:
    """Run a stored config through the API and wait (long-poll) until it is terminal."""
    response = await client.post(f"{API}/configs/{config}/run", json=body)
    assert response.status_code == 202, response.text
    execution_id = response.json()["id"]
    waited = await client.get(f"{API}/executions/{execution_id}/wait", params={"timeout": 60})
    assert waited.status_code == 200 and not waited.json()["timed_out"], waited.text
    result: dict[str, Any] = waited.json()
    return result


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of this status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:factflow:problem:{code}", body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["instance"] == response.request.url.raw_path.split(b"?")[0].decode()
    return body
