"""Fixtures: a real ExecutionService on the parametrised test database, and
test processors that synchronise with events (never sleeps)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from factflow_engine import FileAccess, Registry
from factflow_engine.testing import Gates, gate_processor
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_infra.db import Database
from factflow_protocols import Message, ProcessorContext
from pydantic import BaseModel, ConfigDict
from sqlalchemy import event


class FanOut:
    """Test processor: payload {"n": k} → k payloads {"i": 0..k-1, "n": k, **rest}."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        payload = dict(message.payload)
        return [{**payload, "i": i} for i in range(int(payload["n"]))]


class Switch:
    """A flag test processors consult: ``on`` makes ``flaky`` fail."""

    def __init__(self) -> None:
        self.on = True


def flaky_processor(switch: Switch) -> type:
    class Flaky:
        """Test processor: fails payloads with ``i == 1`` while the switch is on."""

        class Options(BaseModel):
            model_config = ConfigDict(extra="forbid")

        def __init__(self, options: Options) -> None:
            self.options = options

        async def process(self, message: Message, ctx: ProcessorContext) -> Any:
            if switch.on and message.payload.get("i") == 1:
                raise RuntimeError(f"flaky sink refused {message.payload}")
            return message.payload

    return Flaky


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
def registry(gates: Gates, switch: Switch, tmp_path: Path) -> Registry:
    registry = Registry.from_entry_points(file_access=FileAccess.under([tmp_path]))
    registry.register_processor("flaky", flaky_processor(switch))
    registry.register_processor("gate", gate_processor(gates))
    registry.register_processor("fan_out", FanOut)
    return registry


@pytest.fixture
async def service(
    settings: FactFlowSettings, db: Database, registry: Registry
) -> AsyncIterator[ExecutionService]:
    svc = ExecutionService.from_settings(settings, db=db, registry=registry)
    await svc.startup()
    try:
        yield svc
    finally:
        await svc.shutdown(grace=0)


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(db: Database) -> Iterator[StatementCounter]:
    """Count SQL statements sent through any of ``db``'s engines."""
    counter = StatementCounter()

    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counter.statements.append(statement)

    for engine in db.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", _before)
    try:
        yield counter
    finally:
        for engine in db.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", _before)


def inline_config(
    name: str = "t",
    *,
    items: list[Any] | None = None,
    routes: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A config dict: an inline source route 'src' feeding the given routes."""
    body: dict[str, Any] = {
        "name": name,
        "routes": routes
        or {"src": {"adapter": {"type": "inline", "with": {"items": items or [{"n": 1}]}}}},
    }
    if settings:
        body["settings"] = settings
    if params:
        body["params"] = params
    return body
