"""Engine test fixtures: a registry with test processors and a harness that runs pipelines.

Test processors synchronise through ``Gate`` (asyncio conditions and
counters), never through sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from factflow_engine import (
    ComponentOptions,
    FileAccess,
    PipelineOrchestrator,
    Registry,
    ResolvedPipeline,
    RouteDirectory,
    load_definition,
    resolve,
)
from factflow_engine.testing import (
    InMemoryExecutionStorage,
    InMemoryLineageSink,
    RecordingCallback,
)
from factflow_infra import InMemoryQueueBackend
from factflow_protocols import Message, ProcessorContext, RunOutcome


class Gate:
    """Shared state of the ``hold`` processor: counts entries and holds them until opened."""

    def __init__(self) -> None:
        self.entered = 0
        self.left = 0
        self.active = 0  # calls inside the processor right now (interrupted ones included)
        self.opened = asyncio.Event()
        self.changed = asyncio.Condition()

    async def wait_entered(self, count: int) -> None:
        """Return once ``count`` messages have entered the processor."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.entered >= count)

    async def arrive(self) -> None:
        async with self.changed:
            self.entered += 1
            self.changed.notify_all()

    def open(self) -> None:
        self.opened.set()


def make_hold_processor(gate: Gate) -> type:
    """A processor that blocks every message on ``gate`` until it is opened."""

    class Hold:
        class Options(ComponentOptions):
            pass

        def __init__(self, options: Options) -> None:
            self.options = options

        async def process(self, message: Message, ctx: ProcessorContext) -> Any:
            gate.active += 1
            try:
                await gate.arrive()
                await gate.opened.wait()
                gate.left += 1
                return message.payload
            finally:
                gate.active -= 1

    return Hold


class Double:
    """Fans each number out into two: ``n * 10`` and ``n * 10 + 1``."""

    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        n = message.payload
        return [n * 10, n * 10 + 1]


class Odd:
    """Keeps odd numbers (``None`` for even ones)."""

    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return message.payload if message.payload % 2 else None


@dataclass
class Run:
    """One finished (or running) orchestrated execution and everything it touched."""

    orchestrator: PipelineOrchestrator
    pipeline: ResolvedPipeline
    lineage: InMemoryLineageSink
    storage: InMemoryExecutionStorage
    callback: RecordingCallback
    queues: InMemoryQueueBackend
    outcome: RunOutcome | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def statuses(self, route: str | None = None) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.lineage.entries:
            if route is None or entry.route == route:
                counts[entry.status] = counts.get(entry.status, 0) + 1
        return counts


class Harness:
    """Builds and runs orchestrators on in-memory doubles."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.gate = Gate()
        registry.register_processor("hold", make_hold_processor(self.gate))

    def pipeline(self, config: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> Any:
        definition = load_definition(dict(config), registry=self.registry)
        return resolve(definition, params, registry=self.registry)

    async def start(
        self,
        config: Mapping[str, Any] | ResolvedPipeline,
        *,
        execution_id: str = "exec-1",
        initial_messages: Sequence[Message] | None = None,
        callback: RecordingCallback | None = None,
        **kwargs: Any,
    ) -> Run:
        pipeline = config if isinstance(config, ResolvedPipeline) else self.pipeline(config)
        run = Run(
            orchestrator=None,  # type: ignore[arg-type]
            pipeline=pipeline,
            lineage=InMemoryLineageSink(),
            storage=InMemoryExecutionStorage(execution_id),
            callback=callback or RecordingCallback(),
            queues=InMemoryQueueBackend(),
        )
        kwargs.setdefault("progress_interval", 0.01)
        run.orchestrator = PipelineOrchestrator(
            execution_id,
            pipeline,
            queue_names=RouteDirectory().resolve(pipeline),
            queues=run.queues,
            lineage=run.lineage,
            storage=run.storage,
            callback=run.callback,
            registry=self.registry,
            initial_messages=initial_messages,
            **kwargs,
        )
        await run.orchestrator.start()
        return run

    @staticmethod
    def inline(items: list[Any], to: str | list[str] | None = None, **route: Any) -> dict[str, Any]:
        """A source route fed by the ``inline`` adapter."""
        spec: dict[str, Any] = {"adapter": {"type": "inline", "with": {"items": items}}, **route}
        if to is not None:
            spec["to"] = to
        return spec

    @staticmethod
    def proc(type_: str, **options: Any) -> dict[str, Any]:
        """A processor reference."""
        return {"type": type_, "with": options} if options else {"type": type_}

    async def run(self, config: Mapping[str, Any] | ResolvedPipeline, **kwargs: Any) -> Run:
        run = await self.start(config, **kwargs)
        run.outcome = await run.orchestrator.wait()
        return run


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    # configs in these tests read tmp_path, or name the working directory ('.', 'docs')
    registry = Registry.from_entry_points(file_access=FileAccess.under([tmp_path, Path.cwd()]))
    registry.register_processor("double", Double)
    registry.register_processor("odd", Odd)
    return registry


@pytest.fixture
def harness(registry: Registry) -> Harness:
    return Harness(registry)
