"""``factflow schedule …`` against a real server process (SQLite, then PostgreSQL):
the life of a schedule in table and JSON output, and input errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def config_name(
    cli: Any, tmp_path_factory: pytest.TempPathFactory, suffix: str, config_text: Any
) -> str:
    name = f"cli-sched-{suffix}"
    path: Path = tmp_path_factory.mktemp("sched") / "c.yaml"
    path.write_text(config_text.items(name, fail_n=None))
    assert cli("config", "apply", str(path)).exit_code == 0
    return name


def test_a_schedule_from_create_to_delete(cli: Any, config_name: str, suffix: str) -> None:
    name = f"hourly-{suffix}"
    created = cli(
        "schedule", "create", name, "--config", config_name, "--every", "1h",
        "-l", "team=data", "--catchup", "all", "--catchup-limit", "3",
    )  # fmt: skip
    assert created.exit_code == 0, created
    assert f"schedule {name} created: every 1h" in created.stdout

    shown = cli.json("schedule", "show", name)
    schedule = shown["schedule"]
    assert schedule["interval_seconds"] == 3600 and schedule["labels"] == {"team": "data"}
    assert schedule["catchup"] == "all" and schedule["catchup_limit"] == 3
    times = [datetime.fromisoformat(t) for t in shown["next"]["times"]]
    assert times == [times[0] + timedelta(hours=h) for h in range(5)]
    assert shown["fires"]["items"] == []

    table = cli("schedule", "list")
    assert name in table.stdout and "every 1h" in table.stdout and "active" in table.stdout
    upcoming = cli.json("schedule", "next", schedule["id"], "-n", "2")
    assert len(upcoming["times"]) == 2

    paused = cli("schedule", "pause", name)
    assert paused.exit_code == 0 and f"schedule {name} paused" in paused.stdout
    assert [s["name"] for s in cli.json("schedule", "list", "--paused")["items"]] == [name]
    resumed = cli("schedule", "resume", name)
    assert "active; next fire" in resumed.stdout
    detail = cli("schedule", "show", name)
    assert "next fires:" in detail.stdout and config_name in detail.stdout
    assert "no fire time has come yet" in cli("schedule", "fires", name).stderr

    deleted = cli("schedule", "delete", name)
    assert deleted.exit_code == 0 and f"schedule {name} deleted" in deleted.stdout
    gone = cli("schedule", "show", name)
    assert gone.exit_code != 0 and f"no schedule with id or name {name!r}" in gone.stderr


def test_schedule_input_errors_are_one_clear_line(cli: Any, config_name: str) -> None:
    both = cli("schedule", "create", "x", "--config", config_name, "--cron", "* * * * *",
               "--every", "1m")  # fmt: skip
    assert both.exit_code == 2 and "exactly one of --cron and --every" in both.stderr
    sub_second = cli("schedule", "create", "x", "--config", config_name, "--every", "250ms")
    assert sub_second.exit_code == 2 and "whole seconds" in sub_second.stderr
    bad_cron = cli("schedule", "create", "x", "--config", config_name, "--cron", "0 25 * * *")
    assert bad_cron.exit_code == 2 and "invalid cron expression" in bad_cron.stderr
    bad_zone = cli("schedule", "create", "x", "--config", config_name, "--cron", "0 1 * * *",
                   "--tz", "Atlantis/Capital")  # fmt: skip
    assert bad_zone.exit_code == 2 and "unknown time zone" in bad_zone.stderr
    no_config = cli("schedule", "create", "x", "--config", "no-such-config", "--every", "1h")
    assert no_config.exit_code != 0 and "no-such-config" in no_config.stderr
