"""pytest fixtures: ``db`` (SQLite and PostgreSQL), ``settings``, ``rabbitmq_url`` and friends."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from factflow_foundation import FactFlowSettings

from factflow_infra.db import Database, upgrade_to_head
from factflow_infra.testing.databases import (
    PostgresServer,
    create_pg_database,
    drop_pg_database,
    probe_postgres,
    truncate_all,
)

DIALECTS = ("sqlite", "postgresql")
TEST_RABBITMQ_URL_ENV = "FACTFLOW_TEST_RABBITMQ_URL"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The PostgreSQL server tests use; skips (fails under CI=true) when absent."""
    server, reason = asyncio.run(probe_postgres())
    if server is None:
        if _in_ci():
            pytest.fail(f"CI=true but PostgreSQL is unusable: {reason}", pytrace=False)
        pytest.skip(reason)
    return server


async def _probe_rabbitmq(url: str) -> str | None:
    import aio_pika

    try:
        connection = await aio_pika.connect(url, timeout=5)
    except Exception as exc:
        return f"RabbitMQ is unusable at {url.rsplit('@', 1)[-1]}: {exc!r}"
    await connection.close()
    return None


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The RabbitMQ tests use (``FACTFLOW_TEST_RABBITMQ_URL``, default guest on
    127.0.0.1:5672); skips (fails under CI=true) when it does not answer.  Tests
    make their queues unique (execution ids) and delete them."""
    url = os.environ.get(TEST_RABBITMQ_URL_ENV, DEFAULT_RABBITMQ_URL)
    # Its own thread and loop: the fixture may be requested from inside a running loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        reason = pool.submit(asyncio.run, _probe_rabbitmq(url)).result()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A migrated database for this test session, dropped at its end."""
    url = asyncio.run(create_pg_database(postgres_server))
    yield url
    asyncio.run(drop_pg_database(postgres_server, url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file each test copies (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"

    async def _make() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade_to_head(db)
        finally:
            await db.dispose()

    asyncio.run(_make())
    return path


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated database: a fresh SQLite file or the session's
    PostgreSQL database, truncated."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "factflow.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A ``Database`` on an empty, migrated database (runs once per dialect)."""
    database = Database(db_url)
    if database.is_postgres:
        await truncate_all(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> FactFlowSettings:
    """Settings pointing at the test database and a temporary data directory."""
    return FactFlowSettings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        heartbeat_interval=0.5,
        heartbeat_timeout=3.0,
        shutdown_grace=2.0,
        cancel_grace=1.0,
        lineage_flush_interval=0.05,
        progress_interval=0.05,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dialect(name): run this database test only on 'sqlite' or 'postgresql'"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) the other dialect's half of ``@pytest.mark.dialect`` tests."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("dialect")
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("db_url") if callspec is not None else None
        if marker is not None and param is not None and param != marker.args[0]:
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
