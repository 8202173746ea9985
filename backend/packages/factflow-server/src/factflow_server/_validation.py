"""``POST /configs/validate``: every check ``POST /configs`` makes, nothing stored.

A dry run of the save: an invalid config gets exactly the answer a save
would give (422 ``invalid-config`` whose ``issues`` name each field path,
message and line), so clients handle both alike; a valid one gets what
saving it would do: return the unchanged latest version, or create the next.
"""

from __future__ import annotations

from typing import Literal

from factflow_execution import ExecutionService, PipelineConfigRepository
from factflow_foundation import fingerprint
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConfigValidation", "validate_config"]


class ConfigValidation(BaseModel):
    """A valid config, and what saving it would do."""

    model_config = ConfigDict(frozen=True)

    valid: Literal[True] = Field(
        default=True, description="Always true (an invalid config is a 422 invalid-config)."
    )
    name: str = Field(description="The config's name.")
    checksum: str = Field(
        description="SHA-256 of the canonical definition, as a save would store it."
    )
    latest_version: int | None = Field(
        description="The latest stored version of this name; null when there is none."
    )
    changed: bool = Field(
        description="Whether saving would create a new version (false: the latest is "
        "identical and not archived)."
    )


async def validate_config(
    service: ExecutionService, text: bytes, *, filename: str | None
) -> ConfigValidation:
    """Check ``text`` exactly as ``service.save_config`` would, without writing
    (``ConfigValidationError`` listing every issue when it is invalid)."""
    definition = await service.config_gate.load(text, filename=filename)
    checksum = fingerprint(definition.to_dict())
    async with service.db.connect() as conn:
        latest = await PipelineConfigRepository(conn).get_latest(
            definition.name, include_archived=True
        )
    return ConfigValidation(
        name=definition.name,
        checksum=checksum,
        latest_version=latest.version if latest else None,
        changed=latest is None or latest.checksum != checksum or latest.archived,
    )
