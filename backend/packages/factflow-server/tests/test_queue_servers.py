"""Two ``python -m factflow_server`` processes on one PostgreSQL: a config limit
of 2 holds across both, and the queued runs start in order on either server.

Every run holds at its own named pipe (``FifoGate``) until the test opens and
closes that pipe - which blocks until the run's message reaches the gate, a
cross-process event, so nothing polls or sleeps.  How many runs ran at once
is computed afterwards from the persisted status events (each run's
``running`` and terminal events), never sampled.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from factflow_infra.db import Database, execution_events, pipeline_executions
from sqlalchemy import select

from .conftest import API, YAML
from .test_schedules_servers import _server

pytestmark = pytest.mark.dialect("postgresql")

RUNS = 8
LIMIT = 2
SUPPORT = Path(__file__).parent / "support"


def _config() -> str:
    return yaml.safe_dump(
        {
            "name": "limited",
            "params": {"fifo": {"type": "string"}},
            "routes": {
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"i": 0}]}},
                    "processors": [
                        {"type": "factflow_server_testgate:FifoGate", "with": {"fifo": "{fifo}"}}
                    ],
                },
            },
        }
    )


def _release(fifo: Path) -> None:
    """Open the pipe (blocks until the run holding it reads it) and close it."""
    with fifo.open("wb"):
        pass


def _most_at_once(events: list[Any]) -> int:
    """The largest number of runs between their ``running`` and terminal events."""
    moves = sorted(
        (event.at, 0 if event.data["status"] != "running" else 1)  # ends first on a tie
        for event in events
        if event.kind == "status" and event.data["status"] != "pending"
    )
    most = now = 0
    for _, starts in moves:
        now += 1 if starts else -1
        most = max(most, now)
    return most


async def test_a_config_limit_holds_across_two_servers(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    support = os.pathsep.join(filter(None, [str(SUPPORT), os.environ.get("PYTHONPATH")]))
    env = {
        "FACTFLOW_ALLOW_IMPORT_PATHS": "true",
        "PYTHONPATH": support,
        "FACTFLOW_MAX_RUNNING_EXECUTIONS": "3",
    }
    fifos = [tmp_path / f"gate{i}" for i in range(RUNS)]
    for fifo in fifos:
        os.mkfifo(fifo)
    async with (
        _server(db_url, tmp_path / "a", env) as (url_a, _a),
        _server(db_url, tmp_path / "b", env) as (url_b, _b),
        httpx.AsyncClient(base_url=url_a, timeout=60) as a,
        httpx.AsyncClient(base_url=url_b, timeout=60) as b,
    ):
        stored = await a.post(f"{API}/configs", content=_config(), headers=YAML)
        assert stored.status_code == 201, stored.text
        limit = await b.put(f"{API}/configs/limited/limit", json={"max_running": LIMIT})
        assert limit.status_code == 200, limit.text
        runs = []
        for i, fifo in enumerate(fifos):  # alternately to each server
            client = (a, b)[i % 2]
            answer = await client.post(
                f"{API}/configs/limited/run", json={"params": {"fifo": str(fifo)}}
            )
            assert answer.status_code == 202, answer.text
            runs.append(answer.json())
        assert [r["status"] for r in runs] == ["running"] * LIMIT + ["pending"] * (RUNS - LIMIT)
        assert [r["queue_position"] for r in runs[LIMIT:]] == list(range(1, RUNS - LIMIT + 1))
        shown = (await a.get(f"{API}/configs/limited/limit")).json()
        assert (shown["running"], shown["queued"]) == (LIMIT, RUNS - LIMIT)

        for fifo in fifos:  # in order: each opens once its run holds at its gate
            try:
                await asyncio.wait_for(asyncio.to_thread(_release, fifo), 60)
            except TimeoutError:
                os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # free the opener thread
                page = (await a.get(f"{API}/executions", params={"config": "limited"})).json()
                states = [(r["status"], r["queue_position"]) for r in reversed(page["items"])]
                raise AssertionError(f"{fifo.name} never reached its gate: {states}") from None
        for run in runs:
            waited = await a.get(f"{API}/executions/{run['id']}/wait", params={"timeout": 60})
            assert waited.json()["status"] == "completed", waited.text

    ids = [r["id"] for r in runs]
    async with db.connect() as conn:
        t = pipeline_executions
        owners = dict((await conn.execute(select(t.c.id, t.c.owner).where(t.c.id.in_(ids)))).all())
        events = (
            await conn.execute(
                select(execution_events).where(execution_events.c.execution_id.in_(ids))
            )
        ).all()
    started = sorted(
        (e.at, e.execution_id)
        for e in events
        if e.kind == "status" and e.data["status"] == "running"
    )
    assert [execution_id for _, execution_id in started] == ids  # FIFO across both servers
    assert _most_at_once(list(events)) == LIMIT  # reached, never passed
    assert len(set(owners.values())) == 2  # both servers started runs of it
