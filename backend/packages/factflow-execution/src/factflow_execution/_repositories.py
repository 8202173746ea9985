"""Row access for stored configs and executions (SQL only; no transactions here).

Repositories take the caller's ``AsyncConnection``: they add, get and query,
and never commit.  ``ExecutionService`` (or the request boundary) owns the
transaction.  Status is written in exactly one place, ``transitions.py``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from factflow_foundation import InvalidInputError, fingerprint, loads, new_id, utcnow
from factflow_infra.db import pipeline_configs, pipeline_executions
from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._errors import (
    AmbiguousIdError,
    ConfigNotFoundError,
    ExecutionNotFoundError,
)
from factflow_execution._models import (
    ACTIVE_STATUSES,
    ConfigSourceType,
    ExecutionStats,
    ExecutionStatus,
    PipelineConfig,
    PipelineExecution,
    ReplaySource,
)

__all__ = [
    "ActiveRow",
    "ExecutionFilter",
    "ExecutionPage",
    "PipelineConfigRepository",
    "PipelineExecutionRepository",
]

_MIN_PREFIX = 4


class PipelineConfigRepository:
    """Stored, versioned pipeline configs."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def save(
        self, name: str, definition: Mapping[str, Any], description: str | None = None
    ) -> tuple[PipelineConfig, bool]:
        """Store ``definition`` as the next version of ``name``.

        Returns ``(config, created)``; an unchanged definition returns the
        latest version with ``created=False`` and writes nothing.
        """
        checksum = fingerprint(definition)
        latest = await self.get_latest(name, include_archived=True)
        if latest is not None and latest.checksum == checksum and not latest.archived:
            return latest, False
        version = 1 if latest is None else latest.version + 1
        row = {
            "id": new_id(),
            "name": name,
            "version": version,
            "definition": dict(definition),
            "checksum": checksum,
            "description": description,
            "created_at": utcnow(),
            "archived_at": None,
        }
        await self.conn.execute(insert(pipeline_configs).values(row))
        return PipelineConfig.model_validate(row), True

    async def get_latest(
        self, name: str, *, include_archived: bool = False
    ) -> PipelineConfig | None:
        query = (
            select(pipeline_configs)
            .where(pipeline_configs.c.name == name)
            .order_by(pipeline_configs.c.version.desc())
            .limit(1)
        )
        row = (await self.conn.execute(query)).mappings().first()
        if row is None:
            return None
        config = PipelineConfig.model_validate(dict(row))
        if config.archived and not include_archived:
            return None
        return config

    async def get(self, name: str, version: int | None = None) -> PipelineConfig:
        """A version of ``name`` (the latest when ``version`` is None); archived included."""
        if version is None:
            config = await self.get_latest(name, include_archived=True)
        else:
            query = select(pipeline_configs).where(
                pipeline_configs.c.name == name, pipeline_configs.c.version == version
            )
            row = (await self.conn.execute(query)).mappings().first()
            config = None if row is None else PipelineConfig.model_validate(dict(row))
        if config is None:
            raise ConfigNotFoundError(name, version)
        return config

    async def get_by_id(self, config_id: str) -> PipelineConfig | None:
        query = select(pipeline_configs).where(pipeline_configs.c.id == config_id)
        row = (await self.conn.execute(query)).mappings().first()
        return None if row is None else PipelineConfig.model_validate(dict(row))

    async def list_latest(self, *, include_archived: bool = False) -> list[PipelineConfig]:
        """The newest version of every config name, by name."""
        newest = (
            select(pipeline_configs.c.name, func.max(pipeline_configs.c.version).label("version"))
            .group_by(pipeline_configs.c.name)
            .subquery()
        )
        query = (
            select(pipeline_configs)
            .join(
                newest,
                and_(
                    pipeline_configs.c.name == newest.c.name,
                    pipeline_configs.c.version == newest.c.version,
                ),
            )
            .order_by(pipeline_configs.c.name)
        )
        if not include_archived:
            query = query.where(pipeline_configs.c.archived_at.is_(None))
        rows = (await self.conn.execute(query)).mappings().all()
        return [PipelineConfig.model_validate(dict(r)) for r in rows]

    async def versions(self, name: str) -> list[PipelineConfig]:
        query = (
            select(pipeline_configs)
            .where(pipeline_configs.c.name == name)
            .order_by(pipeline_configs.c.version)
        )
        rows = (await self.conn.execute(query)).mappings().all()
        if not rows:
            raise ConfigNotFoundError(name)
        return [PipelineConfig.model_validate(dict(r)) for r in rows]

    async def archive(self, name: str) -> list[PipelineConfig]:
        """Mark every version of ``name`` archived (idempotent); executions keep their
        snapshots.  Returns the versions."""
        await self.versions(name)
        await self.conn.execute(
            update(pipeline_configs)
            .where(pipeline_configs.c.name == name, pipeline_configs.c.archived_at.is_(None))
            .values(archived_at=utcnow())
        )
        return await self.versions(name)


