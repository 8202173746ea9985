"""A real ``factflow-server`` (uvicorn) process on a throwaway database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench._core import Skip
from bench._procs import free_port, rss_mb, start_process, stop_process, wait_http

__all__ = ["RunningServer", "factflow_server", "server_binary"]

API = "/api/v1"


def server_binary() -> Path:
    binary = Path(sys.executable).parent / "factflow-server"
    if not binary.exists():
        raise Skip("factflow-server is not installed in this venv (factflow-server package)")
    return binary


@dataclass
class RunningServer:
    base_url: str
    pid: int

    @property
    def api(self) -> str:
        return self.base_url + API

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.api, timeout=120.0, **kwargs)


async def save_config(client: httpx.AsyncClient, config: Mapping[str, Any]) -> None:
    response = await client.post(
        "/configs", json=dict(config), headers={"content-type": "application/json"}
    )
    response.raise_for_status()


@asynccontextmanager
async def factflow_server(
    url: str,
    data_dir: Path,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[RunningServer]:
    """Start ``factflow-server`` on ``url`` (migrating it), yield once ready, stop it."""
    port = free_port()
    process = await start_process(
        [
            str(server_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            url,
            "--data-dir",
            str(data_dir),
            "--migrate",
            "--log-level",
            "warning",
        ],
        env=dict(env or {}),
        log=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_http(f"{base}/readyz", timeout=60, process=process)
        yield RunningServer(base, process.pid)
    finally:
        await stop_process(process)
