"""Run log records as they are stored and read (``execution_logs``).

Each run's records are numbered ``seq`` 1, 2, 3 … by the process that runs
it and written in batches in seq order (``_logs_writer``), so ``seq`` is a
cursor: reading "after N" never misses a record that commits later below N.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Final

from factflow_foundation import InvalidInputError
from factflow_infra.db import execution_logs
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "LEVELS",
    "ExecutionLogRecord",
    "level_number",
    "logs_topic",
    "read_logs",
]

LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def level_number(level: str | int) -> int:
    """``debug`` … ``critical`` (any case) or a number, as a logging level number."""
    if isinstance(level, int):
        return level
    number = LEVELS.get(level.lower())
    if number is None:
        raise InvalidInputError(f"unknown log level {level!r}; choose from {', '.join(LEVELS)}")
    return number


def level_name(level: int) -> str:
    """The lower-case name of a level number (``level 25`` for one in between)."""
    name = logging.getLevelName(level)
    return name.lower() if isinstance(name, str) and not name.startswith("Level") else str(level)


def logs_topic(execution_id: str) -> str:
    """The event-bus topic saying an execution's log records were written."""
    return f"execution-logs:{execution_id}"


class ExecutionLogRecord(BaseModel):
    """One record of a run's log: what a processor or adapter logged, or a failure."""

    model_config = ConfigDict(frozen=True)

    execution_id: str = Field(description="The execution whose log this is.")
    seq: int = Field(description="Position in the run's log (1, 2, 3 …): the paging cursor.")
    at: datetime = Field(description="When it was logged (UTC).")
    level: str = Field(description="debug, info, warning, error or critical.")
    level_no: int = Field(description="The numeric logging level (10 debug … 50 critical).")
    logger: str = Field(description="The name of the logger that wrote it.")
    route: str | None = Field(description="The route, or null for the run as a whole.")
    message_id: str | None = Field(
        description="The message being processed, or null (an adapter, the run itself)."
    )
    attempt: int | None = Field(description="The processing attempt of that message (1, 2, …).")
    message: str = Field(description="The formatted log message (long ones are cut).")
    traceback: str | None = Field(description="The formatted exception, when there was one.")


async def read_logs(
    conn: AsyncConnection,
    execution_id: str,
    *,
    after: int = 0,
    limit: int = 500,
    message_id: str | None = None,
    min_level: int | None = None,
) -> list[ExecutionLogRecord]:
    """Records with ``seq > after`` in seq order (at most ``limit``), optionally of
    one message only and at ``min_level`` or above."""
    t = execution_logs
    query = (
        select(t)
        .where(t.c.execution_id == execution_id, t.c.seq > after)
        .order_by(t.c.seq)
        .limit(limit)
    )
    if message_id is not None:
        query = query.where(t.c.message_id == message_id)
    if min_level is not None:
        query = query.where(t.c.level >= min_level)
    rows = (await conn.execute(query)).mappings().all()
    return [
        ExecutionLogRecord(
            execution_id=row["execution_id"],
            seq=row["seq"],
            at=row["at"],
            level=level_name(row["level"]),
            level_no=row["level"],
            logger=row["logger"],
            route=row["route"],
            message_id=row["message_id"],
            attempt=row["attempt"],
            message=row["message"],
            traceback=row["traceback"],
        )
        for row in rows
    ]
