"""Run the Alembic migrations programmatically (no ``alembic.ini`` needed).

``upgrade_to_head`` is what ``factflow server --migrate``, the demo and the test
fixtures call.  The repository's ``alembic.ini`` points at the same scripts for
people who prefer the ``alembic`` command.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from factflow_infra.db.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade_to_head"]

# Alembic (about 11 MB of modules) is imported only when a migration has to
# run: a process started on an up-to-date database never loads it.  The head
# revision is read from the migration scripts' own ``revision`` /
# ``down_revision`` lines; a test checks it agrees with Alembic's.
_REVISION = re.compile(r'^revision(?::[^=]*)?=\s*["\']([^"\']+)["\']', re.MULTILINE)
_DOWN = re.compile(r'^down_revision(?::[^=]*)?=\s*(?:None|["\']([^"\']+)["\'])', re.MULTILINE)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at FactFlow's migration scripts."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "factflow_infra:migrations")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head_revision() -> str:
    """The newest revision the installed code knows."""
    revisions: set[str] = set()
    parents: set[str] = set()
    versions = resources.files("factflow_infra.migrations").joinpath("versions")
    for entry in versions.iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        source = entry.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN.search(source)
        if down is not None and down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:  # pragma: no cover - the package ships one linear history
        raise RuntimeError(f"expected one head revision, found {sorted(heads)}")
    return heads.pop()


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""
    async with db.connect() as conn:
        try:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        except DBAPIError:  # no version table: never migrated
            return None
    if not rows:
        return None
    if len(rows) > 1:  # pragma: no cover - FactFlow's history has one branch
        raise RuntimeError(f"the database has several schema heads: {[r[0] for r in rows]}")
    return str(rows[0][0])


async def upgrade_to_head(db: Database) -> None:
    """Bring the database schema to the newest revision (idempotent)."""
    if await current_revision(db) == head_revision():
        return

    def _upgrade(sync_conn: Connection) -> None:
        from alembic import command

        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.upgrade(config, "head")

    async with db.transaction() as conn:
        await conn.run_sync(_upgrade)