@dataclass(frozen=True)
class ExecutionFilter:
    """Filters of the execution list (all optional, combined with AND)."""

    statuses: Sequence[str] = ()
    config_name: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    parent_execution_id: str | None = None
    schedule_id: str | None = None
    #: ``(key, value)`` pairs the run's labels must all have.
    labels: Sequence[tuple[str, str]] = ()


class ActiveRow(NamedTuple):
    """What recovery needs to know of a pending or running execution."""

    id: str
    status: ExecutionStatus
    owner: str | None
    heartbeat_at: datetime | None


@dataclass(frozen=True)
class ExecutionPage:
    """One page of executions, newest first, and the cursor of the next page."""

    items: list[PipelineExecution]
    next_cursor: str | None


def encode_cursor(created_at: datetime, execution_id: str) -> str:
    raw = f"{created_at.isoformat()}|{execution_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, execution_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        if not execution_id or any(c not in "0123456789abcdef-" for c in execution_id):
            raise ValueError("not an execution id")
        return datetime.fromisoformat(created), execution_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"invalid cursor {cursor!r}: pass the next_cursor of a previous page unchanged"
        ) from exc


def _has_label(dialect: str, key: str, value: str) -> ColumnElement[bool]:
    """``labels[key] == value``, for any key, on both databases.

    PostgreSQL: JSONB containment (``labels @> '{"key": "value"}'``), which a GIN
    index can serve.  SQLite: ``json_each`` over the object; its ``key`` column
    is the decoded key, so keys with quotes, dots or non-ASCII letters match as
    written (a ``json_extract`` path would need them quoted, and misses escaped
    non-ASCII keys).
    """
    labels = pipeline_executions.c.labels
    if dialect == "postgresql":
        return type_coerce(labels, JSONB).contains({key: value})
    pairs = func.json_each(labels).table_valued("key", "value")
    return exists().where(pairs.c.key == key, pairs.c.value == value)


def row_to_execution(row: Mapping[Any, Any]) -> PipelineExecution:
    data = dict(row)
    data.setdefault("config_snapshot", {})  # a page read without snapshots
    for key in ("config_snapshot", "replay_source", "stats", "labels"):
        if isinstance(data.get(key), str):  # defensive: some drivers hand back text
            data[key] = loads(data[key])
    if data.get("stats") is not None:
        data["stats"] = ExecutionStats.model_validate(data["stats"])
    if data.get("replay_source") is not None:
        data["replay_source"] = ReplaySource.model_validate(data["replay_source"])
    data["labels"] = data.get("labels") or {}
    return PipelineExecution.model_validate(data)


