"""Storage group commit against a real kill -9, and its rows/events/files invariant.

A child process runs a pipeline that stores one object per message; once it
has seen a number of ``storage.written`` events (an observed count, never a
delay) it says so and the test SIGKILLs it, mid-write.  After a restart's
recovery, every ``storage_objects`` row has its file with the recorded size
and checksum, every row has its ``storage.written`` event (same transaction),
and no file is left that no row records; and no row is left whose message has
no lineage row (recovery removes those objects: a resume stores them again).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
import textwrap
from pathlib import Path

from factflow_engine import Registry
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_infra.db import Database, execution_events, storage_objects
from factflow_infra.storage import orphaned_storage_keys
from sqlalchemy import func, select

_ITEMS = 20_000
_KILL_AFTER = 400

_CHILD = textwrap.dedent(
    f"""
    import asyncio, sys
    from factflow_foundation import FactFlowSettings
    from factflow_execution import ExecutionService

    CONFIG = {{
        "name": "store-much",
        "routes": {{
            "src": {{
                "adapter": {{"type": "inline", "with": {{"items": list(range({_ITEMS}))}}}},
                "to": ["store"],
            }},
            "store": {{
                "concurrency": 16,
                "processors": [{{"type": "storage_write"}}],
            }},
        }},
    }}

    async def main() -> None:
        settings = FactFlowSettings(data_dir=sys.argv[1], database_url=sys.argv[2])
        service = ExecutionService.from_settings(settings)
        await service.startup()
        await service.save_config(CONFIG)
        execution = await service.run("store-much")
        seen = 0
        async for event in service.events(execution.id):
            if event.kind == "storage.written":
                seen += 1
                if seen == {_KILL_AFTER}:
                    print("KILL", execution.id, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def test_kill_9_while_storing_leaves_no_row_without_its_file(
    settings: FactFlowSettings, db: Database, registry: Registry, tmp_path: Path
) -> None:
    data_dir = tmp_path / "child"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        str(data_dir),
        db.url,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout is not None
        line = (await asyncio.wait_for(child.stdout.readline(), timeout=120)).decode().split()
        assert line[:1] == ["KILL"], line
        execution_id = line[1]
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()

    root = data_dir / "storage" / execution_id
    async with db.connect() as conn:
        rows_at_death = (
            await conn.execute(
                select(func.count()).where(storage_objects.c.execution_id == execution_id)
            )
        ).scalar_one()
    restarted = ExecutionService.from_settings(
        settings.model_copy(update={"data_dir": data_dir}), db=db, registry=registry
    )
    interrupted = await restarted.startup()
    try:
        assert execution_id in interrupted
        async with db.connect() as conn:
            recorded = (
                await conn.execute(
                    select(
                        storage_objects.c.key, storage_objects.c.size, storage_objects.c.checksum
                    ).where(storage_objects.c.execution_id == execution_id)
                )
            ).all()
            events = (
                await conn.execute(
                    select(func.count()).where(
                        execution_events.c.execution_id == execution_id,
                        execution_events.c.kind == "storage.written",
                    )
                )
            ).scalar_one()
        # Killed mid-run: at least what the child saw, not everything.
        assert _KILL_AFTER <= rows_at_death < _ITEMS
        assert events == rows_at_death  # rows and their events commit together
        # Recovery then removed the objects whose message has no lineage row
        # (lineage batches follow the storage commit; a resume stores them again).
        async with db.connect() as conn:
            assert await orphaned_storage_keys(conn, execution_id) == []
        assert len(recorded) <= rows_at_death
        for key, size, checksum in recorded:
            data = (root / key).read_bytes()  # a row without its file fails here
            assert (len(data), hashlib.sha256(data).hexdigest()) == (size, checksum), key
        assert _files(root) == {key for key, _, _ in recorded}  # unrecorded files removed
        assert (await restarted.get(execution_id)).status == "interrupted"
    finally:
        await restarted.shutdown(grace=0)
