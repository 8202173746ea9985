"""Problem documents, bearer auth, health checks, the lifespan and the launcher."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path

import httpx
import pytest
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_infra.db import Database, head_revision
from factflow_server import (
    SchemaNotAtHeadError,
    ServerOptions,
    ServerSettings,
    UnsafeBindError,
    check_bind,
    create_app,
    main,
)

from .conftest import API, YAML, asgi_client, assert_problem, inline_config


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not-found")
    wrong_method = await client.delete(f"{API}/configs")
    assert_problem(wrong_method, 405, "method-not-allowed")
    assert wrong_method.headers["allow"]


async def test_an_unexpected_exception_is_a_500_problem_that_leaks_nothing(
    client: httpx.AsyncClient,
    service: ExecutionService,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError("secret internals at /etc/factflow")

    monkeypatch.setattr(service, "list_configs", broken)
    with caplog.at_level(logging.ERROR, logger="factflow.server.errors"):
        response = await client.get(f"{API}/configs")
    body = assert_problem(response, 500, "internal-error")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["reference"] in body["detail"]
    logged = [r for r in caplog.records if body["reference"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "secret internals" in str(logged[0].exc_info[1])


@pytest.mark.dialect("postgresql")
async def test_values_postgresql_cannot_hold_are_422_not_500(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/configs", json=inline_config())
    nul_label = await client.post(f"{API}/configs/t/run", json={"labels": {"k": "a\u0000b"}})
    assert_problem(nul_label, 422, "invalid-input")
    nul_description = await client.post(
        f"{API}/configs", json={**inline_config("d"), "description": "\u0000"}
    )
    assert_problem(nul_description, 422, "invalid-input")
    # a well-formed cursor whose execution id holds a NUL
    crafted = await client.get(f"{API}/executions", params={"cursor": "MjAyNi0wMS0wMXwA"})
    assert crafted.status_code == 422


async def test_text_that_is_not_unicode_is_422_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    config = (
        'name: s\ndescription: "lone \\ud800"\n'
        "routes: {src: {adapter: {type: inline, with: {items: [1]}}}}\n"
    )
    stored = await client.post(f"{API}/configs", content=config, headers=YAML)
    problem = assert_problem(stored, 422, "invalid-config")  # named at its line or field
    [issue] = problem["issues"]
    # libyaml refuses the escape itself (line 2); the pure-Python parser names the field
    assert (issue["line"] == 2 and "Unicode" in issue["message"]) or issue["path"] == "description"
    quoted_back = await client.post(
        f"{API}/configs", content=b'{"\\ud992": 1}', headers={"content-type": "application/json"}
    )
    assert_problem(quoted_back, 422, "invalid-config")  # the issue quotes the key back
    await client.post(f"{API}/configs", json=inline_config())
    run = await client.post(
        f"{API}/configs/t/run",
        content=b'{"labels": {"k": "\\udc00"}}',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(run, 422, "invalid-request")
    assert body["issues"][0]["path"] == "body.labels"
    assert (await client.get(f"{API}/executions")).json()["items"] == []
    assert [c["name"] for c in (await client.get(f"{API}/configs")).json()["items"]] == ["t"]


async def test_bearer_token_guards_everything_but_health(
    settings: FactFlowSettings, service: ExecutionService
) -> None:
    secured = ServerSettings.from_base(settings).model_copy(update={"api_token": "s3cret"})
    app = create_app(secured, service=service)
    async with asgi_client(app) as client:
        for path in (f"{API}/configs", f"{API}/executions", "/openapi.json", "/docs", "/nowhere"):
            missing = await client.get(path)
            assert_problem(missing, 401, "unauthorized")
            assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.get(f"{API}/configs", headers={"Authorization": "Bearer nope"})
        assert_problem(wrong, 401, "unauthorized")
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        basic = await client.get(f"{API}/configs", headers={"Authorization": "Basic czNjcmV0"})
        assert_problem(basic, 401, "unauthorized")
        unauthenticated_post = await client.post(f"{API}/configs", content=b"{", headers=YAML)
        assert_problem(unauthenticated_post, 401, "unauthorized")  # auth before parsing
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
    async with asgi_client(app, headers={"Authorization": "Bearer s3cret"}) as client:
        assert (await client.get(f"{API}/configs")).status_code == 200
        document = (await client.get("/openapi.json")).json()
        assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
        assert document["paths"]["/api/v1/configs"]["get"]["security"] == [{"bearerAuth": []}]
        assert "security" not in document["paths"]["/healthz"]["get"]


async def test_openapi_declares_models_problems_and_sse(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in document.get("components", {})  # no token configured
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert len(operations) >= 23
    for (method, path), operation in operations.items():
        assert operation["operationId"] and operation["summary"] and operation["tags"]
        if path not in ("/healthz", "/readyz"):  # probes: see test_openapi_document
            assert "422" in operation["responses"] and "500" in operation["responses"]
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
    events = operations[("GET", "/api/v1/executions/{execution_id}/events")]
    assert list(events["responses"]["200"]["content"]) == ["text/event-stream"]
    stream = events["responses"]["200"]["content"]["text/event-stream"]
    assert stream["x-sse-data"] == {"$ref": "#/components/schemas/ExecutionEvent"}
    event_schema = document["components"]["schemas"]["ExecutionEvent"]
    assert set(event_schema["required"]) == {"execution_id", "seq", "kind", "data", "at"}
    save = operations[("POST", "/api/v1/configs")]
    assert {"application/yaml", "application/json"} <= set(save["requestBody"]["content"])
    assert operations[("GET", "/api/v1/configs/{name}")]["operationId"] == "get_config"


async def test_health_and_readiness(client: httpx.AsyncClient, db: Database) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": db.dialect, "revision": head_revision()}


async def test_readiness_is_503_for_an_unmigrated_or_unreachable_database(
    tmp_path: Path, settings: FactFlowSettings
) -> None:
    for url, code in (
        (f"sqlite:///{tmp_path / 'empty.db'}", "not-ready"),
        ("postgresql://nobody@127.0.0.1:1/none", "infrastructure"),
    ):
        service = ExecutionService.from_settings(settings, db=Database(url))  # never started
        try:
            async with asgi_client(create_app(settings, service=service)) as client:
                assert_problem(await client.get("/readyz"), 503, code)
                assert (await client.get("/healthz")).status_code == 200
        finally:
            await service.db.dispose()


async def test_lifespan_builds_recovers_serves_and_shuts_down(
    settings: FactFlowSettings, db: Database
) -> None:
    # A run left 'pending' by a server process that died (same host, dead pid).
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import os; print(os.getpid())", stdout=asyncio.subprocess.PIPE
    )
    dead_pid = (await process.communicate())[0].decode().strip()
    ghost = ExecutionService.from_settings(
        settings, db=db, owner_id=f"{socket.gethostname()}:{dead_pid}:gone"
    )
    await ghost.save_config(inline_config())
    orphan = await ghost.create_execution("t")

    app = create_app(settings)  # builds its own service: migrations, recovery
    async with app.router.lifespan_context(app):
        built: ExecutionService = app.state.service
        async with asgi_client(app) as client:
            shown = (await client.get(f"{API}/executions/{orphan.id}")).json()
            assert shown["status"] == "interrupted" and "gone" in shown["error"]
            assert (await client.get("/readyz")).status_code == 200
            result = await client.post(f"{API}/configs/t/run")
            assert result.status_code == 202
    assert app.state.service is None
    assert not built.manager.accepting  # shut down


async def test_startup_without_migrate_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    settings = ServerSettings(data_dir=tmp_path, migrate=False)
    app = create_app(settings)
    with pytest.raises(SchemaNotAtHeadError, match="--migrate"):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover
    assert ServerSettings(data_dir=tmp_path).should_migrate  # SQLite default migrates
    assert not ServerSettings(database_url="postgresql://x@h/db").should_migrate


def test_binding_beyond_loopback_needs_a_token_or_explicit_consent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(ServerSettings(host=host), allow_unauthenticated=False)
    for host in ("0.0.0.0", "192.0.2.10", "example.org", ""):
        with pytest.raises(UnsafeBindError, match="FACTFLOW_API_TOKEN"):
            check_bind(ServerSettings(host=host), allow_unauthenticated=False)
        check_bind(ServerSettings(host=host), allow_unauthenticated=True)
        check_bind(ServerSettings(host=host, api_token="t"), allow_unauthenticated=False)
    assert main(["--host", "0.0.0.0", "--port", "1"]) == 2
    assert "--allow-unauthenticated" in capsys.readouterr().err


def test_options_override_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTFLOW_PORT", "9000")
    monkeypatch.setenv("FACTFLOW_SSE_HEARTBEAT", "2.5")
    settings = ServerOptions(data_dir=tmp_path, migrate=False, host="127.0.0.9").settings()
    assert (settings.port, settings.host, settings.migrate) == (9000, "127.0.0.9", False)
    assert settings.sse_heartbeat == 2.5 and settings.data_dir == tmp_path
    assert ServerOptions(port=1234).settings().port == 1234
