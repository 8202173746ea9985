"""The web UI shell at '/', local API docs, and browser sessions for a token server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_server import ServerSettings, create_app
from factflow_server._session import SESSION_COOKIE, SessionSigner, cookie_value
from fastapi import FastAPI

from .conftest import (
    API,
    asgi_client,
    assert_problem,
    inline_config,
    parse_sse,
    run_to_end,
    serve_in_process,
)


def _built_ui(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<!doctype html><div id="root"></div>SHELL')
    (root / "assets" / "index-abc123.js").write_text("console.log('ui')")
    (root / "favicon.svg").write_text("<svg/>")
    return root


async def test_without_a_build_root_says_how_to_build(
    settings: FactFlowSettings, service: ExecutionService, tmp_path: Path
) -> None:
    app = create_app(
        ServerSettings.from_base(settings).model_copy(update={"ui_dir": tmp_path / "none"}),
        service=service,
    )
    async with asgi_client(app) as client:
        for path in ("/", "/executions/0190abcd", "/configs"):
            page = await client.get(path)
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert "./dev setup" in page.text and "npm run build" in page.text
        assert (await client.get(f"{API}/executions")).status_code == 200  # the API still runs
        assert_problem(await client.get("/assets/index.js"), 404, "not-found")


async def test_build_is_served_with_spa_fallback_and_api_404s_stay(
    settings: FactFlowSettings, service: ExecutionService, tmp_path: Path
) -> None:
    ui = _built_ui(tmp_path / "ui")
    app = create_app(
        ServerSettings.from_base(settings).model_copy(update={"ui_dir": ui}), service=service
    )
    async with asgi_client(app) as client:
        for path in ("/", "/executions", "/executions/0190/lineage", "/configs/facts", "/login"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert "SHELL" in page.text
            assert page.headers["cache-control"] == "no-cache"
        asset = await client.get("/assets/index-abc123.js")
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert (await client.get("/favicon.svg")).text == "<svg/>"
        # Unknown paths and API paths are never answered with the UI shell.
        assert_problem(await client.get("/nowhere"), 404, "not-found")
        assert_problem(await client.get(f"{API}/nowhere"), 404, "not-found")
        assert_problem(await client.get("/assets/missing.js"), 404, "not-found")
        assert_problem(await client.post("/executions"), 405, "method-not-allowed")
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert not any(p == "/" or p.startswith(("/executions", "/configs")) for p in paths)


async def test_docs_load_nothing_from_the_network(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc"):
        page = await client.get(path)
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources, page.text
        assert all(s.startswith("/docs/assets/") for s in sources), sources
        assert "http://" not in page.text and "https://" not in page.text
        for source in sources:
            asset = await client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 1000


def test_session_cookie_signing() -> None:
    signer = SessionSigner("s3cret", ttl_seconds=60)
    value, expires = signer.issue(now=1000.0)
    assert expires == 1060
    assert signer.verify(value, now=1059.0) == 1060
    assert signer.verify(value, now=1060.0) is None  # expired
    assert "s3cret" not in value
    assert SessionSigner("other", ttl_seconds=60).verify(value, now=1000.0) is None
    body, _, signature = value.rpartition(".")
    forged = body.replace(".1060.", ".9999999999.") + "." + signature
    assert signer.verify(forged, now=1000.0) is None
    for junk in ("", "v1", "v1.x.y.z", "a" * 500, "v2" + value[2:]):
        assert signer.verify(junk, now=1000.0) is None
    header = f'theme=dark; {SESSION_COOKIE}="{value}"; other=1'.encode()
    assert cookie_value(header) == value
    assert cookie_value(b"theme=dark") is None


async def test_login_yields_a_strict_httponly_cookie_accepted_by_api_and_sse(
    settings: FactFlowSettings, service: ExecutionService, tmp_path: Path
) -> None:
    secured = ServerSettings.from_base(settings).model_copy(
        update={"api_token": "s3cret", "ui_dir": _built_ui(tmp_path / "ui")}
    )
    app = create_app(secured, service=service)
    async with asgi_client(app) as browser:
        # The shell and the session endpoints are public; everything else is not.
        assert (await browser.get("/executions/x")).status_code == 200
        assert (await browser.get("/assets/index-abc123.js")).status_code == 200
        info = (await browser.get(f"{API}/auth/session")).json()
        assert info == {"auth_required": True, "authenticated": False, "expires_at": None}
        for path in (f"{API}/executions", "/docs", "/docs/assets/swagger-ui.css", "/nowhere"):
            assert_problem(await browser.get(path), 401, "unauthorized")

        wrong = await browser.post(f"{API}/auth/login", json={"token": "guess"})
        assert_problem(wrong, 401, "unauthorized")
        assert "set-cookie" not in wrong.headers
        assert_problem(await browser.post(f"{API}/auth/login", json={}), 422, "invalid-request")

        login = await browser.post(f"{API}/auth/login", json={"token": "s3cret"})
        assert login.status_code == 200, login.text
        assert login.json()["authenticated"] is True and login.json()["expires_at"]
        cookie = login.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "s3cret" not in cookie

        # The cookie now stands in for the bearer token: API, docs, SSE.
        assert (await browser.get(f"{API}/auth/session")).json()["authenticated"] is True
        assert (await browser.post(f"{API}/configs", json=inline_config())).status_code == 201
        finished = await run_to_end(browser)
        assert finished["status"] == "completed"
        assert (await browser.get("/docs")).status_code == 200
        events = await browser.get(f"{API}/executions/{finished['execution_id']}/events")
        assert events.status_code == 200
        assert parse_sse(events.text)[-1].terminal

        logout = await browser.post(f"{API}/auth/logout")
        assert logout.status_code == 204
        assert f'{SESSION_COOKIE}=""' in logout.headers["set-cookie"]
        assert "Max-Age=0" in logout.headers["set-cookie"]
        assert_problem(await browser.get(f"{API}/executions"), 401, "unauthorized")

    # A cookie signed for another token (or tampered with) is refused; a bearer
    # token still works alongside.
    other = SessionSigner("not-the-token", ttl_seconds=60).issue()[0]
    async with asgi_client(app, cookies={SESSION_COOKIE: other}) as client:
        assert_problem(await client.get(f"{API}/executions"), 401, "unauthorized")
        bearer = await client.get(f"{API}/executions", headers={"Authorization": "Bearer s3cret"})
        assert bearer.status_code == 200


async def test_without_a_token_the_session_is_open(client: httpx.AsyncClient) -> None:
    info = (await client.get(f"{API}/auth/session")).json()
    assert info == {"auth_required": False, "authenticated": True, "expires_at": None}
    login = await client.post(f"{API}/auth/login", json={"token": "anything"})
    assert login.status_code == 200 and "set-cookie" not in login.headers


async def test_the_changes_stream_tells_about_new_runs_and_status_changes(app: FastAPI) -> None:
    async with (
        serve_in_process(app) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        assert (await client.post(f"{API}/configs", json=inline_config())).status_code == 201
        async with client.stream("GET", f"{API}/streams/executions") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            run = (await client.post(f"{API}/configs/t/run", json={})).json()
            statuses: list[str] = []
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                change = json.loads(line.removeprefix("data:").strip())
                if change["execution_id"] != run["id"]:
                    continue
                assert change["seq"] >= 1 and change["kinds"] and change["resync"] is False
                if change["status"]:
                    statuses.append(change["status"])
                if change["status"] == "completed":
                    break
        # A new run is announced (pending and running may share one batch), then its end.
        assert statuses[0] in {"pending", "running"} and statuses[-1] == "completed"
