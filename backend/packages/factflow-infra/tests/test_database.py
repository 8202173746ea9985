"""Database plumbing: migrations match the models, SQLite pragmas, URL handling."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from factflow_foundation import InfrastructureError, new_id, utcnow
from factflow_infra.db import (
    Database,
    current_revision,
    head_revision,
    metadata,
    normalise_url,
    pipeline_executions,
    upgrade_to_head,
)
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError


async def test_migrations_are_at_head_and_idempotent(db: Database) -> None:
    assert await current_revision(db) == head_revision()
    await upgrade_to_head(db)
    assert await current_revision(db) == head_revision()


async def test_autogenerate_finds_no_difference_between_models_and_migrations(
    db: Database,
) -> None:
    def _diff(sync_conn: Connection) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with db.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


@pytest.mark.dialect("sqlite")
async def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    async with db.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


def _execution_row(**overrides: Any) -> dict[str, Any]:
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


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    row = _execution_row()
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(insert(pipeline_executions).values(row))
            raise RuntimeError("boom")
    async with db.connect() as conn:
        found = (await conn.execute(select(pipeline_executions.c.id))).all()
    assert found == []


async def test_foreign_keys_are_enforced(db: Database) -> None:
    from factflow_infra.db import execution_events

    with pytest.raises(IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                insert(execution_events).values(
                    execution_id="missing", seq=1, kind="status", data={}, at=utcnow()
                )
            )


@pytest.mark.dialect("postgresql")
async def test_snapshot_update_is_rejected_by_trigger_on_postgres(db: Database) -> None:
    row = _execution_row()
    async with db.transaction() as conn:
        await conn.execute(insert(pipeline_executions).values(row))
    with pytest.raises(IntegrityError, match="immutable"):
        async with db.transaction() as conn:
            await conn.execute(
                pipeline_executions.update()
                .where(pipeline_executions.c.id == row["id"])
                .values(config_snapshot={"routes": {"x": {}}})
            )
    # Updating other columns (and re-writing the same snapshot) stays allowed.
    async with db.transaction() as conn:
        await conn.execute(
            pipeline_executions.update()
            .where(pipeline_executions.c.id == row["id"])
            .values(status="running", config_snapshot=row["config_snapshot"])
        )


async def test_datetimes_come_back_aware_utc(db: Database) -> None:
    row = _execution_row()
    async with db.transaction() as conn:
        await conn.execute(insert(pipeline_executions).values(row))
    async with db.connect() as conn:
        created = (await conn.execute(select(pipeline_executions.c.created_at))).scalar_one()
    assert created.tzinfo is not None
    assert abs((created - row["created_at"]).total_seconds()) < 0.001


def test_normalise_url_picks_async_drivers() -> None:
    assert normalise_url("sqlite:///x.db").startswith("sqlite+aiosqlite:///")
    assert normalise_url("postgresql://u@h/d").startswith("postgresql+asyncpg://")
    with pytest.raises(InfrastructureError, match="unsupported database URL"):
        normalise_url("mysql://u@h/d")


async def test_unreachable_postgres_is_one_clear_error() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/none")
    try:
        with pytest.raises(InfrastructureError, match="database unreachable"):
            await db.ping()
    finally:
        await db.dispose()


def test_in_memory_sqlite_is_refused_with_a_clear_error() -> None:
    with pytest.raises(InfrastructureError, match="in-memory SQLite is not supported"):
        Database("sqlite:///:memory:")


async def test_sqlite_directory_is_created_on_first_use_not_construction(tmp_path: Any) -> None:
    target = tmp_path / "nested" / "dir" / "f.db"
    db = Database(f"sqlite:///{target}")
    assert not target.parent.exists()
    try:
        await db.ping()
        assert target.parent.is_dir()
    finally:
        await db.dispose()


def test_head_revision_agrees_with_alembic() -> None:
    from alembic.script import ScriptDirectory
    from factflow_infra.db.migrations import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_a_fresh_database_has_no_revision_until_migrated(tmp_path: Any) -> None:
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await current_revision(fresh) is None
        await upgrade_to_head(fresh)
        assert await current_revision(fresh) == head_revision()
    finally:
        await fresh.dispose()


def test_importing_the_service_tiers_does_not_load_alembic() -> None:
    import subprocess
    import sys

    code = (
        "import sys, factflow_infra, factflow_lineage, factflow_execution; "
        "sys.exit(1 if 'alembic' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
