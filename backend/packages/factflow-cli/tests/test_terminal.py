"""``--follow`` in a real pseudo-terminal (pexpect): live progress bars render, the
summary follows, and Ctrl-C stops following without cancelling the run."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

# The terminal behaviour does not depend on the database: one server (SQLite).
pytestmark = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


def _spawn(server_url: str, *args: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTFLOW_")}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    return pexpect.spawn(
        sys.executable,
        ["-m", "factflow_cli", "--server", server_url, *args],
        env=env,
        dimensions=(40, 120),
        encoding="utf-8",
        timeout=120,
    )


def _paced_config(name: str) -> str:
    """40 items through a route that takes a moment per item, two of them refused."""
    items = ", ".join(f"{{n: {i}}}" for i in range(40))
    return f"""\
name: {name}
settings:
  max_retries: 0
routes:
  src:
    adapter:
      type: inline
      with:
        items: [{items}]
    to: paced
  paced:
    processors:
      - type: sleep
        with: {{seconds: 0.05}}
      - type: fail
        with: {{when: {{n: 7}}, error: "seven is refused"}}
"""


def test_follow_renders_progress_then_summary(server: Any, suffix: str, tmp_path: Path) -> None:
    config = tmp_path / "paced.yaml"
    config.write_text(_paced_config(f"cli-paced-{suffix}"))
    child = _spawn(server.url, "config", "run", str(config), "--follow", "--allow-failures")
    child.expect(r"execution ([0-9a-f-]{36}) started")
    # a live frame: the status header, and a bar for the route with settled/received
    child.expect(r"running")
    child.expect(r"paced[^\n]*━")
    child.expect(r"\d+/\d+")
    # the summary once the run ends
    child.expect(r"✓[^\n]*completed")
    child.expect("paced")
    child.expect(r"total")
    child.expect("failures: 1 messages failed")
    child.expect("seven is refused")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_stops_following_not_the_run(
    server: Any, cli: Any, suffix: str, tmp_path: Path, config_text: Any
) -> None:
    config = tmp_path / "slow.yaml"
    config.write_text(config_text.slow(f"cli-slow-tty-{suffix}"))
    child = _spawn(server.url, "config", "run", str(config), "--follow")
    child.expect(r"execution ([0-9a-f-]{36}) started")
    execution_id = child.match.group(1)
    child.expect("running")  # the live display is up
    child.sendintr()
    child.expect("stopped following")
    child.expect(f"cancel it with: factflow execution cancel {execution_id}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert cli.json("execution", "show", execution_id)["status"] == "running"
    assert cli("execution", "cancel", execution_id).exit_code == 0
    assert cli("execution", "wait", execution_id).exit_code == 3
