"""FactFlow side: a service on a throwaway database and trivial bench components.

The components are registered in the service's ``Registry`` like any plugin:
``bench_range`` (adapter: the integers 0..n-1), ``bench_pass``,
``bench_fanout`` (one payload in, ``k`` out) and ``bench_gate`` (waits until the
harness opens it, stamps the clock as it returns: the moment the last message
settles, for completion detection).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from factflow_engine import ComponentOptions, Registry
from factflow_execution import ExecutionService, OrchestratorFactory
from factflow_foundation import FactFlowSettings
from factflow_infra import InProcessEventBus
from factflow_protocols import AdapterContext, Message, ProcessorContext
from pydantic import Field

from bench._core import timer_ms

__all__ = ["GATES", "Gates", "StampingBus", "bench_registry", "open_service"]


class Gates:
    """Per-execution gates the ``bench_gate`` processor waits on."""

    def __init__(self) -> None:
        self._open: dict[str, asyncio.Event] = {}
        self._entered: dict[str, asyncio.Event] = {}
        self.released_at: dict[str, float] = {}
        self.entered_count = 0
        self._count_changed = asyncio.Event()

    def _event(self, table: dict[str, asyncio.Event], key: str) -> asyncio.Event:
        event = table.get(key)
        if event is None:
            event = table[key] = asyncio.Event()
        return event

    async def pass_through(self, execution_id: str) -> None:
        self._event(self._entered, execution_id).set()
        self.entered_count += 1
        self._count_changed.set()
        await self._event(self._open, execution_id).wait()

    async def entered(self, execution_id: str) -> None:
        await self._event(self._entered, execution_id).wait()

    async def until_entered(self, count: int) -> None:
        while self.entered_count < count:
            self._count_changed.clear()
            await self._count_changed.wait()

    def open(self, execution_id: str) -> None:
        self._event(self._open, execution_id).set()

    def forget(self, execution_id: str) -> None:
        self._open.pop(execution_id, None)
        self._entered.pop(execution_id, None)
        self.released_at.pop(execution_id, None)


GATES = Gates()


class StampingBus(InProcessEventBus):
    """The in-process bus, noting when each execution's terminal event is published
    (right after its transaction commits)."""

    def __init__(self) -> None:
        super().__init__()
        self.terminal_published_at: dict[str, float] = {}

    def publish(self, topic: str, payload: Any) -> None:
        if getattr(payload, "terminal", False):
            self.terminal_published_at[payload.execution_id] = timer_ms()
        super().publish(topic, payload)


class BenchRange:
    """Adapter: yields ``0..n-1``."""

    class Options(ComponentOptions):
        n: int = Field(ge=0)

    def __init__(self, options: Options) -> None:
        self.options = options

    async def produce(self, ctx: AdapterContext) -> AsyncIterator[Any]:
        for i in range(self.options.n):
            yield i


class BenchPass:
    """Processor: returns its payload."""

    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return message.payload


class BenchFanout:
    """Processor: one payload in, ``k`` small payloads out."""

    class Options(ComponentOptions):
        k: int = Field(default=10, ge=1)

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return list(range(self.options.k))


class BenchGate:
    """Processor: waits for ``GATES.open(execution_id)``, stamps the time, passes on."""

    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        await GATES.pass_through(ctx.execution_id)
        GATES.released_at[ctx.execution_id] = timer_ms()
        return message.payload


def bench_registry() -> Registry:
    """The built-ins plus the bench components."""
    registry = Registry.from_entry_points()
    registry.register_adapter("bench_range", BenchRange)
    registry.register_processor("bench_pass", BenchPass)
    registry.register_processor("bench_fanout", BenchFanout)
    registry.register_processor("bench_gate", BenchGate)
    return registry


def bench_settings(url: str, data_dir: Path, **overrides: Any) -> FactFlowSettings:
    return FactFlowSettings(database_url=url, data_dir=data_dir, **overrides)


@asynccontextmanager
async def open_service(
    url: str,
    data_dir: Path,
    *,
    migrate: bool = True,
    owner_id: str | None = None,
    orchestrators: OrchestratorFactory | None = None,
    **overrides: Any,
) -> AsyncIterator[ExecutionService]:
    """A started ``ExecutionService`` on ``url``; shut down and disposed afterwards."""
    settings = bench_settings(url, data_dir, **overrides)
    service = ExecutionService.from_settings(
        settings,
        registry=bench_registry(),
        owner_id=owner_id,
        bus=StampingBus(),
        orchestrators=orchestrators,
    )
    await service.startup(migrate=migrate)
    try:
        yield service
    finally:
        await service.shutdown(grace=0)
        await service.db.dispose()


def trivial_config(name: str = "bench-trivial") -> Mapping[str, Any]:
    """One source route producing one message, no processors."""
    return {
        "name": name,
        "routes": {"src": {"adapter": {"type": "inline", "with": {"items": [1]}}}},
    }


def gated_config(name: str = "bench-gated") -> Mapping[str, Any]:
    """One message that waits at a gate the harness opens."""
    return {
        "name": name,
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": [1]}},
                "processors": [{"type": "bench_gate"}],
                "concurrency": 1,
            }
        },
    }
