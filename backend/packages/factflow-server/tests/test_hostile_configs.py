"""Hostile configs over the API (issue 10, findings 1-3): an alias bomb and deep
nesting are small, quick 422s naming the limit, never a 500; parsing runs off
the event loop, so /healthz answers while a bomb is being refused."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
import yaml
from factflow_execution import ExecutionService

from .conftest import API, YAML, assert_problem, inline_config

JSON = {"content-type": "application/json"}


def alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep(depth: int, *, as_json: bool) -> str:
    if as_json:
        return '{"name": "deep", "routes": ' + "[" * depth + "]" * depth + "}"
    return "name: deep\nroutes: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize("path", ["/configs", "/configs/validate"])
async def test_an_alias_bomb_is_a_small_422_naming_the_limit(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(f"{API}{path}", content=alias_bomb(), headers=YAML)
    problem = assert_problem(response, 422, "invalid-config")
    [issue] = problem["issues"]
    assert "FACTFLOW_CONFIG_MAX_NODES" in issue["message"] and issue["line"] == 6
    assert len(response.content) < 2000


@pytest.mark.parametrize("as_json", [False, True], ids=["yaml", "json"])
@pytest.mark.parametrize("depth", [65, 480, 3000])
async def test_deep_nesting_is_a_422_naming_the_limit_never_a_500(
    client: httpx.AsyncClient, depth: int, as_json: bool
) -> None:
    headers = JSON if as_json else YAML
    for path in ("/configs", "/configs/validate"):
        response = await client.post(
            f"{API}{path}", content=deep(depth, as_json=as_json), headers=headers
        )
        [issue] = assert_problem(response, 422, "invalid-config")["issues"]
        assert "levels deep" in issue["message"] or "nesting depth" in issue["message"]


async def test_a_large_valid_config_is_stored(client: httpx.AsyncClient) -> None:
    items = [{"path": f"/some/where/file-{i}.txt"} for i in range(5_000)]
    text = yaml.safe_dump(inline_config("big", items=items))
    response = await client.post(f"{API}/configs", content=text, headers=YAML)
    assert response.status_code == 201, response.text[:500]


async def test_healthz_answers_while_a_bomb_is_being_refused(
    client: httpx.AsyncClient, service: ExecutionService
) -> None:
    started, release = threading.Event(), threading.Event()

    def hold() -> None:  # runs in the check's worker thread, before parsing starts
        started.set()
        release.wait()

    service.config_gate.checkpoint = hold
    order: list[str] = []

    async def post_bomb() -> httpx.Response:
        response = await client.post(f"{API}/configs", content=alias_bomb(), headers=YAML)
        order.append("bomb refused")
        return response

    bomb = asyncio.create_task(post_bomb())
    await asyncio.to_thread(started.wait)  # the bomb's check is now in progress
    health = await client.get("/healthz")
    order.append("healthz answered")
    release.set()
    assert_problem(await bomb, 422, "invalid-config")
    assert health.status_code == 200
    assert order == ["healthz answered", "bomb refused"]


async def test_a_check_over_the_budget_is_a_422_and_other_requests_go_on(
    client: httpx.AsyncClient, service: ExecutionService
) -> None:
    release = threading.Event()
    service.config_gate.checkpoint = release.wait
    service.config_gate.timeout = 0.05
    try:
        response = await client.post(
            f"{API}/configs", content=json.dumps(inline_config("slow")), headers=JSON
        )
        [issue] = assert_problem(response, 422, "invalid-config")["issues"]
        assert "FACTFLOW_CONFIG_CHECK_TIMEOUT" in issue["message"]
        assert (await client.get("/healthz")).status_code == 200
    finally:
        release.set()


@pytest.mark.parametrize("depth", [65, 480, 900])
async def test_deep_params_are_a_422_naming_the_param_never_a_500(
    client: httpx.AsyncClient, depth: int
) -> None:
    config = inline_config("p")
    config["params"] = {"deep": {"type": "list", "default": []}}
    assert (await client.post(f"{API}/configs", json=config)).status_code == 201
    value = "[" * depth + "]" * depth
    requests = [
        ("/configs/p/run", '{"params": {"deep": ' + value + "}}"),
        (
            "/schedules",
            '{"name": "s", "config_name": "p", "interval_seconds": 60, "params": {"deep": '
            + value
            + "}}",
        ),
    ]
    for path, body in requests:
        response = await client.post(f"{API}{path}", content=body, headers=JSON)
        [issue] = assert_problem(response, 422, "invalid-config")["issues"]
        assert issue["path"] == "params.deep" and "more than 64 levels deep" in issue["message"]
