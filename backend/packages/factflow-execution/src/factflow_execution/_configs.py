"""The config side of ``ExecutionService``: save (validated off the event loop
by the engine's ``ConfigGate``), read, list versions and archive.  Executions
never read these rows after creation: they keep an immutable snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from factflow_engine import ConfigGate
from factflow_infra.db import Database

from factflow_execution._models import PipelineConfig
from factflow_execution._repositories import PipelineConfigRepository

__all__ = ["ConfigCatalogue"]


class ConfigCatalogue:
    """Versioned configs: one row per (name, version), the latest one current."""

    db: Database
    #: parses and checks configs off the event loop, within the limits and budget
    config_gate: ConfigGate

    async def save_config(
        self,
        source: str | bytes | Mapping[str, Any],
        *,
        filename: str | None = None,
        description: str | None = None,
    ) -> tuple[PipelineConfig, bool]:
        """Validate and store a config; ``(config, created)``.

        An unchanged definition returns the existing latest version with
        ``created=False``; a changed one becomes version N+1.  Invalid configs
        raise ``ConfigValidationError`` naming every offending field.
        """
        definition = await self.config_gate.load(source, filename=filename)
        data = definition.to_dict()
        async with self.db.transaction() as conn:
            return await PipelineConfigRepository(conn).save(
                definition.name, data, description or definition.description
            )

    async def get_config(self, name: str, version: int | None = None) -> PipelineConfig:
        async with self.db.connect() as conn:
            return await PipelineConfigRepository(conn).get(name, version)

    async def list_configs(self, *, include_archived: bool = False) -> list[PipelineConfig]:
        async with self.db.connect() as conn:
            return await PipelineConfigRepository(conn).list_latest(
                include_archived=include_archived
            )

    async def config_versions(self, name: str) -> list[PipelineConfig]:
        async with self.db.connect() as conn:
            return await PipelineConfigRepository(conn).versions(name)

    async def archive_config(self, name: str) -> list[PipelineConfig]:
        """Archive every version of ``name``; existing executions keep their snapshots."""
        async with self.db.transaction() as conn:
            return await PipelineConfigRepository(conn).archive(name)
