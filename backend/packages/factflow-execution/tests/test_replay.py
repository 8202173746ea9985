"""Replay (DESIGN §6): selected messages re-injected from the parent's snapshot."""

from __future__ import annotations

import pytest
from factflow_execution import ExecutionService, ReplaySource
from factflow_execution._errors import NothingToReplayError
from factflow_foundation import ConflictError, NotFoundError

from .conftest import Gates, Switch, inline_config

ITEMS = [{"n": 3, "doc": "a"}, {"n": 2, "doc": "b"}]


def _pipeline(work_processors: list[dict]) -> dict:
    return inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": ITEMS}},
                "processors": [{"type": "fan_out"}],
                "to": ["work"],
            },
            "work": {"processors": work_processors, "to": ["sink"]},
            "sink": {},
        },
        settings={"max_retries": 0},
    )


async def _run(service: ExecutionService, **kwargs: object) -> str:
    execution = await service.run("t", **kwargs)  # type: ignore[arg-type]
    result = await service.wait(execution.id, timeout=60)
    assert result.status == "completed", result.error
    return execution.id


async def test_replay_reprocesses_exactly_the_failed_messages_from_the_parent_snapshot(
    service: ExecutionService, switch: Switch
) -> None:
    await service.save_config(_pipeline([{"type": "flaky"}]))
    parent_id = await _run(service)
    parent_stats = await service.stats(parent_id)
    assert parent_stats.routes["work"].failed == 2  # i == 1 of doc a and doc b
    assert parent_stats.routes["sink"].processed == 3
    failed = {
        r.message_id: r.origin_message_id
        for r in await service.lineage_records(parent_id, status="failed")
    }
    assert len(failed) == 2
    # The stored config changes afterwards; replay must not care.
    await service.save_config(
        _pipeline([{"type": "filter", "with": {"field": "doc", "equals": "zzz"}}])
    )
    switch.on = False  # the flaky dependency recovered

    replay = await service.replay(ReplaySource(parent_execution_id=parent_id))
    assert replay.source == "replay" and replay.parent_execution_id == parent_id
    assert replay.config_snapshot == (await service.get(parent_id)).config_snapshot
    assert replay.replay_source == ReplaySource(parent_execution_id=parent_id, mode="failed")
    result = await service.wait(replay.id, timeout=60)
    assert result.status == "completed" and result.stats is not None
    assert result.stats.routes["src"].received == 0  # adapters do not run
    assert result.stats.routes["work"].processed == 2  # the parent's flaky, now passing
    assert result.stats.routes["sink"].processed == 2
    work = await service.lineage_records(replay.id, route="work")
    assert {r.message_id for r in work} == set(failed)
    assert {r.message_id: r.origin_message_id for r in work} == failed
    sink = await service.lineage_records(replay.id, route="sink")
    assert {r.origin_message_id for r in sink} == set(failed.values())
    assert {r.parent_message_id for r in sink} == set(failed)


async def test_replays_of_replays_keep_the_origin(
    service: ExecutionService, switch: Switch
) -> None:
    await service.save_config(_pipeline([{"type": "flaky"}]))
    parent_id = await _run(service)
    origins = {
        r.origin_message_id for r in await service.lineage_records(parent_id, status="failed")
    }
    first = await service.replay(ReplaySource(parent_execution_id=parent_id))
    first_result = await service.wait(first.id, timeout=60)
    assert first_result.stats is not None and first_result.stats.totals.failed == 2  # still down
    switch.on = False
    second = await service.replay(ReplaySource(parent_execution_id=first.id))
    second_result = await service.wait(second.id, timeout=60)
    assert second_result.stats is not None
    assert second_result.stats.totals.failed == 0
    assert second_result.stats.routes["sink"].processed == 2
    sink = await service.lineage_records(second.id, route="sink")
    assert {r.origin_message_id for r in sink} == origins


async def test_replay_all_reinjects_the_roots_at_their_source_route(
    service: ExecutionService, switch: Switch
) -> None:
    switch.on = False
    await service.save_config(_pipeline([{"type": "flaky"}]))
    parent_id = await _run(service)
    replay = await service.replay(ReplaySource(parent_execution_id=parent_id, mode="all"))
    result = await service.wait(replay.id, timeout=60)
    parent = await service.stats(parent_id)
    assert result.stats is not None
    assert result.stats.routes["src"].processed == parent.routes["src"].processed == 2
    assert result.stats.routes["sink"].processed == parent.routes["sink"].processed == 5


async def test_replay_of_named_ids_and_route_narrowing(
    service: ExecutionService, switch: Switch
) -> None:
    switch.on = False
    await service.save_config(_pipeline([{"type": "flaky"}]))
    parent_id = await _run(service)
    one = (await service.lineage_records(parent_id, route="work"))[0]
    replay = await service.replay(
        ReplaySource(parent_execution_id=parent_id, mode="ids", message_ids=[one.message_id])
    )
    result = await service.wait(replay.id, timeout=60)
    assert result.stats is not None and result.stats.routes["work"].processed == 1
    with pytest.raises(NotFoundError, match="no-such-id"):
        await service.replay(
            ReplaySource(parent_execution_id=parent_id, mode="ids", message_ids=["no-such-id"])
        )


async def test_replaying_a_run_without_failures_is_a_clear_error(
    service: ExecutionService, switch: Switch
) -> None:
    switch.on = False
    await service.save_config(_pipeline([{"type": "flaky"}]))
    parent_id = await _run(service)
    before = len((await service.list()).items)
    with pytest.raises(NothingToReplayError, match="no failed messages"):
        await service.replay(ReplaySource(parent_execution_id=parent_id))
    assert len((await service.list()).items) == before  # no empty run was created
    assert len(service.manager) == 0
    with pytest.raises(Exception, match="route 'nope' is not part"):
        await service.replay(ReplaySource(parent_execution_id=parent_id, mode="all", route="nope"))


async def test_replaying_a_running_execution_is_refused(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(_pipeline([{"type": "gate"}]))
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    with pytest.raises(ConflictError, match="still running"):
        await service.replay(ReplaySource(parent_execution_id=execution.id, mode="all"))
    gates.open("default")
    await service.wait(execution.id, timeout=60)
