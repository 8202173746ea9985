"""Running executions and the status state machine (DESIGN §4), on both databases."""

from __future__ import annotations

import asyncio
import random

import pytest
from factflow_execution import ExecutionService
from factflow_execution._errors import IllegalTransitionError
from factflow_execution._events import read_events
from factflow_execution._transitions import ALLOWED_FROM, Applied, Refusal, Refused, transition
from factflow_foundation import ConflictError
from factflow_infra.db import execution_events, pipeline_executions
from sqlalchemy import select

from .conftest import Gates, inline_config

STATUSES = ["pending", "running", "completed", "failed", "cancelled", "interrupted"]


async def _events(service: ExecutionService, execution_id: str) -> list[tuple[int, str, dict]]:
    async with service.db.connect() as conn:
        return [(e.seq, e.kind, e.data) for e in await read_events(conn, execution_id)]


async def test_a_run_completes_with_dense_events_and_materialised_stats(
    service: ExecutionService,
) -> None:
    await service.save_config(
        inline_config(
            items=[{"n": 2}, {"n": 3}],
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"n": 2}, {"n": 3}]}},
                    "processors": [{"type": "fan_out"}],
                    "to": ["sink"],
                },
                "sink": {},
            },
        )
    )
    execution = await service.run("t")
    assert execution.status == "running"
    assert execution.started_at is not None and execution.owner == service.manager.owner_id
    result = await service.wait(execution.id, timeout=30)
    assert result.status == "completed" and not result.timed_out
    assert result.stats is not None
    assert result.stats.routes["src"].processed == 2
    assert result.stats.routes["sink"].processed == 5
    assert result.stats.totals.received == 7 and result.stats.totals.in_flight == 0
    row = await service.get(execution.id)
    assert row.status == "completed" and row.finished_at is not None
    assert row.stats == result.stats  # terminal stats are read from the row
    events = await _events(service, execution.id)
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    statuses = [d["status"] for _, kind, d in events if kind == "status"]
    assert statuses == ["pending", "running", "completed"]
    assert events[-1][1] == "status"  # the terminal event is the last one
    kinds = {kind for _, kind, _ in events}
    assert {"route.started", "route.drained"} <= kinds
    assert row.last_event_seq == len(events)
    assert len(service.manager) == 0


async def test_illegal_transitions_are_clear_errors_that_change_nothing(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(inline_config())
    execution = await service.run("t")
    await service.wait(execution.id, timeout=30)
    before = await _events(service, execution.id)
    with pytest.raises(IllegalTransitionError, match=r"cannot cancel execution .* it is completed"):
        await service.cancel(execution.id)
    with pytest.raises(IllegalTransitionError, match=r"cannot start .* it is completed"):
        await service.start(execution.id)
    assert await _events(service, execution.id) == before
    assert (await service.get(execution.id)).status == "completed"


async def test_starting_a_running_execution_is_refused(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [1]}},
                    "processors": [{"type": "gate"}],
                }
            }
        )
    )
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    with pytest.raises(ConflictError):
        await service.start(execution.id)
    assert (await service.get(execution.id)).status == "running"
    gates.open("default")
    assert (await service.wait(execution.id, timeout=30)).status == "completed"


async def test_pending_execution_can_be_cancelled_and_then_not_started(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    execution = await service.create_execution("t")
    assert execution.status == "pending"
    cancelled = await service.cancel(execution.id, "changed my mind")
    assert cancelled.status == "cancelled" and cancelled.error == "changed my mind"
    with pytest.raises(IllegalTransitionError, match="it is cancelled"):
        await service.start(execution.id)
    statuses = [d["status"] for _, k, d in await _events(service, execution.id) if k == "status"]
    assert statuses == ["pending", "cancelled"]


async def test_cancel_running_execution_records_in_flight_messages_cancelled(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": list(range(6))}},
                    "processors": [{"type": "gate"}],
                    "concurrency": 2,
                }
            }
        )
    )
    execution = await service.run("t")
    await gates.wait_entered("default", 2)
    final = await service.cancel(execution.id, "stop it")
    assert final.status == "cancelled" and final.error == "stop it"
    assert final.stats is not None
    assert final.stats.routes["src"].cancelled == 6
    assert final.stats.totals.in_flight == 0
    records = await service.lineage_records(execution.id, limit=100)
    assert sorted(r.status for r in records) == ["cancelled"] * 6


@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("current", STATUSES)
async def test_transition_table_is_enforced_by_the_conditional_update(
    service: ExecutionService, current: str, target: str
) -> None:
    await service.save_config(inline_config())
    execution = await service.create_execution("t")
    async with service.db.transaction() as conn:
        await conn.execute(
            pipeline_executions.update()
            .where(pipeline_executions.c.id == execution.id)
            .values(status=current)
        )
    if target == "pending":
        assert target not in ALLOWED_FROM  # nothing leads back to pending
        return
    async with service.event_log.writing(execution.id) as writer:
        moved = await transition(writer, target)  # type: ignore[arg-type]
    legal = current in ALLOWED_FROM[target]
    if legal:
        assert isinstance(moved, Applied) and moved.row.status == target
        assert moved.event.data["status"] == target and moved.row.last_event_seq == 2
    else:  # closed answer: nothing written, and why
        assert moved == Refused(execution.id, target, current, Refusal.ILLEGAL)  # type: ignore[arg-type]
    async with service.db.connect() as conn:
        status = (
            await conn.execute(
                select(pipeline_executions.c.status).where(pipeline_executions.c.id == execution.id)
            )
        ).scalar_one()
        kinds = (
            await conn.execute(
                select(execution_events.c.seq).where(
                    execution_events.c.execution_id == execution.id
                )
            )
        ).all()
    assert status == (target if legal else current)
    assert len(kinds) == (2 if legal else 1)  # pending event (+ the transition's event)


async def test_cancel_racing_completion_ends_in_exactly_one_terminal_state(
    service: ExecutionService,
) -> None:
    """Hundreds of seeded races: cancel lands before, during or after the drain."""
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"n": 2}]}},
                    "processors": [{"type": "fan_out"}],
                    "to": ["sink"],
                },
                "sink": {},
            }
        )
    )
    rng = random.Random(20261125)
    outcomes: dict[str, int] = {}
    for _ in range(200):
        execution = await service.run("t")
        for _ in range(rng.randrange(0, 12)):
            await asyncio.sleep(0)  # yield to the run a seeded number of times
        try:
            final = await service.cancel(execution.id)
            status = final.status
        except IllegalTransitionError as exc:
            status = exc.status  # completed before the cancel arrived
        row = await service.get(execution.id)
        assert row.status == status and row.terminal
        terminal_events = [
            d
            for _, k, d in await _events(service, execution.id)
            if k == "status" and d["status"] in ("completed", "cancelled", "failed", "interrupted")
        ]
        assert len(terminal_events) == 1 and terminal_events[0]["status"] == status
        outcomes[status] = outcomes.get(status, 0) + 1
    assert set(outcomes) <= {"completed", "cancelled"}
    assert len(service.manager) == 0
