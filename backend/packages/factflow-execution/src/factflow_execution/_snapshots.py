"""The snapshot a new execution of a stored config gets (fixed at creation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from factflow_engine import Registry, RouteDirectory, load_definition, resolve
from factflow_infra.db import Database

from factflow_execution._errors import ConfigArchivedError
from factflow_execution._models import PipelineConfig
from factflow_execution._repositories import PipelineConfigRepository

__all__ = ["config_snapshot"]


async def config_snapshot(
    db: Database,
    registry: Registry,
    directory: RouteDirectory,
    config_name: str,
    version: int | None,
    params: Mapping[str, Any] | None,
) -> tuple[PipelineConfig, dict[str, Any]]:
    """The stored config and its snapshot: the resolved definition, the params
    and the route→queue directory as they are now.  Raises before anything is
    written: ``ConfigNotFoundError``, ``ConfigArchivedError``, invalid params."""
    async with db.connect() as conn:
        config = await PipelineConfigRepository(conn).get(config_name, version)
    if config.archived:
        raise ConfigArchivedError(config.name)
    definition = load_definition(config.definition, registry=registry)
    resolved = resolve(definition, params, registry=registry)
    snapshot = {
        "definition": resolved.definition,
        "params": resolved.params,
        "directory": directory.resolve(resolved),
        "config": {
            "id": config.id,
            "name": config.name,
            "version": config.version,
            "checksum": config.checksum,
        },
    }
    return config, snapshot
