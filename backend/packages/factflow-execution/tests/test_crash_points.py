"""Seeded crash points (issue 11): a real SIGKILL at a chosen place, then resume.

Each run lives in its own process (``crash_child.py``), which kills itself
at a seeded point: between processing and the lineage flush, between a
storage write and its lineage row, and during a resume itself.  The next
process recovers (the dead run becomes ``interrupted``, its orphaned objects
are removed) and resumes.  Across the chain every route then settled exactly
what an uninterrupted run settles - each message once - and the stored
objects are exactly an uninterrupted run's, none of them lacking its
message's lineage row.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from factflow_infra.db import Database, lineage_records, pipeline_executions, storage_objects
from factflow_infra.storage import orphaned_storage_keys
from factflow_lineage import SETTLED_STATUSES
from sqlalchemy import select

CHILD = Path(__file__).with_name("crash_child.py")
ITEMS = 16
EXPECTED_PROCESSED = {"src": ITEMS, "mid": 2 * ITEMS, "store": 2 * ITEMS}
EXPECTED_KEYS = {f"out/{i}-{j}.txt" for i in range(ITEMS) for j in range(2)}


async def _child(data_dir: Path, db: Database, what: str, crash: str = "") -> tuple[int, str]:
    """Run one child process to its end; (return code, stdout)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), str(data_dir), db.url, what,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CRASH": crash, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode is not None
    if crash:
        assert process.returncode == -9, f"expected a crash at {crash}:\n{err.decode()[-3000:]}"
    else:
        assert process.returncode == 0, err.decode()[-3000:]
        assert " completed" in out.decode(), out.decode() + err.decode()[-3000:]
    return process.returncode, out.decode()


async def _rows(db: Database, parent: str | None) -> list[str]:
    """Ids of the crashy runs (first run when ``parent`` is None, else its resumes)."""
    t = pipeline_executions
    where = (
        t.c.parent_execution_id.is_(None) if parent is None else t.c.parent_execution_id == parent
    )
    async with db.connect() as conn:
        rows = await conn.execute(select(t.c.id).where(t.c.config_name == "crashy", where))
        return [row[0] for row in rows]


async def _status(db: Database, execution_id: str) -> str:
    async with db.connect() as conn:
        query = select(pipeline_executions.c.status).where(pipeline_executions.c.id == execution_id)
        return str((await conn.execute(query)).scalar_one())


async def _check_chain(db: Database, chain: list[str]) -> None:
    lr, so = lineage_records, storage_objects
    async with db.connect() as conn:
        records = (
            await conn.execute(
                select(lr.c.route, lr.c.message_id, lr.c.status).where(lr.c.execution_id.in_(chain))
            )
        ).all()
        keys = [
            row[0]
            for row in await conn.execute(select(so.c.key).where(so.c.execution_id.in_(chain)))
        ]
        for execution_id in chain:
            assert await orphaned_storage_keys(conn, execution_id) == [], execution_id
    settled = [(route, message_id) for route, message_id, status in records
               if status in SETTLED_STATUSES]  # fmt: skip
    twice = [key for key, n in Counter(settled).items() if n > 1]
    assert twice == [], f"settled twice at a route: {twice[:5]}"
    processed = Counter(route for route, _, status in records if status == "processed")
    assert processed == EXPECTED_PROCESSED
    assert sorted(keys) == sorted(EXPECTED_KEYS), "stored objects differ from an uninterrupted run"


async def _check_lost_accounting(db: Database, execution_id: str) -> None:
    """The interrupted run's stats count, per route, every message it received:
    settled ones and those its process died holding (``lost``)."""
    lr, t = lineage_records, pipeline_executions
    async with db.connect() as conn:
        stats = (await conn.execute(select(t.c.stats).where(t.c.id == execution_id))).scalar_one()
        outputs = Counter[str]()
        for route, n in await conn.execute(
            select(lr.c.route, lr.c.outputs).where(
                lr.c.execution_id == execution_id, lr.c.status == "processed"
            )
        ):
            outputs[route] += n
    # A child may be recorded before its parent (a parent's row is written after
    # its children were enqueued), so a route may have received more than its
    # recorded parents sent - never less.
    sent = {"mid": outputs["src"], "store": outputs["mid"]}
    for route, minimum in sent.items():
        counts = stats["routes"][route]
        settled = sum(counts[s] for s in (*SETTLED_STATUSES, "cancelled"))
        assert counts["received"] == settled + counts["lost"] >= minimum, (route, counts)
    assert stats["totals"]["lost"] == sum(stats["routes"][r]["lost"] for r in sent)


@pytest.mark.parametrize("crash", ["mid:3", "mid:14", "store:2", "store:11"])
async def test_a_crash_at_a_seeded_point_then_resume_equals_an_uninterrupted_run(
    db: Database, tmp_path: Path, crash: str
) -> None:
    data = tmp_path / "data"
    await _child(data, db, "run", crash)
    [parent] = await _rows(db, None)
    assert await _status(db, parent) == "running"  # the dead process could not say otherwise
    async with db.connect() as conn:
        orphans = await orphaned_storage_keys(conn, parent)
    if crash.startswith("store"):  # the crash point was hit: an object without its row
        assert orphans, "the crash left no object without its lineage row"

    await _child(data, db, f"resume:{parent}")
    assert await _status(db, parent) == "interrupted"
    [resume] = await _rows(db, parent)
    await _check_lost_accounting(db, parent)
    await _check_chain(db, [parent, resume])


@pytest.mark.parametrize("crashes", [("mid:5", "store:4"), ("store:7", "mid:9")])
async def test_a_crash_during_a_resume_is_finished_by_a_resume_of_the_resume(
    db: Database, tmp_path: Path, crashes: tuple[str, str]
) -> None:
    data = tmp_path / "data"
    await _child(data, db, "run", crashes[0])
    [parent] = await _rows(db, None)
    await _child(data, db, f"resume:{parent}", crashes[1])
    [first] = await _rows(db, parent)
    assert await _status(db, first) == "running"
    await _child(data, db, f"resume:{first}")
    assert await _status(db, first) == "interrupted"
    [second] = await _rows(db, first)
    await _check_chain(db, [parent, first, second])
