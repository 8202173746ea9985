"""``POST /api/v1/configs/validate``: the checks of a save, with lines and paths, nothing stored."""

from __future__ import annotations

import json

import httpx
import yaml

from .conftest import API, YAML, assert_problem, inline_config

INVALID = """\
name: broken
routes:
  src:
    adapter: {type: inline, with: {items: [1]}}
    processors:
      - type: no_such_processor
      - type: read_text
        with: {encodin: utf-8}
    to: [nowhere]
"""


async def _versions(client: httpx.AsyncClient, name: str) -> list[int]:
    response = await client.get(f"{API}/configs/{name}/versions")
    if response.status_code == 404:
        return []
    return [c["version"] for c in response.json()["items"]]


async def test_an_invalid_config_gets_every_issue_with_path_and_line_and_nothing_is_saved(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{API}/configs/validate", content=INVALID, headers=YAML)
    problem = assert_problem(response, 422, "invalid-config")
    issues = {issue["path"]: issue for issue in problem["issues"]}
    assert issues["routes.src.processors[0].type"]["line"] == 6
    assert "no_such_processor" in issues["routes.src.processors[0].type"]["message"]
    assert issues["routes.src.processors[1].with.encodin"]["line"] == 8
    assert any(path.startswith("routes.src.to") for path in issues)
    # Exactly what a save answers (so clients handle both alike); nothing was stored.
    saved = await client.post(f"{API}/configs", content=INVALID, headers=YAML)
    assert assert_problem(saved, 422, "invalid-config")["issues"] == problem["issues"]
    assert await _versions(client, "broken") == []

    syntax = await client.post(
        f"{API}/configs/validate", content="name: x\nroutes: [\n", headers=YAML
    )
    assert assert_problem(syntax, 422, "invalid-config")["issues"][0]["line"] is not None


async def test_a_valid_config_says_what_a_save_would_do_and_saves_nothing(
    client: httpx.AsyncClient,
) -> None:
    text = yaml.safe_dump(inline_config("facts"))
    fresh = (await client.post(f"{API}/configs/validate", content=text, headers=YAML)).json()
    assert fresh["valid"] is True
    assert (fresh["name"], fresh["latest_version"], fresh["changed"]) == ("facts", None, True)
    assert await _versions(client, "facts") == []

    saved = (await client.post(f"{API}/configs", content=text, headers=YAML)).json()["config"]
    same = await client.post(
        f"{API}/configs/validate",
        content=json.dumps(inline_config("facts")),
        headers={"content-type": "application/json"},
    )
    assert same.json()["checksum"] == saved["checksum"]
    assert (same.json()["latest_version"], same.json()["changed"]) == (1, False)
    edited = yaml.safe_dump(inline_config("facts", items=[{"n": 2}]))
    changed = (await client.post(f"{API}/configs/validate", content=edited, headers=YAML)).json()
    assert (changed["latest_version"], changed["changed"]) == (1, True)
    assert await _versions(client, "facts") == [1]


async def test_validate_refuses_what_a_save_refuses(client: httpx.AsyncClient) -> None:
    empty = await client.post(f"{API}/configs/validate", content=b"  ", headers=YAML)
    assert_problem(empty, 422, "invalid-input")
    other = await client.post(
        f"{API}/configs/validate", content=b"x", headers={"content-type": "image/png"}
    )
    assert_problem(other, 415, "unsupported-media-type")
