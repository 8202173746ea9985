"""Child processes: RSS of a process tree, free ports, line-protocol workers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

__all__ = ["LineWorker", "free_port", "rss_mb", "stop_process", "wait_http"]

MARK = "@@BENCH "


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                out.extend(int(p) for p in fh.read().split())
    except OSError:
        return out
    return out


def rss_mb(pid: int, *, tree: bool = True) -> float:
    """Resident set size of ``pid`` (and its descendants) in MB (10^6 bytes)."""
    total_kb = 0
    pids = [pid]
    seen: set[int] = set()
    while pids:
        current = pids.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
        if tree:
            pids.extend(_children(current))
    return total_kb * 1024 / 1e6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(
    url: str, *, timeout: float = 60.0, process: asyncio.subprocess.Process | None = None
) -> None:
    """Until ``url`` answers 2xx (or raise ``TimeoutError``)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if process is not None and process.returncode is not None:
                raise RuntimeError(
                    f"process exited with {process.returncode} before {url} answered"
                )
            try:
                response = await client.get(url)
                if response.is_success:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:g}s")
            await asyncio.sleep(0.1)


async def stop_process(process: asyncio.subprocess.Process, timeout: float = 15.0) -> None:
    """SIGINT the process group, then SIGKILL it if it lingers."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


async def start_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
    stdin: bool = False,
    stdout_pipe: bool = False,
) -> asyncio.subprocess.Process:
    """Start ``argv`` in its own process group (so it can be stopped as a whole)."""
    full_env = {**os.environ, **(env or {})}
    out: Any = asyncio.subprocess.PIPE if stdout_pipe else asyncio.subprocess.DEVNULL
    err: Any = asyncio.subprocess.DEVNULL
    handle = None
    if log is not None:
        handle = open(log, "ab")  # noqa: SIM115, ASYNC230 - handed to the child, closed below
        err = handle
        if not stdout_pipe:
            out = handle
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            env=full_env,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            limit=16 * 1024 * 1024,
        )
    finally:
        if handle is not None:
            handle.close()


class LineWorker:
    """A child that answers JSON commands with ``@@BENCH <json>`` lines."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.first: dict[str, Any] = {}

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        name: str,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        ready_timeout: float = 120.0,
    ) -> LineWorker:
        process = await start_process(argv, env=env, log=log, stdin=True, stdout_pipe=True)
        worker = cls(process, name)
        worker.first = await asyncio.wait_for(worker.read(), ready_timeout)
        return worker

    async def read(self) -> dict[str, Any]:
        stream = self.process.stdout
        if stream is None:
            raise RuntimeError("worker has no stdout")
        while True:
            raw = await stream.readline()
            if not raw:
                raise RuntimeError(f"{self.name} exited (code {self.process.returncode})")
            line = raw.decode("utf-8", "replace")
            if line.startswith(MARK):
                data: dict[str, Any] = json.loads(line[len(MARK) :])
                return data

    async def send(self, command: Mapping[str, Any]) -> None:
        stream = self.process.stdin
        if stream is None:
            raise RuntimeError("worker has no stdin")
        stream.write((json.dumps(command) + "\n").encode())
        await stream.drain()

    async def ask(self, command: Mapping[str, Any], timeout: float = 600.0) -> dict[str, Any]:
        await self.send(command)
        reply = await asyncio.wait_for(self.read(), timeout)
        if "error" in reply:
            raise RuntimeError(f"{self.name}: {reply['error']}")
        return reply

    async def close(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ask({"op": "exit"}), 10)
        await stop_process(self.process)
