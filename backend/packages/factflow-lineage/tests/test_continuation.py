"""The continuation queries on both databases: what a resume and recovery read.

A chain of two executions: ``first`` (the run that died) and ``second`` (a
resume of it that died too).  Message ids are shared across the chain.

first:  r1 (src, processed, 2 outputs) ─┬▶ c1 (mid, processed, 1 output) ─▶ its child: lost
                                       └▶ its second child: lost
        r2 (src, cancelled)
        r3 (src, processed, 1 output) ─▶ c3 (mid, cancelled)
second: c3 (mid, processed, 1 output) ─▶ d3 (sink, processed)
"""

from __future__ import annotations

from typing import Any

from factflow_infra.db import Database
from factflow_lineage import LineageRecorder
from factflow_lineage.continuation import (
    incomplete_parents,
    lost_per_route,
    recorded_ids,
    settled_ids,
    unsettled_records,
)

DOWNSTREAM = {"src": ["mid"], "mid": ["sink"], "sink": []}
FANOUT = {route: len(targets) for route, targets in DOWNSTREAM.items()}

# name: (execution, parent, route, status, outputs)
RECORDS: list[tuple[str, str, str | None, str, str, int]] = [
    ("r1", "first", None, "src", "processed", 2),
    ("c1", "first", "r1", "mid", "processed", 1),
    ("r2", "first", None, "src", "cancelled", 0),
    ("r3", "first", None, "src", "processed", 1),
    ("c3", "first", "r3", "mid", "cancelled", 0),
    ("c3", "second", "r3", "mid", "processed", 1),
    ("d3", "second", "c3", "sink", "processed", 1),
]


async def chain(db: Database, make_execution: Any, make_entry: Any) -> tuple[list[str], Any]:
    executions = {"first": await make_execution(), "second": await make_execution()}
    ids = {name: f"00000000-0000-5000-8000-{i:012d}" for i, name in enumerate(
        sorted({r[0] for r in RECORDS}))}  # fmt: skip
    recorder = LineageRecorder(db, batch_size=3)
    for name, execution, parent, route, status, outputs in RECORDS:
        await recorder.record(
            make_entry(
                executions[execution],
                message_id=ids[name],
                parent_message_id=ids[parent] if parent else None,
                origin_message_id=ids[parent] if parent else ids[name],
                route=route,
                status=status,
                outputs=outputs,
                payload={"name": name},
            )
        )
    await recorder.close()
    names = {v: k for k, v in ids.items()}
    return [executions["first"], executions["second"]], names


async def test_what_a_resume_reads_from_a_chain(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    ids, names = await chain(db, make_execution, make_entry)
    async with db.connect() as conn:
        pages = [page async for page in recorded_ids(conn, ids, page=2)]
        assert max(len(p) for p in pages) == 2
        assert sorted(names[m] for p in pages for m in p) == sorted(r[0] for r in RECORDS)
        # c3 was cancelled in first but settled in second: only r2 is unfinished.
        assert [names[r.message_id] for r in await unsettled_records(conn, ids)] == ["r2"]
        assert [names[r.message_id] for r in await unsettled_records(conn, ids[:1])] == [
            "r2",
            "c3",
        ]
        # r1 had 2 outputs, 1 child recorded; c1 had 1 output, none recorded.
        parents = await incomplete_parents(conn, ids, FANOUT)
        assert sorted(names[r.message_id] for r in parents) == ["c1", "r1"]
        assert {r.payload["name"] for r in parents} == {"c1", "r1"}
        every = [m for r in RECORDS for m in [r[0]]]
        by_name = {v: k for k, v in names.items()}
        settled = await settled_ids(conn, ids, [by_name[n] for n in every])
        assert sorted(names[m] for m in settled) == ["c1", "c3", "d3", "r1", "r3"]


async def test_what_a_dead_run_lost_at_each_route(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    ids, _names = await chain(db, make_execution, make_entry)
    async with db.connect() as conn:
        # first: src sent 2 + 1 = 3 to mid, 2 of which were recorded (c1, c3);
        # mid sent 1 (c1's) to sink, none recorded.
        assert await lost_per_route(conn, ids[0], DOWNSTREAM) == {"mid": 1, "sink": 1}
        # second: mid's processed c3 sent 1 to sink, recorded (d3); c3's parent is in first.
        assert await lost_per_route(conn, ids[1], DOWNSTREAM) == {}
