"""Run logs: processors' and adapters' records per execution and message, failures
with tracebacks, bounded per run, written in batches, followed live."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from factflow_engine import Registry
from factflow_engine.registry import ComponentOptions
from factflow_execution import ExecutionLogRecord, ExecutionService
from factflow_foundation import FactFlowSettings, InvalidInputError
from factflow_infra.db import Database
from factflow_protocols import Message, ProcessorContext

from .conftest import Gates, count_statements, inline_config

_plugin_log = logging.getLogger("acme.plugin")


class Chatty:
    """Logs through ``ctx.logger`` (``lines`` times), a module logger and a thread;
    fails payloads carrying ``fail`` with a KeyError; with ``hold``, waits at gate
    ``hold``, logs "after the gate", then waits at gate ``hold2``."""

    gates: Gates | None = None

    class Options(ComponentOptions):
        lines: int = 1
        hold: bool = False

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        for i in range(self.options.lines):
            ctx.logger.info("line %d of %s", i, message.payload.get("name"))
        _plugin_log.warning("plugin warns about %s", message.payload.get("name"))
        await asyncio.to_thread(ctx.logger.info, "from a thread")
        if self.options.hold and self.gates is not None:
            await self.gates.arrive("hold")
            await self.gates.event("hold").wait()
            ctx.logger.info("after the gate")
            await self.gates.arrive("hold2")
            await self.gates.event("hold2").wait()
        if message.payload.get("fail"):
            return {}["missing"]
        return message.payload


class BrokenSource:
    """An adapter that yields one item, logs, then raises."""

    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        self.options = options

    async def produce(self, ctx: Any) -> AsyncIterator[Any]:
        yield {"name": "only"}
        ctx.logger.info("source is about to break")
        raise OSError("disk on fire")


@pytest.fixture
def registry(registry: Registry, gates: Gates) -> Registry:
    Chatty.gates = gates
    registry.register_processor("chatty", Chatty)
    registry.register_adapter("broken", BrokenSource)
    return registry


def _config(items: list[dict[str, Any]], *, retries: int = 0, **options: Any) -> dict[str, Any]:
    return inline_config(
        items=items,
        settings={"max_retries": retries, "retry_backoff": 0.001},
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": items}},
                "processors": [{"type": "chatty", "with": options}],
            }
        },
    )


async def _run(service: ExecutionService, config: dict[str, Any]) -> str:
    await service.save_config(config)
    execution = await service.run(config["name"])
    result = await service.wait(execution.id, timeout=60)
    assert not result.timed_out
    return execution.id


async def _lineage_ids(service: ExecutionService, execution_id: str) -> dict[str, str]:
    records = await service.lineage_records(execution_id, limit=1000)
    return {r.as_dict()["payload"]["name"]: r.message_id for r in records}


async def test_records_per_message_with_the_traceback_of_every_failed_attempt(
    service: ExecutionService,
) -> None:
    execution_id = await _run(
        service, _config([{"name": "ok"}, {"name": "bad", "fail": True}], retries=1)
    )
    ids = await _lineage_ids(service, execution_id)
    logs = await service.logs(execution_id, limit=1000)
    assert [r.seq for r in logs] == list(range(1, len(logs) + 1))

    def of(name: str) -> list[ExecutionLogRecord]:
        return [r for r in logs if r.message_id == ids[name]]

    ok = of("ok")
    assert [(r.level, r.message) for r in ok] == [
        ("info", "line 0 of ok"),
        ("warning", "plugin warns about ok"),
        ("info", "from a thread"),
    ]
    assert {(r.route, r.attempt) for r in ok} == {("src", 1)}
    assert ok[1].logger == "acme.plugin"
    bad = of("bad")
    failures = [r for r in bad if r.traceback]
    assert [(r.level, r.attempt) for r in failures] == [("info", 1), ("warning", 2)]
    for record in failures:
        assert "Traceback (most recent call last)" in (record.traceback or "")
        assert "KeyError: 'missing'" in (record.traceback or "")
        assert 'return {}["missing"]' in (record.traceback or "")
    assert "failed at route 'src' after 2 attempt(s): KeyError: 'missing'" in failures[1].message

    only_bad = await service.logs(execution_id, message_id=ids["bad"])
    assert [r.seq for r in only_bad] == [r.seq for r in bad]
    warnings = await service.logs(execution_id, level="WARNING")
    assert {r.level for r in warnings} == {"warning"}
    assert len(warnings) == 4  # the plugin warns at each of 3 attempts, then the failure
    page = await service.logs(execution_id, after=2, limit=2)
    assert [r.seq for r in page] == [3, 4]
    with pytest.raises(InvalidInputError, match="unknown log level 'loud'"):
        await service.logs(execution_id, level="loud")


async def test_capture_does_not_depend_on_the_server_log_level(
    service: ExecutionService,
) -> None:
    factflow = logging.getLogger("factflow")
    before = factflow.level
    factflow.setLevel(logging.CRITICAL)
    try:
        execution_id = await _run(service, _config([{"name": "quiet"}]))
    finally:
        factflow.setLevel(before)
    messages = [r.message for r in await service.logs(execution_id)]
    assert "line 0 of quiet" in messages and "from a thread" in messages


async def test_an_adapter_failure_is_logged_with_its_traceback(service: ExecutionService) -> None:
    config = inline_config(routes={"src": {"adapter": {"type": "broken"}}})
    execution_id = await _run(service, config)
    assert (await service.get(execution_id)).status == "failed"
    logs = await service.logs(execution_id)
    assert logs[0].message == "source is about to break"
    failure = logs[-1]
    assert failure.level == "warning" and failure.route == "src" and failure.message_id is None
    assert "adapter 'broken' failed: OSError: disk on fire" in failure.message
    assert "Traceback" in (failure.traceback or "")


async def test_a_run_keeps_at_most_max_log_records_and_says_how_many_it_dropped(
    settings: FactFlowSettings, db: Database, registry: Registry
) -> None:
    bounded = settings.model_copy(update={"max_log_records": 5})
    service = ExecutionService.from_settings(bounded, db=db, registry=registry)
    await service.startup()
    try:
        execution_id = await _run(service, _config([{"name": "a"}], lines=20))
        logs = await service.logs(execution_id, limit=100)
    finally:
        await service.shutdown(grace=0)
    # 20 lines + the plugin warning + the thread line = 22 records; 5 kept.
    assert [r.seq for r in logs] == [1, 2, 3, 4, 5, 6]
    marker = logs[-1]
    assert marker.level == "warning" and marker.logger == "factflow.logs"
    assert marker.message.startswith("17 more log record(s) dropped")
    assert "limit of 5" in marker.message


async def test_records_are_written_in_batches_not_one_commit_each(
    service: ExecutionService, db: Database
) -> None:
    with count_statements(db) as counter:
        execution_id = await _run(service, _config([{"name": "a"}, {"name": "b"}], lines=200))
    inserts = [
        s for s in counter.statements if s.lstrip().upper().startswith("INSERT INTO EXECUTION_LOGS")
    ]
    assert len(await service.logs(execution_id, limit=1000)) == 404
    assert 1 <= len(inserts) <= 4


async def test_following_a_run_yields_live_records_then_ends_and_resumes_by_seq(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(_config([{"name": "a"}], hold=True))
    execution = await service.run("t")
    stream = service.log_stream(execution.id)
    first = await stream.__anext__()  # while the processor is held at its gate
    assert first.message == "line 0 of a"
    await gates.wait_entered("hold", 1)
    assert (await service.get(execution.id)).status == "running"
    gates.open("hold2")
    gates.open("hold")
    rest = [r async for r in stream]
    assert [first.seq] + [r.seq for r in rest] == [1, 2, 3, 4]
    assert rest[-1].message == "after the gate"
    assert (await service.get(execution.id)).terminal
    resumed = [r.seq async for r in service.log_stream(execution.id, after=2)]
    assert resumed == [3, 4]
    warnings = [r.message async for r in service.log_stream(execution.id, level="warning")]
    assert warnings == ["plugin warns about a"]
    assert service.bus.subscriber_count() == 0


async def test_outside_a_run_the_capture_changes_nothing_about_stderr(
    service: ExecutionService, capsys: pytest.CaptureFixture[str]
) -> None:
    await _run(service, _config([{"name": "a"}]))  # installs the capture handler
    root = logging.getLogger()
    saved = [h for h in root.handlers if type(h).__name__ != "RunLogCapture"]
    for handler in saved:
        root.removeHandler(handler)
    try:
        logging.getLogger("unrelated.library").warning("still reaches stderr")
    finally:
        for handler in saved:
            root.addHandler(handler)
    assert "still reaches stderr" in capsys.readouterr().err


@pytest.mark.dialect("postgresql")
async def test_a_follower_in_another_process_is_woken_by_the_logs_notify(
    service: ExecutionService,
    settings: FactFlowSettings,
    db_url: str,
    registry: Registry,
    gates: Gates,
) -> None:
    database = Database(db_url)
    other = ExecutionService.from_settings(
        settings, db=database, registry=registry, owner_id="elsewhere:1:other"
    )
    await other.startup()
    try:
        await service.save_config(_config([{"name": "a"}], hold=True))
        execution = await service.run("t")
        await gates.wait_entered("hold", 1)
        stream = other.log_stream(execution.id)
        before = [await stream.__anext__() for _ in range(3)]
        assert [r.seq for r in before] == [1, 2, 3]
        gates.open("hold")
        await gates.wait_entered("hold2", 1)
        # The run is parked at the second gate: no counter moves, so no event of
        # its log wakes the other process; only the logs channel's NOTIFY does.
        after = await stream.__anext__()
        assert after.message == "after the gate"
        assert (await service.get(execution.id)).status == "running"
        gates.open("hold2")
        assert [r.seq async for r in stream] == []
        assert (await other.get(execution.id)).terminal
    finally:
        await other.shutdown(grace=0)
        await database.dispose()
