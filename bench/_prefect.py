"""The peer: Prefect 3 in its own git-ignored venv, its local server on SQLite.

The venv lives in ``bench/peers/prefect3`` and is made on demand (``python3 -m
venv`` + ``uv pip install 'prefect==3.*'``).  The server is ``prefect server
start`` with a fresh ``PREFECT_HOME`` (so a fresh SQLite database), as
Prefect's docs set up a local server.  Two configurations:

* **default** - what a user gets: a sync ``@flow`` / ``@task``, every setting
  at its default (flow heartbeats every 180 s, whose thread the sync engine
  joins on exit; logs shipped to the API).
* **fastest** - the fastest the public settings and API allow: an ``async``
  flow and tasks (the engine does not join the heartbeat thread),
  ``PREFECT_LOGGING_TO_API_ENABLED=false``, console logging at WARNING.  The
  heartbeat itself cannot be switched off: ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``
  is an integer >= 30.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench._core import Skip
from bench._procs import LineWorker, free_port, rss_mb, start_process, stop_process, wait_http

__all__ = ["PREFECT_SPEC", "PrefectPeer", "ensure_prefect", "prefect_peer"]

ROOT = Path(__file__).resolve().parent
VENV = ROOT / "peers" / "prefect3"
PREFECT_SPEC = "prefect==3.*"
WORKER = ROOT / "peer" / "prefect_worker.py"

FASTEST_ENV = {
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "BENCH_FLAVOUR": "async",
}
DEFAULT_ENV = {"BENCH_FLAVOUR": "sync"}


def _python() -> Path:
    return VENV / "bin" / "python"


def ensure_prefect() -> str:
    """Make the Prefect venv if needed; return the installed Prefect version."""
    python = _python()
    if not python.exists():
        print(f"    installing {PREFECT_SPEC} into {VENV} (once)", flush=True)
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
        uv = Path(sys.executable).parent / "uv"
        if uv.exists():
            cmd = [str(uv), "pip", "install", "--quiet", "--python", str(python), PREFECT_SPEC]
            env = {**os.environ, "VIRTUAL_ENV": str(VENV)}
        else:
            cmd = [str(python), "-m", "pip", "install", "--quiet", PREFECT_SPEC]
            env = dict(os.environ)
        result = subprocess.run(cmd, env=env, check=False)
        if result.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            raise Skip(f"could not install {PREFECT_SPEC} (exit {result.returncode})")
    out = subprocess.run(
        [str(python), "-c", "import prefect; print(prefect.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise Skip(f"the Prefect venv at {VENV} is broken: {out.stderr.strip()[-300:]}")
    return out.stdout.strip()


@dataclass
class PrefectPeer:
    """A running Prefect server and helpers to start workers against it."""

    version: str
    api_url: str
    home: Path
    server: asyncio.subprocess.Process
    log_dir: Path
    idle_rss_mb: float | None = None

    @property
    def python(self) -> Path:
        return _python()

    @property
    def prefect_cli(self) -> Path:
        return VENV / "bin" / "prefect"

    def env(self, fastest: bool) -> dict[str, str]:
        base = {
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
        }
        return {**base, **(FASTEST_ENV if fastest else DEFAULT_ENV)}

    def server_rss_mb(self) -> float:
        return rss_mb(self.server.pid)

    async def worker(self, fastest: bool) -> LineWorker:
        name = "prefect-fastest" if fastest else "prefect-default"
        return await LineWorker.start(
            [str(self.python), str(WORKER)],
            name=name,
            env=self.env(fastest),
            log=self.log_dir / f"{name}.log",
        )


@asynccontextmanager
async def prefect_peer(work_dir: Path) -> AsyncIterator[PrefectPeer]:
    """Install (once), start Prefect's local server on a fresh SQLite home, stop it after."""
    version = await asyncio.to_thread(ensure_prefect)
    home = work_dir / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    server = await start_process(
        [
            str(VENV / "bin" / "prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        log=work_dir / "prefect-server.log",
    )
    try:
        await wait_http(f"{api_url}/health", timeout=120, process=server)
        await asyncio.sleep(3.0)
        yield PrefectPeer(version, api_url, home, server, work_dir, rss_mb(server.pid))
    finally:
        await stop_process(server)
