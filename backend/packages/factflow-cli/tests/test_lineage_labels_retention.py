"""``execution lineage --message/--tree``, ``execution list --label``, ``execution
delete`` and ``execution prune`` against a real server process (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest


@pytest.fixture(scope="module")
def items_file(tmp_path_factory: pytest.TempPathFactory, suffix: str, config_text: Any) -> Path:
    path = tmp_path_factory.mktemp("lineage") / "items.yaml"
    path.write_text(config_text.items(f"cli-tree-{suffix}"))
    return path


def _run(cli: Any, items_file: Path, *labels: str) -> dict[str, Any]:
    args = [arg for label in labels for arg in ("--label", label)]
    started = cli.json("config", "run", str(items_file), *args)
    waited = cli("execution", "wait", started["id"], json_output=True)
    assert waited.json()["status"] == "completed", waited
    result: dict[str, Any] = waited.json()
    return result


def test_lineage_of_one_message_and_its_tree(cli: Any, items_file: Path) -> None:
    run = _run(cli, items_file)
    records = cli.json("execution", "lineage", run["id"], "--all")["items"]
    stored = next(r for r in records if r["route"] == "store" and r["status"] == "processed")
    message = stored["message_id"]

    one = cli.json("execution", "lineage", run["id"], "--message", message)["items"]
    assert [r["id"] for r in one] == [stored["id"]]
    table = cli("execution", "lineage", run["id"], "-m", message)
    assert table.exit_code == 0 and message in table.stdout and "store" in table.stdout

    tree = cli("execution", "lineage", run["id"], "--message", message, "--tree")
    assert tree.exit_code == 0, tree
    lines = tree.stdout.splitlines()
    src_line = next(i for i, line in enumerate(lines) if line.startswith("src "))
    assert "store processed " + message in lines[src_line + 1], tree.stdout
    assert stored["parent_message_id"] in lines[src_line]

    root = stored["parent_message_id"]
    data = cli.json("execution", "lineage", run["id"], "--message", root, "--tree")
    assert [r["route"] for r in data["ancestry"]["items"]] == ["src"]
    assert [n["message_id"] for n in data["descendants"]["items"]] == [message]
    assert data["descendants"]["truncated"] is False

    shown = cli("execution", "lineage", run["id"], "--message", message, "--payload")
    assert shown.exit_code == 0 and json.loads(shown.stdout) == stored["payload"], shown
    both = cli("execution", "lineage", run["id"], "--message", message, "--payload", "--tree")
    assert both.exit_code == 2, both

    missing = cli("execution", "lineage", run["id"], "--message", "nope-1", "--tree")
    assert missing.exit_code == 2 and "nope-1" in missing.stderr, missing
    alone = cli("execution", "lineage", run["id"], "--tree")
    assert alone.exit_code == 2 and "--message" in alone.stderr, alone


def test_list_by_label_and_labels_shown(cli: Any, items_file: Path, suffix: str) -> None:
    a = _run(cli, items_file, f"suite={suffix}", "env=prod")
    b = _run(cli, items_file, f"suite={suffix}", "env=dev")
    listed = cli.json("execution", "list", "--label", f"suite:{suffix}")["items"]
    assert [e["id"] for e in listed] == [b["id"], a["id"]]
    both = cli.json("execution", "list", "--label", f"suite={suffix}", "-l", "env:prod")
    assert [e["id"] for e in both["items"]] == [a["id"]]
    table = cli("execution", "list", "--label", f"suite:{suffix}", env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "env=prod" in table.stdout and "env=dev" in table.stdout
    shown = cli("execution", "show", a["id"])
    assert f"env=prod, suite={suffix}" in shown.stdout, shown.stdout
    bad = cli("execution", "list", "--label", "nocolon")
    assert bad.exit_code == 2 and "'nocolon'" in bad.stderr, bad


def test_delete_asks_refuses_and_deletes(cli: Any, items_file: Path, config_text: Any) -> None:
    run = _run(cli, items_file)
    unconfirmed = cli("execution", "delete", run["id"])
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.stderr, unconfirmed
    assert cli("execution", "show", run["id"]).exit_code == 0

    deleted = cli("execution", "delete", run["id"][:13], "--yes")
    assert deleted.exit_code == 0 and f"execution {run['id']} deleted" in deleted.stdout
    gone = cli("execution", "show", run["id"])
    assert gone.exit_code == 2 and "no execution" in gone.stderr, gone


def test_delete_asks_on_a_terminal(cli: Any, server: Any, items_file: Path) -> None:
    run = _run(cli, items_file)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTFLOW_")}

    def ask(answer: str) -> pexpect.spawn:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "factflow_cli", "--server", server.url, "execution", "delete", run["id"][:13]],
            env=env,
            encoding="utf-8",
            timeout=60,
        )
        child.expect(rf"Delete execution {run['id']} \(cli-tree-\w+, completed\)")
        child.expect(r"\[y/N\]")
        child.sendline(answer)
        child.expect(pexpect.EOF)
        child.close()
        return child

    declined = ask("n")
    assert declined.exitstatus == 1
    assert cli("execution", "show", run["id"]).exit_code == 0
    confirmed = ask("y")
    assert confirmed.exitstatus == 0
    assert cli("execution", "show", run["id"]).exit_code == 2


def test_delete_of_a_running_run_is_refused(
    cli: Any, tmp_path: Path, suffix: str, config_text: Any
) -> None:
    slow = tmp_path / "slow.yaml"
    slow.write_text(config_text.slow(f"cli-slow-{suffix}"))
    started = cli.json("config", "run", str(slow))
    refused = cli("execution", "delete", started["id"], "--yes")
    assert refused.exit_code == 1 and "cannot delete" in refused.stderr, refused
    assert cli("execution", "cancel", started["id"]).exit_code in (0, 3)
    assert cli("execution", "delete", started["id"], "--yes").exit_code == 0


def test_prune_dry_run_then_for_real(cli: Any, items_file: Path) -> None:
    run = _run(cli, items_file)
    dry = cli("execution", "prune", "--older-than", "1ms", "--dry-run")
    assert dry.exit_code == 0 and run["id"] in dry.stdout, dry
    assert "would be deleted" in dry.stderr
    assert cli("execution", "show", run["id"]).exit_code == 0

    none = cli.json("execution", "prune", "--older-than", "30d")
    assert run["id"] not in none["execution_ids"]
    done = cli.json("execution", "prune", "--older-than", "1ms", "--status", "completed")
    assert run["id"] in done["execution_ids"] and done["deleted"] == len(done["execution_ids"])
    assert cli("execution", "show", run["id"]).exit_code == 2

    bad = cli("execution", "prune", "--older-than", "1ms", "--status", "running")
    assert bad.exit_code == 2 and "running" in bad.stderr, bad
    worse = cli("execution", "prune", "--older-than", "soon")
    assert worse.exit_code == 2, worse