class PipelineExecutionRepository:
    """Execution rows: insert, get, resolve id prefixes, list with keyset paging."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        *,
        execution_id: str,
        config: PipelineConfig | None,
        config_name: str,
        snapshot: Mapping[str, Any],
        source: ConfigSourceType,
        replay_source: ReplaySource | None = None,
        parent_execution_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        owner: str | None = None,
        schedule_id: str | None = None,
    ) -> PipelineExecution:
        """Insert a new ``pending`` execution (its status event is the caller's)."""
        now = utcnow()
        row: dict[str, Any] = {
            "id": execution_id,
            "config_id": config.id if config else None,
            "config_name": config_name,
            "config_version": config.version if config else None,
            "config_snapshot": dict(snapshot),
            "status": "pending",
            "source": source.value,
            "replay_source": replay_source.model_dump(mode="json") if replay_source else None,
            "parent_execution_id": parent_execution_id,
            "created_at": now,
            "owner": owner,
            "heartbeat_at": now if owner else None,
            "labels": dict(labels or {}),
            "last_event_seq": 0,
            "schedule_id": schedule_id,
        }
        await self.conn.execute(insert(pipeline_executions).values(row))
        return row_to_execution(row)

    async def find(self, execution_id: str) -> PipelineExecution | None:
        query = select(pipeline_executions).where(pipeline_executions.c.id == execution_id)
        row = (await self.conn.execute(query)).mappings().first()
        return None if row is None else row_to_execution(row)

    async def get(self, execution_id: str) -> PipelineExecution:
        execution = await self.find(execution_id)
        if execution is None:
            raise ExecutionNotFoundError(execution_id)
        return execution

    async def resumes_of(self, execution_id: str) -> list[PipelineExecution]:
        """The executions that resume ``execution_id``, oldest first."""
        t = pipeline_executions
        query = (
            select(t)
            .where(
                t.c.parent_execution_id == execution_id, t.c.source == ConfigSourceType.RESUME.value
            )
            .order_by(t.c.created_at, t.c.id)
        )
        return [row_to_execution(row) for row in (await self.conn.execute(query)).mappings()]

    async def resolve_id(self, id_or_prefix: str) -> str:
        """The full id for an id or a unique prefix of at least 4 characters."""
        if await self.find(id_or_prefix) is not None:
            return id_or_prefix
        prefix = id_or_prefix.strip().lower()
        if len(prefix) < _MIN_PREFIX or any(c not in "0123456789abcdef-" for c in prefix):
            raise ExecutionNotFoundError(id_or_prefix)
        query = (
            select(pipeline_executions.c.id)
            .where(pipeline_executions.c.id.like(f"{prefix}%"))
            .order_by(pipeline_executions.c.id)
            .limit(10)
        )
        ids = list((await self.conn.execute(query)).scalars())
        if not ids:
            raise ExecutionNotFoundError(id_or_prefix)
        if len(ids) > 1:
            raise AmbiguousIdError(id_or_prefix, ids)
        return str(ids[0])

    async def page(
        self,
        filters: ExecutionFilter,
        *,
        limit: int = 50,
        cursor: str | None = None,
        snapshots: bool = True,
    ) -> ExecutionPage:
        """Executions newest first; keyset paging on ``(created_at, id)`` is stable
        under concurrent inserts (new rows land before the first page).  With
        ``snapshots=False`` the (possibly large) snapshots are not read: each
        item's ``config_snapshot`` is empty."""
        if not 1 <= limit <= 500:
            raise InvalidInputError(f"limit must be between 1 and 500, not {limit}")
        t = pipeline_executions
        query = select(t) if snapshots else select(*(c for c in t.c if c.key != "config_snapshot"))
        if filters.statuses:
            query = query.where(t.c.status.in_(list(filters.statuses)))
        if filters.config_name is not None:
            query = query.where(t.c.config_name == filters.config_name)
        if filters.source is not None:
            query = query.where(t.c.source == filters.source)
        if filters.since is not None:
            query = query.where(t.c.created_at >= filters.since)
        if filters.until is not None:
            query = query.where(t.c.created_at < filters.until)
        if filters.parent_execution_id is not None:
            query = query.where(t.c.parent_execution_id == filters.parent_execution_id)
        if filters.schedule_id is not None:
            query = query.where(t.c.schedule_id == filters.schedule_id)
        for key, value in filters.labels:
            query = query.where(_has_label(self.conn.dialect.name, key, value))
        if cursor is not None:
            created_at, last_id = decode_cursor(cursor)
            query = query.where(
                or_(
                    t.c.created_at < created_at,
                    and_(t.c.created_at == created_at, t.c.id < last_id),
                )
            )
        query = query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit + 1)
        rows = (await self.conn.execute(query)).mappings().all()
        items = [row_to_execution(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor(last.created_at, last.id)
        return ExecutionPage(items=items, next_cursor=next_cursor)

    async def active(self, owner: str | None = None) -> list[ActiveRow]:
        """Every pending or running execution (of ``owner`` only, when given)."""
        t = pipeline_executions
        query = select(t.c.id, t.c.status, t.c.owner, t.c.heartbeat_at).where(
            t.c.status.in_(sorted(ACTIVE_STATUSES))
        )
        if owner is not None:
            query = query.where(t.c.owner == owner)
        return [ActiveRow(*r) for r in (await self.conn.execute(query)).all()]

    async def renew_heartbeats(self, owner: str) -> int:
        """Renew the heartbeat of every active execution ``owner`` runs (one statement)."""
        t = pipeline_executions
        result = await self.conn.execute(
            update(t)
            .where(t.c.owner == owner, t.c.status.in_(sorted(ACTIVE_STATUSES)))
            .values(heartbeat_at=utcnow())
        )
        return int(result.rowcount or 0)
