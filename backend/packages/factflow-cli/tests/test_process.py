"""``factflow`` as a process: help everywhere, an unreachable server, start-up
imports, ``factflow server`` (with a token) and ``factflow demo``."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from factflow_cli._app import app
from typer.main import get_command
from typer.testing import CliRunner

FACTFLOW = [sys.executable, "-m", "factflow_cli"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTFLOW_")}
    env.update(extra)
    return env


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    root = get_command(app)

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            paths.append([*prefix, name])
            walk(command, [*prefix, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "factflow")
def test_help_everywhere_with_examples(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: factflow" in result.stdout
    groups = {"config", "execution", "schedule", "storage", "components"}
    if not path or path[-1] not in groups:
        assert "Example" in result.stdout, f"`factflow {' '.join(path)} --help` shows no example"


@pytest.mark.parametrize("path", [p for p in _command_paths() if p], ids=lambda p: " ".join(p))
def test_docs_show_every_command_with_an_example(path: list[str]) -> None:
    docs = (Path(__file__).resolve().parents[4] / "docs" / "cli.md").read_text()
    blocks = "\n".join(docs.split("```")[1::2])  # the code blocks
    assert f"factflow {' '.join(path)}" in docs, f"docs/cli.md never names {path}"
    example = re.compile(r"factflow (--\S+ \S+ )*" + re.escape(" ".join(path)) + r"\b")
    assert example.search(blocks), f"docs/cli.md has no example of `factflow {' '.join(path)}`"


def test_usage_error_is_exit_2() -> None:
    result = CliRunner().invoke(app, ["execution", "show"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["--output", "xml", "execution", "list"])
    assert result.exit_code == 2


def test_version() -> None:
    run = subprocess.run([*FACTFLOW, "--version"], capture_output=True, text=True, env=_env())
    assert run.returncode == 0 and run.stdout.startswith("factflow ")


def test_unreachable_server_is_one_line_naming_the_url() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    run = subprocess.run(
        [*FACTFLOW, "execution", "list"],
        capture_output=True,
        text=True,
        env=_env(FACTFLOW_SERVER_URL=url),
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert url in run.stderr and "Traceback" not in run.stderr
    as_json = subprocess.run(
        [*FACTFLOW, "--server", url, "--output", "json", "config", "list"],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert as_json.returncode == 1
    assert url in json.loads(as_json.stderr)["error"]["message"]


def test_client_commands_never_load_the_server_stack() -> None:
    probe = (
        "import sys\n"
        "from factflow_cli._app import main\n"
        "code = main(['--server', 'http://127.0.0.1:9', 'execution', 'list'])\n"
        "heavy = ['factflow_server', 'factflow_execution', 'factflow_engine', 'factflow_infra',\n"
        "         'sqlalchemy', 'fastapi', 'uvicorn', 'pydantic', 'httpx._main']\n"
        "print(code, sorted(m for m in heavy if sys.modules.get(m) is not None))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_env())
    assert run.stdout.strip() == "1 []", run.stdout + run.stderr


@pytest.fixture
def factflow_server(tmp_path: Path) -> Iterator[str]:
    """``factflow server`` in a process, requiring a bearer token."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [*FACTFLOW, "server", "--port", str(port), "--data-dir", str(tmp_path)],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(FACTFLOW_API_TOKEN="s3cret", FACTFLOW_SHUTDOWN_GRACE="0"),
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # synchronise on the server saying it listens
        seen.append(line)
        if "Application startup complete" in line:
            break
    else:
        pytest.fail("factflow server did not start:\n" + "".join(seen))
    yield f"http://127.0.0.1:{port}"
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait(timeout=60) == 0, "".join(seen) + rest
    assert "Traceback" not in rest


def test_factflow_server_with_token(factflow_server: str) -> None:
    denied = subprocess.run(
        [*FACTFLOW, "--server", factflow_server, "execution", "list"],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert denied.returncode == 2, denied.stderr
    assert "FACTFLOW_API_TOKEN" in denied.stderr
    allowed = subprocess.run(
        [*FACTFLOW, "--server", factflow_server, "--output", "json", "execution", "list"],
        capture_output=True,
        text=True,
        env=_env(FACTFLOW_API_TOKEN="s3cret"),
    )
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["items"] == []


def test_demo_end_to_end(tmp_path: Path) -> None:
    run = subprocess.run(
        [*FACTFLOW, "demo", "--data-dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "✓ completed  facts v1" in out
    assert "discover [source]" in out and "store [sink]" in out  # the DAG
    assert f"under {tmp_path / 'demo' / 'storage'}" in out  # where the artifacts are
    assert "failed on purpose" in out and "factflow execution replay" in out
    assert out.count("✓ completed") == 2  # the run and its replay
    assert "Stopping the embedded server" in run.stderr
    assert (tmp_path / "demo" / "factflow.db").is_file()
    stored = list((tmp_path / "demo" / "storage").rglob("*.json"))
    assert stored, "the demo stored no facts"
    # Its counts match the files it read: one discover message per file the
    # example's patterns select in this Python's site-packages (counted here
    # independently of the files adapter), and one stored object per fact.
    site = Path(sysconfig.get_paths()["purelib"])
    expected = {
        p
        for p in [*site.glob("*.dist-info/METADATA"), *site.glob("**/*.md")]
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(site).parts)
        and "node_modules" not in p.relative_to(site).parts
    }
    with sqlite3.connect(tmp_path / "demo" / "factflow.db") as db:
        (first,) = db.execute(
            "SELECT id FROM pipeline_executions WHERE source = 'demo' ORDER BY created_at LIMIT 1"
        ).fetchone()
        read = db.execute(
            "SELECT count(*) FROM lineage_records WHERE execution_id = ? AND route = 'discover'",
            (first,),
        ).fetchone()[0]
        objects = db.execute(
            "SELECT count(*) FROM storage_objects WHERE execution_id = ?", (first,)
        ).fetchone()[0]
    assert read == min(len(expected), 500)
    assert objects == len(list((tmp_path / "demo" / "storage" / first).rglob("*.json")))


def test_shell_completion_script_and_answers() -> None:
    script = subprocess.run(
        [*FACTFLOW, "--show-completion", "bash"], capture_output=True, text=True, env=_env()
    )
    assert script.returncode == 0, script.stderr
    assert "_FACTFLOW_COMPLETE=complete_bash" in script.stdout
    assert "complete " in script.stdout and "factflow" in script.stdout
    for words, expected in (
        ("factflow exec", {"execution"}),
        ("factflow execution l", {"list", "lineage"}),
        ("factflow storage get --", {"--to", "--help"}),
    ):
        answer = subprocess.run(
            FACTFLOW,
            capture_output=True,
            text=True,
            env=_env(
                _FACTFLOW_COMPLETE="complete_bash",
                COMP_WORDS=words,
                COMP_CWORD=str(len(words.split()) - 1),
            ),
        )
        assert answer.returncode == 0, answer.stderr
        assert expected <= set(answer.stdout.split()), (words, answer.stdout)
    helped = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in helped.stdout and "--show-completion" in helped.stdout
