"""The served OpenAPI document: valid, every parameter and property described, the
headers clients rely on (Location, Retry-After, WWW-Authenticate) declared, and no
response declared that the server cannot give."""

from __future__ import annotations

from typing import Any

import httpx
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_server import ServerSettings, create_app
from openapi_spec_validator import validate

from .conftest import asgi_client

PROBES = ("/healthz", "/readyz")


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def _undescribed(document: dict[str, Any]) -> list[str]:
    """Every parameter, schema and schema property without a description."""
    missing: list[str] = []
    for (method, path), operation in _operations(document).items():
        missing += [
            f"{method} {path} parameter {p['name']}"
            for p in operation.get("parameters", [])
            if not p.get("description")
        ]
        for status, response in operation["responses"].items():
            if not response.get("description"):
                missing.append(f"{method} {path} response {status}")
            missing += [
                f"{method} {path} response {status} header {name}"
                for name, header in response.get("headers", {}).items()
                if not header.get("description")
            ]
    for name, schema in document["components"]["schemas"].items():
        if not schema.get("description"):
            missing.append(f"schema {name}")
        missing += [
            f"{name}.{prop}"
            for prop, spec in schema.get("properties", {}).items()
            if not spec.get("description")
        ]
    return missing


async def test_the_document_is_valid_and_everything_in_it_is_described(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    validate(document)  # openapi-spec-validator: raises on any violation of the spec
    assert _undescribed(document) == []


async def test_responses_declare_what_can_happen_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = _operations(document)
    # Probes have no inputs: no 422; liveness touches nothing: no 503 either.
    assert set(operations[("GET", "/healthz")]["responses"]) == {"200"}
    assert set(operations[("GET", "/readyz")]["responses"]) == {"200", "503"}
    for (method, path), operation in operations.items():
        if path in PROBES:
            continue
        # Every API operation can meet an unknown query parameter and a lost database.
        assert {"422", "500", "503"} <= set(operation["responses"]), (method, path)
        assert "401" not in operation["responses"]  # no token configured: impossible

    for key in (
        ("POST", "/api/v1/configs/{name}/run"),
        ("POST", "/api/v1/executions/{execution_id}/replay"),
    ):
        responses = operations[key]["responses"]
        assert "Location" in responses["202"]["headers"], key
        assert "Retry-After" in responses["503"]["headers"], key
        assert "capacity-exceeded" in responses["503"]["description"]
    resume = operations[("POST", "/api/v1/executions/{execution_id}/resume")]["responses"]
    assert "Location" in resume["201"]["headers"]
    assert {"404", "409", "503"} <= set(resume)


async def test_with_a_token_every_guarded_operation_declares_401_and_its_challenge(
    settings: FactFlowSettings, service: ExecutionService
) -> None:
    secured = ServerSettings.from_base(settings).model_copy(update={"api_token": "t0ken"})
    async with asgi_client(
        create_app(secured, service=service), headers={"Authorization": "Bearer t0ken"}
    ) as client:
        document = (await client.get("/openapi.json")).json()
    validate(document)
    assert _undescribed(document) == []
    for (method, path), operation in _operations(document).items():
        if path in PROBES:
            assert "401" not in operation["responses"] and "security" not in operation
            continue
        if path.startswith("/api/v1/auth/"):  # public: how a browser gets a session
            assert "security" not in operation, (method, path)
            assert ("401" in operation["responses"]) == (path == "/api/v1/auth/login")
            continue
        unauthorized = operation["responses"]["401"]
        assert "WWW-Authenticate" in unauthorized["headers"], (method, path)
        assert operation["security"] == [{"bearerAuth": []}]
