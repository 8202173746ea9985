"""``factflow execution logs`` against a real server process (SQLite, then PostgreSQL)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture(scope="module")
def done(cli: Any, suffix: str, config_text: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A completed run of the items config: n=2 failed ("n=2 is refused")."""
    path = tmp_path_factory.mktemp("logs") / "items.yaml"
    path.write_text(config_text.items(f"logs-items-{suffix}"))
    started = cli.json("config", "run", str(path))
    assert cli("execution", "wait", started["id"], "--allow-failures").exit_code == 0
    return started


def _records(run: Any) -> list[dict[str, Any]]:
    assert run.exit_code == 0, run
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_logs_show_the_failure_with_its_traceback(cli: Any, done: Any) -> None:
    failed = cli.json("execution", "lineage", done["id"], "--status", "failed")["items"]
    message_id = failed[0]["message_id"]
    records = _records(cli("execution", "logs", done["id"], json_output=True))
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    failure = next(r for r in records if r["traceback"])
    assert failure["message_id"] == message_id and failure["route"] == "store"
    assert failure["level"] == "warning" and "n=2 is refused" in failure["message"]

    table = cli("execution", "logs", done["id"], "--level", "WARNING")
    assert table.exit_code == 0, table
    lines = table.stdout.splitlines()
    assert "WARNING" in lines[0] and f"store {message_id}#1" in lines[0]
    assert "n=2 is refused" in lines[0]
    assert any(line.strip() == "Traceback (most recent call last):" for line in lines[1:])

    mine = _records(cli("execution", "logs", done["id"], "--message", message_id, json_output=True))
    assert mine and {r["message_id"] for r in mine} == {message_id}
    after = _records(
        cli("execution", "logs", done["id"], "--after", str(failure["seq"]), json_output=True)
    )
    assert [r["seq"] for r in after] == [r["seq"] for r in records if r["seq"] > failure["seq"]]


def test_follow_of_a_finished_run_prints_its_log_and_exits_as_wait_does(
    cli: Any, done: Any
) -> None:
    followed = cli("execution", "logs", done["id"], "--follow", "--level", "warning")
    assert followed.exit_code == 1, followed  # completed, with a failed message
    assert "n=2 is refused" in followed.stdout
    allowed = cli("execution", "logs", done["id"], "--follow", "--allow-failures", json_output=True)
    assert allowed.exit_code == 0, allowed
    assert [r["seq"] for r in _records(allowed)] == [
        r["seq"] for r in _records(cli("execution", "logs", done["id"], json_output=True))
    ]


def test_follow_ends_when_the_run_does(
    cli: Any, suffix: str, config_text: Any, tmp_path: Path
) -> None:
    path = tmp_path / "slow.yaml"
    path.write_text(config_text.slow(f"logs-slow-{suffix}"))
    started = cli.json("config", "run", str(path))
    url = f"{cli.server_url}/api/v1/executions/{started['id']}/cancel"
    # Cancelled through the API from a thread: one CliRunner at a time owns stdout.
    canceller = threading.Thread(target=lambda: httpx.post(url, json={}, timeout=120))
    canceller.start()
    followed = cli("execution", "logs", started["id"], "--follow")
    canceller.join()
    assert followed.exit_code == 3, followed  # cancelled


def test_unknown_level_is_an_input_error(cli: Any, done: Any) -> None:
    run = cli("execution", "logs", done["id"], "--level", "loud")
    assert run.exit_code == 2 and "unknown log level 'loud'" in run.stderr
