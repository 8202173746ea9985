"""What the API echoes back (issue 10, findings 7 and 9): problems quote input cut
short; ``storage.written`` events and object listings name storage keys, never
a server path; storage keys that can never be valid are refused when the config
is saved, not message by message at run time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from factflow_execution import ExecutionService

from .conftest import API, YAML, assert_problem, inline_config, parse_sse, run_to_end


@pytest.mark.parametrize("as_yaml", [False, True], ids=["json", "yaml"])
async def test_a_huge_config_name_is_a_small_422(client: httpx.AsyncClient, as_yaml: bool) -> None:
    config = inline_config("n" * 900_000 + " !")  # not a valid name, and 900 KB of it
    if as_yaml:
        response = await client.post(f"{API}/configs", content=yaml.safe_dump(config), headers=YAML)
    else:
        response = await client.post(f"{API}/configs", json=config)
    problem = assert_problem(response, 422, "invalid-config")
    assert len(response.content) < 16_000, len(response.content)
    assert any(issue["path"] == "name" for issue in problem["issues"])


async def test_thousands_of_issues_are_a_bounded_list_that_says_how_many_more(
    client: httpx.AsyncClient,
) -> None:
    config: dict[str, Any] = {
        "name": "many",
        "routes": {f"r{i}": {"processors": [{"type": "nope"}]} for i in range(3000)},
    }
    response = await client.post(f"{API}/configs", json=config)
    problem = assert_problem(response, 422, "invalid-config")
    assert len(problem["issues"]) == 101
    assert problem["issues"][-1]["message"].endswith("more not shown")
    assert len(response.content) < 64_000


async def test_storage_events_and_listings_name_keys_never_server_paths(
    client: httpx.AsyncClient, service: ExecutionService, tmp_path: Path
) -> None:
    await client.post(f"{API}/configs", json=inline_config("t", items=[{"n": 1}, {"n": 2}]))
    result = await run_to_end(client, "t")
    execution_id = result["execution_id"]
    events = await client.get(f"{API}/executions/{execution_id}/events")
    written = [f.data for f in parse_sse(events.text) if f.event == "storage.written"]
    assert len(written) == 2
    storage_root = str(service.settings.resolved_storage_dir)
    for event in written:
        assert "location" not in event["data"]
        assert event["data"]["key"].startswith("src/")
    listing = await client.get(f"{API}/executions/{execution_id}/storage/objects")
    stream = await client.get(f"{API}/executions/{execution_id}/storage/events")
    for text in (events.text, listing.text, stream.text):
        assert storage_root not in text and str(tmp_path) not in text


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("../../x", "segment 1 is '..'"),
        ("/tmp/x", "it is absolute"),
        ("a/{{route}}/../../b", "segment 3 is '..'"),
        ("C:/x", "drive letter"),
        ("a//b", "segment 2 is empty"),
    ],
)
async def test_a_storage_key_that_can_never_be_valid_is_refused_when_saved(
    client: httpx.AsyncClient, key: str, says: str
) -> None:
    config = inline_config("k")
    config["routes"]["src"]["processors"] = [{"type": "storage_write", "with": {"key": key}}]
    for path in ("/configs/validate", "/configs"):
        response = await client.post(f"{API}{path}", json=config)
        [issue] = assert_problem(response, 422, "invalid-config")["issues"]
        assert issue["path"] == "routes.src.processors[0].with.key"
        assert "can never be a valid key" in issue["message"] and says in issue["message"]
    assert (await client.get(f"{API}/configs/k")).status_code == 404
