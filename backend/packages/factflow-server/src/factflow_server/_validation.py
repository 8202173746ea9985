"""``POST /configs/validate``: every check ``POST /configs`` makes, nothing stored.

The verdict is the resource, so an invalid config is a 200 whose ``valid`` is
false and whose ``issues`` are the ones a save would report as a 422 (field
path, message, line).  A valid one also says what saving it would do: return
the unchanged latest version, or create the next one.
"""

from __future__ import annotations

from factflow_engine import ConfigValidationError, load_definition
from factflow_execution import ExecutionService, PipelineConfigRepository
from factflow_foundation import fingerprint
from pydantic import BaseModel, ConfigDict, Field

from factflow_server._problems import ProblemIssue

__all__ = ["ConfigValidation", "validate_config"]


class ConfigValidation(BaseModel):
    """The verdict on a config: valid or not, every issue, and what a save would do."""

    model_config = ConfigDict(frozen=True)

    valid: bool = Field(description="True when the config passes every check a save makes.")
    issues: list[ProblemIssue] = Field(
        description="Each problem: field path, message and line (empty when valid)."
    )
    name: str | None = Field(description="The config's name (null when invalid).")
    checksum: str | None = Field(
        description="SHA-256 of the canonical definition, as a save would store it."
    )
    latest_version: int | None = Field(
        description="The latest stored version of this name; null when none (or invalid)."
    )
    changed: bool | None = Field(
        description="Whether saving would create a new version (false: the latest is "
        "identical and not archived); null when invalid."
    )


async def validate_config(
    service: ExecutionService, text: bytes, *, filename: str | None
) -> ConfigValidation:
    """Check ``text`` exactly as ``service.save_config`` would, without writing."""
    try:
        definition = load_definition(text, filename=filename, registry=service.registry)
    except ConfigValidationError as exc:
        return ConfigValidation(
            valid=False,
            issues=[ProblemIssue(path=i.path, message=i.message, line=i.line) for i in exc.issues],
            name=None,
            checksum=None,
            latest_version=None,
            changed=None,
        )
    checksum = fingerprint(definition.to_dict())
    async with service.db.connect() as conn:
        latest = await PipelineConfigRepository(conn).get_latest(
            definition.name, include_archived=True
        )
    return ConfigValidation(
        valid=True,
        issues=[],
        name=definition.name,
        checksum=checksum,
        latest_version=latest.version if latest else None,
        changed=latest is None or latest.checksum != checksum or latest.archived,
    )
