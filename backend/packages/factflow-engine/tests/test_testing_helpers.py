"""``factflow_engine.testing``'s plugin helpers: a component runs on them as in a run."""

from __future__ import annotations

import json
import logging

import pytest
from factflow_engine import Registry
from factflow_engine.testing import InMemoryExecutionStorage, make_context, make_message


async def test_a_processor_runs_on_make_message_and_make_context(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = Registry.from_entry_points()
    storage = InMemoryExecutionStorage("run-1")
    ctx = make_context(route="save", execution_id="run-1", params={"n": 1}, storage=storage)
    message = make_message({"text": "a"}, route="save", execution_id="run-1")
    assert (message.origin_id, message.parent_id, message.attempt) == (message.id, None, 1)
    assert (ctx.execution_id, ctx.route, dict(ctx.params)) == ("run-1", "save", {"n": 1})

    write = registry.create_processor("storage_write")
    out = await write.process(message, ctx)
    key = f"save/{message.id}.json"
    assert out == {"text": "a", "stored_key": key}
    assert json.loads(storage.objects[key]) == {"text": "a"}
    assert storage.written[0].message_id == message.id

    with caplog.at_level(logging.INFO):
        ctx.logger.info("hello from %s", ctx.route)
    assert "hello from save" in caplog.text


async def test_an_adapter_produces_on_make_context() -> None:
    adapter = Registry.from_entry_points().create_adapter("inline", {"items": [1, 2]})
    assert [item async for item in adapter.produce(make_context())] == [1, 2]
