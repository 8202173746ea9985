"""Stats, DAG and the execution list, checked against hand-computed numbers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from factflow_execution import ExecutionService
from factflow_foundation import InvalidInputError, utcnow

from .conftest import Gates, count_statements, inline_config

ITEMS = [{"n": 3, "keep": True}, {"n": 2, "keep": False}, {"n": 4, "keep": True}]


async def test_stats_and_dag_match_hand_computed_numbers(service: ExecutionService) -> None:
    """src fans 3 docs out to 9 messages, each sent to work and audit; work drops
    the 2 of the unkept doc and fails i == 1 of the other two; sink gets 5."""
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": ITEMS}},
                    "processors": [{"type": "fan_out"}],
                    "to": ["work", "audit"],
                },
                "work": {
                    "processors": [
                        {"type": "filter", "with": {"field": "keep", "equals": True}},
                        {"type": "flaky"},
                    ],
                    "to": ["sink"],
                },
                "audit": {},
                "sink": {},
            },
            settings={"max_retries": 0},
        )
    )
    execution = await service.run("t")
    result = await service.wait(execution.id, timeout=60)
    assert result.status == "completed"
    stats = await service.stats(execution.id)
    assert stats == result.stats
    expected = {
        "src": (3, 3, 0, 0),
        "work": (9, 5, 2, 2),
        "audit": (9, 9, 0, 0),
        "sink": (5, 5, 0, 0),
    }
    got = {
        name: (r.received, r.processed, r.filtered, r.failed) for name, r in stats.routes.items()
    }
    assert got == expected
    t = stats.totals
    assert (t.received, t.processed, t.filtered, t.failed, t.in_flight) == (26, 22, 2, 2, 0)
    assert stats.routes["work"].duration_ms_avg is not None and not stats.live
    assert stats.duration_seconds is not None and stats.duration_seconds >= 0

    dag = await service.dag(execution.id)
    kinds = {n.id: n.kind for n in dag.nodes}
    assert kinds == {"src": "source", "work": "stage", "audit": "sink", "sink": "sink"}
    edges = {(e.source, e.target): e.messages for e in dag.edges}
    assert edges == {("src", "work"): 9, ("src", "audit"): 9, ("work", "sink"): 5}
    nodes = {n.id: n for n in dag.nodes}
    assert nodes["work"].processors == ["filter", "flaky"]
    assert nodes["src"].adapter == "inline"
    assert nodes["sink"].stats.processed == 5
    assert nodes["work"].queue == "factflow.t.work"


async def test_live_stats_count_in_flight_messages(service: ExecutionService, gates: Gates) -> None:
    await service.save_config(
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [1, 2, 3]}},
                    "to": ["hold"],
                },
                "hold": {"processors": [{"type": "gate"}], "concurrency": 1},
            }
        )
    )
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    await service.lineage.flush()
    live = await service.stats(execution.id)
    assert live.live
    assert live.routes["src"].processed == 3
    assert live.routes["hold"].received == 3 and live.routes["hold"].in_flight == 3
    page = await service.list()
    assert page.items[0].stats is not None and page.items[0].stats.totals.in_flight == 3
    gates.open("default")
    done = await service.wait(execution.id, timeout=60)
    assert done.stats is not None and done.stats.routes["hold"].processed == 3


async def test_list_filters_and_stats_in_a_constant_number_of_queries(
    service: ExecutionService, gates: Gates
) -> None:
    await service.save_config(inline_config(name="alpha"))
    await service.save_config(
        inline_config(
            name="beta",
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [1]}},
                    "processors": [{"type": "gate"}],
                }
            },
        )
    )
    done = [await service.run("alpha") for _ in range(3)]
    for execution in done:
        await service.wait(execution.id, timeout=30)
    running = [await service.run("beta", source="cli") for _ in range(4)]  # type: ignore[arg-type]
    await gates.wait_entered("default", 4)

    page = await service.list(limit=50)
    assert len(page.items) == 7 and page.next_cursor is None
    assert all(e.stats is not None for e in page.items)
    assert {e.id for e in (await service.list(status="running")).items} == {e.id for e in running}
    assert {e.id for e in (await service.list(config_name="alpha")).items} == {e.id for e in done}
    assert len((await service.list(source="cli")).items) == 4
    assert len((await service.list(status=["completed", "running"])).items) == 7
    now = utcnow()
    assert (await service.list(since=now)).items == []
    assert len((await service.list(until=now + timedelta(seconds=1))).items) == 7
    with pytest.raises(InvalidInputError, match="unknown status 'runing'"):
        await service.list(status="runing")

    await service.recovery.stop()  # its heartbeat's queries would be counted too
    with count_statements(service.db) as small:
        await service.list(limit=2)
    with count_statements(service.db) as large:
        await service.list(limit=50)
    selects = lambda c: [s for s in c.statements if "SELECT" in s.upper()]  # noqa: E731
    assert len(selects(large)) == len(selects(small)) <= 3

    # Without snapshots: none is read, the live runs' route names are read once
    # (then kept), and the stats are the same.
    with_snapshots = {e.id: e for e in (await service.list(limit=50)).items}
    with count_statements(service.db) as first:
        light = (await service.list(limit=50, snapshots=False)).items
    with count_statements(service.db) as again:
        await service.list(limit=50, snapshots=False)
    assert all(e.config_snapshot == {} for e in light)
    assert [e.id for e in light] == list(with_snapshots)
    for e in light:
        assert e.stats is not None and with_snapshots[e.id].stats is not None
        assert list(e.stats.routes) == list(with_snapshots[e.id].stats.routes) == ["src"]
    assert len(selects(first)) == len(selects(again)) + 1 <= 4
    assert not any("config_snapshot" in s for s in again.statements)
    gates.open("default")
    for execution in running:
        await service.wait(execution.id, timeout=30)


async def test_cursor_pagination_is_stable_under_concurrent_inserts(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    original = [await service.create_execution("t") for _ in range(23)]
    seen: list[str] = []
    cursor = None
    inserted = 0
    while True:
        page = await service.list(limit=5, cursor=cursor)
        seen += [e.id for e in page.items]
        # other clients keep creating executions between page requests
        await asyncio.gather(*(service.create_execution("t") for _ in range(2)))
        inserted += 2
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 23
    assert seen == [e.id for e in reversed(original)]
    assert len((await service.list(limit=500)).items) == 23 + inserted
    with pytest.raises(InvalidInputError, match="invalid cursor"):
        await service.list(cursor="not-a-cursor")


async def test_id_prefixes_resolve_and_ambiguity_lists_candidates(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    a = await service.create_execution("t")
    b = await service.create_execution("t")
    assert await service.resolve_id(a.id) == a.id
    assert await service.resolve_id(a.id[:30]) == a.id
    common = 0
    while a.id[common] == b.id[common]:
        common += 1
    from factflow_execution._errors import AmbiguousIdError, ExecutionNotFoundError

    if common >= 4:
        with pytest.raises(AmbiguousIdError) as info:
            await service.resolve_id(a.id[:common])
        assert a.id in str(info.value) and b.id in str(info.value)
    with pytest.raises(ExecutionNotFoundError):
        await service.resolve_id("ffff")


async def test_a_cursor_whose_id_is_not_an_execution_id_is_invalid_input(
    service: ExecutionService,
) -> None:
    import base64

    forged = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|bad\x00id").decode()
    with pytest.raises(InvalidInputError, match="invalid cursor"):
        await service.list(cursor=forged)


async def test_reading_an_object_under_a_malformed_key_is_invalid_input(
    service: ExecutionService,
) -> None:
    from factflow_infra.storage import InvalidStorageKeyError

    await service.save_config(inline_config())
    execution = await service.create_execution("t")
    with pytest.raises(InvalidStorageKeyError):
        await service.read_object(execution.id, "../etc/passwd")
