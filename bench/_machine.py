"""What the results were measured on: machine, versions, date, command."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any

import asyncpg

__all__ = ["machine_info"]


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        return None
    return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


async def _postgres_version(admin_url: str | None) -> str | None:
    if admin_url is None:
        return None
    try:
        conn = await asyncpg.connect(admin_url.replace("+asyncpg", ""), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def machine_info(admin_url: str | None, argv: list[str]) -> dict[str, Any]:
    """Cores, memory, CPU, OS, Python, SQLite, PostgreSQL, date and the command."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(argv),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": await _postgres_version(admin_url),
        "load_average_at_start": list(os.getloadavg()),
    }
