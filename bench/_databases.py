"""Throwaway databases: a SQLite file in a temp dir, or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_POSTGRES", "probe_postgres", "throwaway_database"]

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def probe_postgres(url: str) -> str | None:
    """``None`` when PostgreSQL answers at ``url``, else why not."""
    try:
        conn = await asyncpg.connect(_plain(url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL at {url} did not answer: {exc}"
    await conn.close()
    return None


@asynccontextmanager
async def throwaway_database(
    kind: str, work_dir: Path, admin_url: str | None
) -> AsyncIterator[str]:
    """Yield the async URL of an empty database of ``kind`` (schema not created yet);
    drop it afterwards."""
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="sqlite-", dir=work_dir))
        try:
            yield f"sqlite+aiosqlite:///{directory / 'factflow.db'}"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    if kind != "postgresql" or admin_url is None:
        raise ValueError(f"no database of kind {kind!r} available")
    name = f"factflow_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_plain(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = (
        make_url(admin_url)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        yield url
    finally:
        admin = await asyncpg.connect(_plain(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
