"""Lineage test helpers: parent execution rows and entry factories."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from factflow_foundation import new_id, utcnow
from factflow_infra.db import Database, lineage_records, pipeline_executions
from factflow_protocols import LineageEntry
from sqlalchemy import func, insert, select

MakeExecution = Callable[..., Awaitable[str]]
MakeEntry = Callable[..., LineageEntry]
CountRows = Callable[..., Awaitable[int]]


async def insert_execution(db: Database, execution_id: str | None = None) -> str:
    """A minimal ``pipeline_executions`` row (lineage rows need it: FK)."""
    execution_id = execution_id or new_id()
    async with db.transaction() as conn:
        await conn.execute(
            insert(pipeline_executions).values(
                id=execution_id,
                config_name="test",
                config_snapshot={},
                status="running",
                source="api",
                created_at=utcnow(),
            )
        )
    return execution_id


@pytest.fixture
def make_execution(db: Database) -> MakeExecution:
    """``await make_execution(id=None)`` inserts a parent execution row, returns its id."""

    async def _make(execution_id: str | None = None) -> str:
        return await insert_execution(db, execution_id)

    return _make


@pytest.fixture
def make_entry() -> MakeEntry:
    """``make_entry(execution_id, **overrides)`` builds a processed root entry."""

    def _make(execution_id: str, **overrides: Any) -> LineageEntry:
        message_id = overrides.pop("message_id", None) or new_id()
        finished = utcnow()
        values: dict[str, Any] = {
            "execution_id": execution_id,
            "message_id": message_id,
            "parent_message_id": None,
            "origin_message_id": message_id,
            "route": "extract",
            "status": "processed",
            "attempt": 1,
            "started_at": finished - timedelta(milliseconds=5),
            "finished_at": finished,
            "error": None,
            "payload": {"text": "hello"},
            "outputs": 1,
        }
        values.update(overrides)
        return LineageEntry(**values)

    return _make


@pytest.fixture
def count_rows(db: Database) -> CountRows:
    """``await count_rows(execution_id=None)``: rows in ``lineage_records``."""

    async def _count(execution_id: str | None = None) -> int:
        query = select(func.count()).select_from(lineage_records)
        if execution_id is not None:
            query = query.where(lineage_records.c.execution_id == execution_id)
        async with db.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    return _count
