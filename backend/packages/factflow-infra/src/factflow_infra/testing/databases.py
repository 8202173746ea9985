"""Throwaway databases for tests: create, migrate, truncate, drop."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from factflow_infra.db import Database, metadata, upgrade_to_head

__all__ = [
    "TEST_POSTGRES_URL_ENV",
    "PostgresServer",
    "create_pg_database",
    "drop_pg_database",
    "probe_postgres",
    "truncate_all",
]

TEST_POSTGRES_URL_ENV = "FACTFLOW_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class PostgresServer:
    """A reachable PostgreSQL server (its maintenance-database URL)."""

    admin_url: str

    def database_url(self, name: str) -> str:
        url = make_url(self.admin_url).set(drivername="postgresql+asyncpg", database=name)
        return url.render_as_string(hide_password=False)


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def probe_postgres() -> tuple[PostgresServer | None, str]:
    """Find the test server; return it, or ``None`` with the reason it is unusable."""
    url = os.environ.get(TEST_POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL
    try:
        conn = await asyncpg.connect(_plain(url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return None, f"PostgreSQL at {url} did not answer ({exc}); set {TEST_POSTGRES_URL_ENV}"
    await conn.close()
    return PostgresServer(url), ""


async def create_pg_database(server: PostgresServer, prefix: str = "factflow_test") -> str:
    """Create a uniquely named, migrated database; return its async URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(_plain(server.admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = server.database_url(name)
    db = Database(url)
    try:
        await upgrade_to_head(db)
    finally:
        await db.dispose()
    return url


async def drop_pg_database(server: PostgresServer, url: str) -> None:
    """Drop a database made by ``create_pg_database`` (closing its connections)."""
    name = make_url(url).database
    conn = await asyncpg.connect(_plain(server.admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def truncate_all(db: Database) -> None:
    """Empty every FactFlow table (keeps the schema and the migration stamp)."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with db.transaction() as conn:
        if db.is_postgres:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))
