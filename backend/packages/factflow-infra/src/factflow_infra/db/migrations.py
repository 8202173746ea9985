"""Run the Alembic migrations programmatically (no ``alembic.ini`` needed).

``upgrade_to_head`` is what ``factflow server --migrate``, the demo and the test
fixtures call.  The repository's ``alembic.ini`` points at the same scripts for
people who prefer the ``alembic`` command.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from factflow_infra.db.database import Database

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade_to_head"]


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at FactFlow's migration scripts."""
    config = Config()
    config.set_main_option("script_location", "factflow_infra:migrations")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision the installed code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return head


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""

    def _read(sync_conn: Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with db.connect() as conn:
        return await conn.run_sync(_read)


async def upgrade_to_head(db: Database) -> None:
    """Bring the database schema to the newest revision (idempotent)."""

    def _upgrade(sync_conn: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.upgrade(config, "head")

    async with db.transaction() as conn:
        await conn.run_sync(_upgrade)
