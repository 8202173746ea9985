"""Resume (issue 11): an interrupted or cancelled run finished as a new execution.

A resume does exactly the unfinished work: across the parent and its resume
every route settles what one uninterrupted run settles, and no message
settles twice at a route.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from factflow_execution import ExecutionService, ReplaySource
from factflow_execution._errors import IllegalTransitionError
from factflow_foundation import ConflictError
from factflow_lineage import SETTLED_STATUSES

from .conftest import Gates, inline_config

ITEMS = [{"n": 3, "doc": f"d{i}"} for i in range(12)]


def _pipeline(gate: str = "work") -> dict[str, Any]:
    """12 roots x 3 = 36 work messages through a gate; depth 2 keeps the source waiting."""
    return inline_config(
        routes={
            "src": {
                "adapter": {"type": "inline", "with": {"items": ITEMS}},
                "processors": [{"type": "fan_out"}],
                "to": ["work"],
            },
            "work": {"processors": [{"type": "gate", "with": {"name": gate}}], "to": ["sink"]},
            "sink": {},
        },
        settings={"max_retries": 0, "queue_depth": 2},
    )


async def settled(service: ExecutionService, *ids: str) -> list[tuple[str, str, str]]:
    """(route, message id, status) of every settled record of ``ids``."""
    found = []
    for execution_id in ids:
        for record in await service.lineage_records(execution_id, limit=10_000):
            if record.status in SETTLED_STATUSES:
                found.append((record.route, record.message_id, record.status))
    return found


async def payloads(service: ExecutionService, *ids: str) -> Counter[tuple[str, str]]:
    """(route, payload) of every processed record of ``ids``, with multiplicity."""
    found: Counter[tuple[str, str]] = Counter()
    for execution_id in ids:
        for record in await service.lineage_records(execution_id, limit=10_000):
            if record.status == "processed":
                found[(record.route, json.dumps(record.payload, sort_keys=True))] += 1
    return found


async def _cancelled_run(service: ExecutionService, gates: Gates) -> str:
    await service.save_config(_pipeline())
    execution = await service.run("t")
    await gates.wait_entered("work", 1)
    cancelled = await service.cancel(execution.id, "stop for now")
    assert cancelled.status == "cancelled"
    return execution.id


async def test_a_cancelled_run_is_finished_by_its_resume(
    service: ExecutionService, gates: Gates
) -> None:
    parent_id = await _cancelled_run(service, gates)
    parent = await service.stats(parent_id)
    assert parent.totals.cancelled > 0
    gates.open("work")

    resume = await service.resume(parent_id, labels={"why": "finish"})
    assert resume.source == "resume" and resume.parent_execution_id == parent_id
    assert resume.replay_source is None and resume.labels == {"why": "finish"}
    assert resume.config_snapshot == (await service.get(parent_id)).config_snapshot
    result = await service.wait(resume.id, timeout=60)
    assert result.status == "completed", result.error

    full = await service.run("t")
    assert (await service.wait(full.id, timeout=60)).status == "completed"

    chain = await settled(service, parent_id, resume.id)
    keys = [(route, message_id) for route, message_id, _ in chain]
    assert len(keys) == len(set(keys)), "a message settled twice at a route"
    assert await payloads(service, parent_id, resume.id) == await payloads(service, full.id)
    processed = Counter(route for route, _, status in chain if status == "processed")
    assert processed == {"src": 12, "work": 36, "sink": 36}


async def test_a_resume_of_a_resume_finishes_the_chain(
    service: ExecutionService, gates: Gates
) -> None:
    parent_id = await _cancelled_run(service, gates)
    # The first resume stops too, before the gate opens: it is cancelled in turn.
    first = await service.resume(parent_id)
    await gates.wait_entered("work", gates.entered["work"] + 1)
    assert (await service.cancel(first.id)).status == "cancelled"
    with pytest.raises(ConflictError, match=f"already resumed by {first.id}"):
        await service.resume(parent_id)
    gates.open("work")
    second = await service.resume(first.id)
    assert (await service.wait(second.id, timeout=60)).status == "completed"

    chain = await settled(service, parent_id, first.id, second.id)
    keys = [(route, message_id) for route, message_id, _ in chain]
    assert len(keys) == len(set(keys)), "a message settled twice at a route"
    processed = Counter(route for route, _, status in chain if status == "processed")
    assert processed == {"src": 12, "work": 36, "sink": 36}


async def test_only_interrupted_or_cancelled_runs_can_be_resumed(
    service: ExecutionService, gates: Gates
) -> None:
    gates.open("work")
    await service.save_config(_pipeline())
    done = await service.run("t")
    assert (await service.wait(done.id, timeout=60)).status == "completed"
    with pytest.raises(IllegalTransitionError, match="only cancelled or interrupted executions"):
        await service.resume(done.id)


async def test_a_replay_cannot_be_resumed(service: ExecutionService, gates: Gates) -> None:
    await service.save_config({**_pipeline("hold"), "name": "held"})
    parent = await service.run("held")
    await gates.wait_entered("hold", 1)
    assert (await service.cancel(parent.id)).status == "cancelled"
    replay = await service.replay(ReplaySource(parent_execution_id=parent.id, mode="cancelled"))
    await gates.wait_entered("hold", gates.entered["hold"] + 1)
    assert (await service.cancel(replay.id)).status == "cancelled"
    with pytest.raises(ConflictError, match="a replay cannot be resumed"):
        await service.resume(replay.id)
