"""A real FactFlow server process per test module (SQLite and PostgreSQL), and a
``cli`` fixture that runs ``factflow`` commands against it.

The server's listening socket is bound here and handed to the child process
(``pass_fds``): clients may connect at once, the kernel queues them until the
server's start-up finishes, so nothing polls or sleeps for readiness.  If the
server dies, its socket is gone (this process keeps no copy) and clients fail
fast instead of hanging.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from factflow_cli._app import app
from typer.testing import CliRunner

_SERVE = """
import socket, sys
from factflow_server import ServerOptions, build_server
fd, url, data_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
sock = socket.socket(fileno=fd)
host, port = sock.getsockname()[:2]
server = build_server(ServerOptions(
    host=host, port=port, database_url=url, data_dir=data_dir, log_level="error"))
server.run(sockets=[sock])
sys.exit(0 if server.started else 3)
"""

#: Fast test settings for the server process: cancels and shutdowns do not
#: wait for in-flight processors (``sleep`` steps would hold them for an hour).
SERVER_ENV = {
    "FACTFLOW_CANCEL_GRACE": "0",
    "FACTFLOW_SHUTDOWN_GRACE": "0",
    "FACTFLOW_PROGRESS_INTERVAL": "0.05",
}


@dataclass
class ServerProcess:
    """One running server: its URL, database, data dir and process."""

    url: str
    database_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    dialect: str
    log: Path

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(database_url: str, data_dir: Path, dialect: str, **env: str) -> ServerProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    log = data_dir / "server.log"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FACTFLOW_")}
    child_env.update(SERVER_ENV, **env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, str(sock.fileno()), database_url, str(data_dir)],
            pass_fds=[sock.fileno()],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env,
        )
    sock.close()  # the child owns it now
    return ServerProcess(f"http://127.0.0.1:{port}", database_url, data_dir, process, dialect, log)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server process for this module: on a fresh SQLite file, then on PostgreSQL."""
    data_dir = tmp_path_factory.mktemp(f"server-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'factflow.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    # the tests' files live under pytest's base temporary directory
    roots = str(tmp_path_factory.getbasetemp())
    proc = start_server(url, data_dir, request.param, FACTFLOW_FILE_ROOTS=roots)
    yield proc
    code = proc.stop()
    log = proc.log.read_text(errors="replace")
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly
    assert code in (0, -signal.SIGTERM), log[-4000:]
    # The server logs at ERROR: the runs' own failures (deliberate in these tests,
    # logged with their tracebacks at INFO/WARNING) stay out; a crash does not.
    assert "Traceback" not in log, log[-4000:]


@dataclass
class Run:
    """One ``factflow`` invocation's outcome."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"Run(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


class Cli:
    """Runs ``factflow --server <url> …`` in-process (Typer's CliRunner)."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.runner = CliRunner()

    def __call__(
        self,
        *args: str,
        json_output: bool = False,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Run:
        argv = ["--server", self.server_url]
        if json_output:
            argv += ["--output", "json"]  # the older name of --format: works on every version
        result = self.runner.invoke(
            app, [*argv, *args], input=input, env=env, catch_exceptions=False
        )
        return Run(result.exit_code, result.stdout, result.stderr)

    def json(self, *args: str) -> Any:
        run = self(*args, json_output=True)
        assert run.exit_code == 0, run
        return run.json()


@pytest.fixture(scope="module")
def cli(server: ServerProcess) -> Cli:
    return Cli(server.url)


@pytest.fixture(scope="module")
def suffix() -> str:
    """Config names are unique per module: the PostgreSQL database is shared."""
    return secrets.token_hex(3)


def items_config(name: str, items: int = 3, fail_n: int | None = 2) -> str:
    """Inline items → ``store`` (fails the item ``n == fail_n``, stores the rest)."""
    fail = (
        f"""
      - type: fail
        with: {{when: {{n: {fail_n}}}, error: "n={fail_n} is refused"}}"""
        if fail_n is not None
        else ""
    )
    listed = ", ".join(f"{{n: {i}}}" for i in range(1, items + 1))
    return f"""\
name: {name}
description: Items for the CLI tests.
params:
  tag:
    type: string
    default: plain
settings:
  max_retries: 0
  retry_backoff: 0
routes:
  src:
    adapter:
      type: inline
      with:
        items: [{listed}]
    to: store
  store:
    processors:{fail}
      - type: storage_write
        with:
          key: "items/{{tag}}/{{{{message_id}}}}.json"
"""


def slow_config(name: str) -> str:
    """A run that stays running until cancelled (its one message sleeps for an hour)."""
    return f"""\
name: {name}
routes:
  src:
    adapter:
      type: inline
      with:
        items: [{{n: 1}}]
    to: nap
  nap:
    processors:
      - type: sleep
        with: {{seconds: 3600}}
"""


def broken_config(name: str) -> str:
    """A run that fails: every message fails and on_message_error is 'fail'."""
    return f"""\
name: {name}
settings:
  on_message_error: fail
  max_retries: 0
routes:
  src:
    adapter:
      type: inline
      with:
        items: [{{n: 1}}]
    processors:
      - type: fail
        with: {{error: "always refused"}}
"""


class ConfigTexts:
    """The YAML of the test configs (a fixture, so test modules import nothing)."""

    items = staticmethod(items_config)
    slow = staticmethod(slow_config)
    broken = staticmethod(broken_config)


@pytest.fixture(scope="session")
def config_text() -> type[ConfigTexts]:
    return ConfigTexts
