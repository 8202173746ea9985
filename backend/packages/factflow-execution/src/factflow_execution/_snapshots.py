"""The snapshot a new execution of a stored config gets (fixed at creation)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from factflow_engine import ConfigGate, ResolvedPipeline, RouteDirectory, load_definition, resolve
from factflow_infra.db import Database

from factflow_execution._errors import ConfigArchivedError
from factflow_execution._models import PipelineConfig
from factflow_execution._repositories import PipelineConfigRepository

__all__ = ["config_snapshot"]


async def config_snapshot(
    db: Database,
    gate: ConfigGate,
    directory: RouteDirectory,
    config_name: str,
    version: int | None,
    params: Mapping[str, Any] | None,
) -> tuple[PipelineConfig, dict[str, Any]]:
    """The stored config and its snapshot: the resolved definition, the params
    and the route→queue directory as they are now.  Raises before anything is
    written: ``ConfigNotFoundError``, ``ConfigArchivedError``, invalid params.

    The stored definition and the params are checked through ``gate`` (its
    registry and limits, in a worker thread within its budget)."""
    async with db.connect() as conn:
        config = await PipelineConfigRepository(conn).get(config_name, version)
    if config.archived:
        raise ConfigArchivedError(config.name)
    # checking a stored config and its params is CPU work proportional to its
    # size (up to FACTFLOW_CONFIG_MAX_NODES values): off the event loop
    resolved = await gate.run(functools.partial(_resolve, config.definition, params, gate))
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


def _resolve(
    definition: Mapping[str, Any], params: Mapping[str, Any] | None, gate: ConfigGate
) -> ResolvedPipeline:
    loaded = load_definition(definition, registry=gate.registry, limits=gate.limits)
    return resolve(loaded, params, registry=gate.registry, limits=gate.limits)
