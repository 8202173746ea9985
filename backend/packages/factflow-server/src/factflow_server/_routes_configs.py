"""``/api/v1/configs``: store, list, show, version and archive configs; run one."""

from __future__ import annotations

from typing import Annotated, Any

from factflow_execution import PipelineConfig, PipelineExecution
from fastapi import APIRouter, Body, Depends, Query, Response, status

from factflow_server._deps import ConfigName, Service
from factflow_server._openapi import LOCATION_HEADER, QUEUE_PARAM_DESCRIPTION, problems
from factflow_server._schemas import ConfigList, ConfigSaved, RunRequest
from factflow_server._validation import ConfigValidation, validate_config
from factflow_server._views import CONFIG_MEDIA_TYPES, config_body

__all__ = ["router"]

router = APIRouter(prefix="/configs", tags=["configs"])

_CONFIG_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The pipeline config as YAML text, or as a JSON object.",
        "content": {
            media_type: (
                {"schema": {"type": "object", "additionalProperties": True}}
                if kind == "json"
                else {"schema": {"type": "string"}}
            )
            for media_type, kind in CONFIG_MEDIA_TYPES.items()
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConfigSaved,
    summary="Store a config (a new version when it changed)",
    description=(
        "Validates the config and stores it: 201 with a new version, or 200 with "
        "`created: false` when the definition is unchanged. An invalid config is a "
        "422 problem whose `issues` give each field path, message and line."
    ),
    responses={
        200: {"model": ConfigSaved, "description": "Unchanged; the latest version."},
        **problems(413, 415),
    },
    openapi_extra=_CONFIG_BODY,
)
async def save_config(
    service: Service,
    response: Response,
    body: Annotated[tuple[bytes, str | None], Depends(config_body)],
    description: Annotated[
        str | None,
        Query(max_length=2000, description="Stored with a new version (else the config's own)."),
    ] = None,
) -> ConfigSaved:
    text, filename = body
    config, created = await service.save_config(text, filename=filename, description=description)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ConfigSaved(config=config, created=created)


@router.post(
    "/validate",
    response_model=ConfigValidation,
    summary="Validate a config without storing it",
    description=(
        "A dry run of `POST /configs`: the same checks, nothing stored. A valid config "
        "is a 200 saying what a save would do (`changed`: a new version, or the "
        "unchanged `latest_version`); an invalid one the same 422 `invalid-config` a "
        "save would answer, whose `issues` give each field path, message and line. "
        "Params are checked when a run starts, not here."
    ),
    responses=problems(413, 415),
    openapi_extra=_CONFIG_BODY,
)
async def validate_config_text(
    service: Service, body: Annotated[tuple[bytes, str | None], Depends(config_body)]
) -> ConfigValidation:
    text, filename = body
    return await validate_config(service, text, filename=filename)


@router.get(
    "",
    response_model=ConfigList,
    summary="List configs (the latest version of each name)",
    responses=problems(),
)
async def list_configs(
    service: Service,
    include_archived: Annotated[bool, Query(description="Also list archived configs.")] = False,
) -> ConfigList:
    return ConfigList(items=await service.list_configs(include_archived=include_archived))


@router.get(
    "/{name}",
    response_model=PipelineConfig,
    summary="Show a config (latest version, or ?version=N)",
    responses=problems(404),
)
async def get_config(
    service: Service,
    name: ConfigName,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="This version; the latest when absent.")
    ] = None,
) -> PipelineConfig:
    return await service.get_config(name, version)


@router.get(
    "/{name}/versions",
    response_model=ConfigList,
    summary="List every version of a config",
    responses=problems(404),
)
async def list_config_versions(service: Service, name: ConfigName) -> ConfigList:
    return ConfigList(items=await service.config_versions(name))


@router.post(
    "/{name}/archive",
    response_model=ConfigList,
    summary="Archive every version of a config",
    description="Archived configs cannot be run; executions keep their snapshots.",
    responses=problems(404),
)
async def archive_config(service: Service, name: ConfigName) -> ConfigList:
    return ConfigList(items=await service.archive_config(name))


@router.post(
    "/{name}/run",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PipelineExecution,
    summary="Run a config (start it now, or queue it)",
    description=(
        "Creates an execution; 202 with the execution and its `Location`. It is "
        "`running` when it started at once, or `pending` with a `queue_position` when it "
        "waits in the run queue (this server at capacity, the config at its limit, or "
        "other runs waiting first); a queued run starts on any server as a slot frees, "
        "higher `priority` first. With `?queue=false` it starts now or is refused with "
        "503 and Retry-After, and nothing is stored."
    ),
    responses={
        202: {
            "description": "Created: started (`running`) or queued (`pending`, with "
            "`queue_position`).",
            "headers": LOCATION_HEADER,
        },
        **problems(400, 404, 409, 413, capacity=True),
    },
)
async def run_config(
    service: Service,
    name: ConfigName,
    response: Response,
    request: Annotated[RunRequest | None, Body()] = None,
    queue: Annotated[bool, Query(description=QUEUE_PARAM_DESCRIPTION)] = True,
) -> PipelineExecution:
    run = request or RunRequest()
    execution = await service.run(
        name,
        version=run.version,
        params=run.params,
        source=run.source,
        labels=run.labels,
        queue=queue,
        priority=run.priority,
    )
    response.headers["Location"] = f"/api/v1/executions/{execution.id}"
    return execution
