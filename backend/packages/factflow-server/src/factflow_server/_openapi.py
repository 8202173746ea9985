"""OpenAPI helpers: declared error responses, problem media type, security scheme."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from factflow_server._auth import AUTH_PATHS, PUBLIC_PATHS
from factflow_server._problems import PROBLEM_MEDIA_TYPE, Problem
from factflow_server._schemas import ExecutionEventOut

QUEUE_PARAM_DESCRIPTION = (
    "true (default): over capacity, or over the config's limit, the run is accepted "
    "`pending` in the run queue (202 with `queue_position`) and starts on any server as "
    "a slot frees. false: start now or refuse with 503 (capacity-exceeded or "
    "config-limit-reached, with Retry-After); nothing is stored."
)

__all__ = ["LOCATION_HEADER", "QUEUE_PARAM_DESCRIPTION", "install_openapi", "problems"]

_WHY: dict[int, str] = {
    400: "The request body could not be decoded (e.g. JSON that is not UTF-8).",
    401: "Missing or wrong bearer token (only when FACTFLOW_API_TOKEN is set).",
    404: "Unknown execution id, config name, schedule or object key.",
    409: "The request conflicts with the current state (e.g. an illegal transition).",
    413: "The request body is larger than FACTFLOW_MAX_BODY_BYTES.",
    415: "The request body has a media type this endpoint does not take.",
    422: "Invalid input (a bad value, or an unknown query parameter); 'issues' names each.",
    503: "The database is unreachable or the server still starting; retry shortly.",
}

_UNAUTHORIZED: Final[dict[str, Any]] = {
    "description": _WHY[401],
    "headers": {
        "WWW-Authenticate": {
            "description": "The challenge: 'Bearer realm=\"factflow\"' (with "
            "'error=\"invalid_token\"' when a wrong token was sent).",
            "schema": {"type": "string"},
        }
    },
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}

#: Login is public; with a token configured it answers 401 for a wrong one.
LOGIN_PATH: Final = "/api/v1/auth/login"
_WRONG_TOKEN: Final[dict[str, Any]] = {
    "description": "That is not this server's token (only when FACTFLOW_API_TOKEN is set).",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}

#: The ``Location`` header of a 202 that created an execution.
LOCATION_HEADER: Final[dict[str, Any]] = {
    "Location": {
        "description": "The new execution: /api/v1/executions/{id}.",
        "schema": {"type": "string"},
    }
}


def problems(*statuses: int, capacity: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting problem+json errors for ``statuses``.

    Every API operation can also answer 422 (an unknown query parameter, at
    least), 503 (the database unreachable) and 500, so those are always
    included.  ``capacity`` documents the 503 of a full server, with its
    ``Retry-After``.  The probes do not use this (they answer neither).
    """
    wanted = sorted({*statuses, 422, 500, 503})
    responses: dict[int | str, dict[str, Any]] = {
        status: {
            "model": Problem,
            "description": _WHY.get(status, HTTPStatus(status).phrase),
        }
        for status in wanted
    }
    if capacity:
        responses[503] = {
            "model": Problem,
            "description": "Only with ?queue=false: capacity full (type capacity-exceeded) or "
            "the config at its limit (config-limit-reached), both with Retry-After; also the "
            "database unreachable, or the server still starting.",
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before retrying (capacity-exceeded and "
                    "config-limit-reached only).",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
        }
    return responses


def _problem_media_type(schema: dict[str, Any]) -> None:
    """FastAPI files error models under application/json; they are problem+json."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if not status.isdigit() or int(status) < 400 or not content:
                    continue
                if "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def _bearer_security(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The server's FACTFLOW_API_TOKEN.",
    }
    for path, item in schema.get("paths", {}).items():
        if path == LOGIN_PATH:
            item["post"]["responses"]["401"] = _WRONG_TOKEN
        if path in PUBLIC_PATHS or path in AUTH_PATHS:
            continue
        for operation in item.values():
            operation["security"] = [{"bearerAuth": []}]
            operation["responses"]["401"] = _UNAUTHORIZED


def _event_schema(schema: dict[str, Any]) -> None:
    """Publish the SSE ``data:`` model as ``components.schemas.ExecutionEvent`` and
    point each event stream at it (``x-sse-data``)."""
    event = ExecutionEventOut.model_json_schema(ref_template="#/components/schemas/{model}")
    event["title"] = "ExecutionEvent"
    schema.setdefault("components", {}).setdefault("schemas", {})["ExecutionEvent"] = event
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            if "text/event-stream" in content:
                content["text/event-stream"]["x-sse-data"] = {
                    "$ref": "#/components/schemas/ExecutionEvent"
                }


def install_openapi(app: FastAPI, *, bearer: bool) -> None:
    """Generate the document once, with problem+json errors and (when a token is
    configured) the bearer security scheme on every API operation."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            _problem_media_type(schema)
            _event_schema(schema)
            if bearer:
                _bearer_security(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
