"""Async database access for SQLite (embedded default) and PostgreSQL.

``Database`` is built in a composition root and passed down; constructing it
does no I/O.  Two entry points:

* ``async with db.transaction() as conn`` - a write transaction.  On SQLite it
  is serialised by a process-wide lock and opened with ``BEGIN IMMEDIATE`` (plus
  a busy timeout for other processes), so load never surfaces as "database is
  locked".  On PostgreSQL it is an ordinary transaction from the pool.
* ``async with db.connect() as conn`` - a read-only unit (a deferred
  transaction on SQLite, which WAL lets run beside the writer).

Repositories take the ``AsyncConnection``; the caller owns the transaction.
A driver error that leaves either block with a clear meaning (a value the
database refuses, a lost connection) leaves it as a FactFlow error (see
``factflow_infra.db.errors``), so callers never import SQLAlchemy's exceptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from factflow_foundation import FactFlowSettings, InfrastructureError, SettingDefaults
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from factflow_infra.db.errors import translate_driver_error

__all__ = ["Database", "display_url", "normalise_url"]


def display_url(url: str) -> str:
    """``url`` safe to print or log: its password as ``***``.  A string that is not
    a database URL shows only its scheme (whatever follows may be a secret)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("://", 1)[0] + "://…"


def normalise_url(url: str) -> str:
    """Accept plain ``sqlite:///`` / ``postgresql://`` URLs and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql" and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend not in ("sqlite", "postgresql"):
        raise InfrastructureError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            "use sqlite:///path/to/file.db or postgresql://user@host/dbname"
        )
    return parsed.render_as_string(hide_password=False)


class Database:
    """Engines, connections and transactions for one database URL."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        busy_timeout_ms: int = SettingDefaults.sqlite_busy_timeout_ms,
        pool_size: int = 10,
    ) -> None:
        self.url = normalise_url(url)
        self.dialect: str = make_url(self.url).get_backend_name()
        self._write_lock = asyncio.Lock()
        self._dir_ready = not self.is_sqlite
        if self.is_sqlite:
            database = make_url(self.url).database
            if not database or database == ":memory:" or "mode=memory" in self.url:
                raise InfrastructureError(
                    "in-memory SQLite is not supported (readers and the writer need to share "
                    "one database); use a file, e.g. sqlite:///./factflow.db"
                )
            # One writer connection, serialised; readers get their own pool.
            self._writer = create_async_engine(self.url, echo=echo, pool_size=1, max_overflow=0)
            self._reader = create_async_engine(self.url, echo=echo, pool_size=pool_size)
            _install_sqlite_hooks(self._writer, busy_timeout_ms, immediate=True)
            _install_sqlite_hooks(self._reader, busy_timeout_ms, immediate=False)
        else:
            self._writer = create_async_engine(
                self.url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 2
            )
            self._reader = self._writer

    def name_sessions(self, name: str) -> None:
        """Name this process's PostgreSQL sessions ``name`` (``application_name``),
        so another process can tell when the last of them is gone
        (``open_sessions``).  Call it before the first connection; no effect on
        SQLite."""
        if not self.is_postgres:
            return
        from sqlalchemy import event

        def _named(dialect: object, record: object, cargs: object, cparams: dict[str, Any]) -> None:
            cparams.setdefault("server_settings", {})["application_name"] = name[:63]

        event.listen(self._writer.sync_engine, "do_connect", _named)

    async def open_sessions(self, name: str) -> int:
        """How many PostgreSQL sessions named ``name`` exist; always 0 on SQLite.

        A process killed while its ``COMMIT`` was on the way leaves a session
        that may still commit: until it is gone, that process's writes are not
        over.  (SQLite rolls a dead writer's transaction back instead.)
        """
        if not self.is_postgres:
            return 0
        from sqlalchemy import text

        query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
        async with self.connect() as conn:
            return int((await conn.execute(query, {"name": name[:63]})).scalar_one())

    async def end_sessions(self, name: str) -> int:
        """Ask PostgreSQL to end the sessions named ``name`` (``pg_terminate_backend``);
        how many it was asked to end.  For sessions a dead process left behind: a
        lost host's linger until TCP keepalive gives up (hours), and a session
        ended in the middle of a ``COMMIT`` either commits or rolls back, never
        later.  Always 0 on SQLite."""
        if not self.is_postgres:
            return 0
        from sqlalchemy import text

        query = text(
            # Waits (up to 5 s) until each has ended (PostgreSQL 14+).
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
            " WHERE application_name = :name AND pid <> pg_backend_pid()"
        )
        async with self.connect() as conn:
            return int((await conn.execute(query, {"name": name[:63]})).scalar_one())

    @classmethod
    def from_settings(cls, settings: FactFlowSettings, *, echo: bool = False) -> Database:
        return cls(
            settings.resolved_database_url,
            echo=echo,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def engine(self) -> AsyncEngine:
        """The engine writes go through (the only one on PostgreSQL)."""
        return self._writer

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        return (self._writer,) if self._reader is self._writer else (self._writer, self._reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on success, rolled back on any error."""
        self._prepare_sqlite_dir()
        with _translated():
            if self.is_sqlite:
                async with self._write_lock, _checkout(self._writer) as conn, conn.begin():
                    yield conn
            else:
                async with _checkout(self._writer) as conn, conn.begin():
                    yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A read unit; nothing it does is committed."""
        self._prepare_sqlite_dir()
        with _translated():
            async with _checkout(self._reader) as conn:
                try:
                    yield conn
                finally:
                    if conn.in_transaction():
                        await conn.rollback()

    async def ping(self) -> None:
        """Raise ``InfrastructureError`` unless the database answers."""
        from sqlalchemy import text

        async with self.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()

    def _prepare_sqlite_dir(self) -> None:
        """Create the SQLite file's directory on first use (not in the constructor)."""
        if self._dir_ready:
            return
        database = make_url(self.url).database
        if database and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._dir_ready = True

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


def _install_sqlite_hooks(engine: AsyncEngine, busy_timeout_ms: int, *, immediate: bool) -> None:
    """Take over transaction control from pysqlite (SQLAlchemy's documented recipe).

    pysqlite defers BEGIN until the first write, which breaks read-then-write
    transactions; we switch its implicit handling off and emit BEGIN ourselves.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    begin_sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_sql)


@contextmanager
def _translated() -> Iterator[None]:
    """Re-raise a driver error that has a clear meaning as that FactFlow error."""
    try:
        yield
    except DBAPIError as exc:
        translated = translate_driver_error(exc)
        if translated is None:
            raise
        raise translated from exc


@asynccontextmanager
async def _checkout(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection; failing to get one is one clear ``InfrastructureError``."""
    try:
        conn = await engine.connect()
    except (OSError, DBAPIError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise InfrastructureError(
            f"database unreachable ({engine.url.render_as_string(hide_password=True)}): {reason}"
        ) from exc
    try:
        yield conn
    finally:
        await conn.close()
