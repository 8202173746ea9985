"""Request dependencies: the service, the settings, and execution ids resolved from
full ids or unique prefixes."""

from __future__ import annotations

from typing import Annotated, Final

from factflow_execution import ExecutionService
from factflow_foundation import InfrastructureError
from fastapi import Depends, Path, Request

from factflow_server._settings import ServerSettings

__all__ = [
    "CONFIG_NAME_PATTERN",
    "ConfigName",
    "ExecutionId",
    "Service",
    "Settings",
    "get_service",
    "get_settings",
]

#: Config names as the engine allows them, loosened only in letter case (an
#: unknown but well-formed name is a 404, not a 422).
CONFIG_NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"
_ID_PATTERN: Final = r"^[A-Za-z0-9_.:-]{1,64}$"


def get_service(request: Request) -> ExecutionService:
    """The app's ``ExecutionService`` (503 until the lifespan has built it)."""
    service: ExecutionService | None = request.app.state.service
    if service is None:
        raise InfrastructureError("the server is still starting up; retry in a moment")
    return service


def get_settings(request: Request) -> ServerSettings:
    """The app's settings."""
    settings: ServerSettings = request.app.state.settings
    return settings


Service = Annotated[ExecutionService, Depends(get_service)]
Settings = Annotated[ServerSettings, Depends(get_settings)]

ConfigName = Annotated[
    str, Path(pattern=CONFIG_NAME_PATTERN, description="The config's name.", examples=["facts"])
]


async def _resolve_execution_id(
    service: Service,
    execution_id: Annotated[
        str,
        Path(
            pattern=_ID_PATTERN,
            description="An execution id, or a unique prefix of one (at least 4 characters).",
        ),
    ],
) -> str:
    return await service.resolve_id(execution_id)


ExecutionId = Annotated[str, Depends(_resolve_execution_id)]
"""The full execution id named by the ``{execution_id}`` path segment."""
