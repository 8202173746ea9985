"""Driver errors leave ``Database`` blocks translated when their meaning is clear."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from factflow_foundation import InfrastructureError, InvalidInputError, new_id, utcnow
from factflow_infra.db import (
    Database,
    DatabaseUnavailableError,
    DatabaseValueError,
    pipeline_executions,
)
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError


def _row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": new_id(),
        "config_name": "demo",
        "config_snapshot": {"routes": {}},
        "status": "pending",
        "source": "api",
        "created_at": utcnow(),
    }
    row.update(overrides)
    return row


async def _ids(db: Database) -> list[str]:
    async with db.connect() as conn:
        return list((await conn.execute(select(pipeline_executions.c.id))).scalars())


@pytest.mark.dialect("postgresql")
async def test_a_value_postgresql_cannot_hold_is_invalid_input_and_writes_nothing(
    db: Database,
) -> None:
    with pytest.raises(DatabaseValueError, match="NUL character") as caught:
        async with db.transaction() as conn:
            await conn.execute(insert(pipeline_executions).values(_row()))
            await conn.execute(insert(pipeline_executions).values(_row(config_name="a\x00b")))
    assert isinstance(caught.value, InvalidInputError)
    assert isinstance(caught.value.__cause__, DBAPIError)  # kept for the logs
    assert await _ids(db) == []  # the whole transaction rolled back
    with pytest.raises(DatabaseValueError):  # reads too: comparing with a NUL
        async with db.connect() as conn:
            await conn.execute(
                select(pipeline_executions).where(pipeline_executions.c.id == "x\x00")
            )


@pytest.mark.dialect("postgresql")
async def test_a_connection_lost_mid_transaction_is_infrastructure(db: Database) -> None:
    with pytest.raises(DatabaseUnavailableError, match="unavailable") as caught:
        async with db.transaction() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert isinstance(caught.value, InfrastructureError)
    assert await _ids(db) == []  # and the pool recovers


@pytest.mark.dialect("sqlite")
async def test_a_sqlite_file_another_process_keeps_locked_is_infrastructure(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    impatient = Database(db_url, busy_timeout_ms=0)  # as another process would be
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_the_write_lock() -> None:
        async with db.transaction() as conn:
            await conn.execute(insert(pipeline_executions).values(_row()))
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_write_lock())
    try:
        await holding.wait()
        with pytest.raises(DatabaseUnavailableError, match="busy"):
            async with impatient.transaction() as conn:
                await conn.execute(insert(pipeline_executions).values(_row()))
    finally:
        release.set()
        await holder
        await impatient.dispose()
    assert len(await _ids(db)) == 1


async def test_an_integrity_violation_stays_the_driver_error(db: Database) -> None:
    row = _row()
    async with db.transaction() as conn:
        await conn.execute(insert(pipeline_executions).values(row))
    with pytest.raises(IntegrityError):  # a bug to fix, not a condition to report
        async with db.transaction() as conn:
            await conn.execute(insert(pipeline_executions).values(row))
