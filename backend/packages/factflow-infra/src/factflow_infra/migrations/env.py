"""Alembic environment: online migrations over a connection we are handed,
or (``alembic`` CLI) over an async engine built from the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from factflow_infra.db.database import Database
from factflow_infra.db.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    db = Database(url)
    try:
        async with db.transaction() as conn:
            await conn.run_sync(_run)
    finally:
        await db.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from factflow_foundation import FactFlowSettings

    url = config.get_main_option("sqlalchemy.url") or FactFlowSettings().resolved_database_url
    asyncio.run(_run_async(url))
