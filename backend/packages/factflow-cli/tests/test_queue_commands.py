"""The run queue from the command line, against a server that runs one execution
at a time (SQLite, then PostgreSQL): a run over capacity is queued and says
where it waits, `execution list/show` and `queue` show its position,
`--no-queue` is refused with the server's 503, `config limit` sets and shows
per-config limits, and a queued run can be cancelled before it starts."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ServerProcess, start_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """This module's server runs at most one execution at once."""
    data_dir = tmp_path_factory.mktemp(f"queue-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'factflow.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    proc = start_server(url, data_dir, request.param, FACTFLOW_MAX_RUNNING_EXECUTIONS="1")
    yield proc
    code = proc.stop()
    log = proc.log.read_text(errors="replace")
    assert code in (0, -signal.SIGTERM), log[-4000:]
    assert "Traceback" not in log, log[-4000:]


def test_queue_position_no_queue_limits_and_cancelling_a_queued_run(
    cli: Any, tmp_path: Path, suffix: str, config_text: Any
) -> None:
    name = f"cli-queue-{suffix}"
    path = tmp_path / "slow.yaml"
    path.write_text(config_text.slow(name))
    assert cli("config", "apply", str(path)).exit_code == 0

    running = cli.json("config", "run", name)
    assert running["status"] == "running"
    queued = cli("config", "run", name)
    assert queued.exit_code == 0, queued
    assert "queued at position 1" in queued.stdout
    urgent = cli.json("config", "run", name, "--priority", "5")
    assert urgent["status"] == "pending" and urgent["queue_position"] == 1

    refused = cli("config", "run", name, "--no-queue")
    assert refused.exit_code == 1, refused
    assert "already runs 1 executions" in refused.stderr and "retry in" in refused.stderr

    listed = cli("execution", "list", "--config", name)
    assert "pending #1" in listed.stdout and "pending #2" in listed.stdout
    shown = cli("execution", "show", urgent["id"])
    assert "position 1, waiting for a free slot" in shown.stdout
    view = cli.json("queue")
    assert view["items"][0]["execution_id"] == urgent["id"]
    assert view["capacity"] == 1 and view["total"] == 2
    assert "2 run(s) waiting" in cli("queue").stdout

    assert "no limit; 1 running, 2 queued" in cli("config", "limit", name).stdout
    assert "at most 1 running at once" in cli("config", "limit", name, "1").stdout
    assert cli.json("config", "limit", name)["max_running"] == 1
    assert f"limit {name}: at most 1 at once" in cli("queue").stdout
    assert "no limit" in cli("config", "limit", name, "--clear").stdout
    assert cli("config", "limit", name, "2", "--clear").exit_code == 2

    cancelled = cli.json("execution", "cancel", urgent["id"])
    assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None
    second = cli.json("queue")["items"]
    assert len(second) == 1 and second[0]["position"] == 1
    for execution in (running, {"id": second[0]["execution_id"]}):
        cli.json("execution", "cancel", execution["id"])
    assert cli.json("queue")["total"] == 0
