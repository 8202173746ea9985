"""``/api/v1/configs``: store (YAML/JSON, versions, idempotence), list, show, archive, run."""

from __future__ import annotations

import json

import httpx
import yaml
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_server import ServerSettings, create_app

from .conftest import (
    API,
    YAML,
    Gates,
    ServiceFactory,
    asgi_client,
    assert_problem,
    gated_config,
    inline_config,
)

VALID_YAML = yaml.safe_dump(inline_config("facts"), sort_keys=False)

INVALID_YAML = """\
name: broken
routes:
  src:
    adapter: {type: inline, with: {items: [1]}}
    processors:
      - type: no_such_processor
    to: [nowhere]
"""


async def test_post_yaml_creates_version_1_then_unchanged_is_200(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post(f"{API}/configs", content=VALID_YAML, headers=YAML)
    assert first.status_code == 201
    body = first.json()
    assert body["created"] is True
    assert body["config"]["name"] == "facts" and body["config"]["version"] == 1
    again = await client.post(f"{API}/configs", content=VALID_YAML, headers=YAML)
    assert again.status_code == 200
    assert again.json() == {**body, "created": False}


async def test_every_accepted_media_type_and_a_changed_definition_makes_a_new_version(
    client: httpx.AsyncClient,
) -> None:
    for media_type in ("text/yaml", "application/x-yaml", "text/plain; charset=utf-8"):
        response = await client.post(
            f"{API}/configs", content=VALID_YAML, headers={"content-type": media_type}
        )
        assert response.status_code in (200, 201), response.text
    changed = inline_config("facts", items=[{"n": 2}])
    response = await client.post(
        f"{API}/configs", content=json.dumps(changed), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201
    assert response.json()["config"]["version"] == 2
    described = await client.post(
        f"{API}/configs",
        params={"description": "third"},
        content=json.dumps(inline_config("facts", items=[{"n": 3}])),
        headers={"content-type": "application/json"},
    )
    assert described.json()["config"]["description"] == "third"


async def test_invalid_config_is_422_with_field_paths_and_lines(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{API}/configs", content=INVALID_YAML, headers=YAML)
    problem = assert_problem(response, 422, "invalid-config")
    issues = {issue["path"]: issue for issue in problem["issues"]}
    assert "routes.src.processors[0].type" in issues
    assert issues["routes.src.processors[0].type"]["line"] == 6
    assert "no_such_processor" in issues["routes.src.processors[0].type"]["message"]
    assert any("nowhere" in issue["message"] for issue in problem["issues"])


async def test_malformed_json_and_yaml_bodies_are_422_not_500(client: httpx.AsyncClient) -> None:
    bad_json = await client.post(
        f"{API}/configs", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(bad_json, 422, "invalid-config")
    bad_yaml = await client.post(f"{API}/configs", content=b"name: [unclosed", headers=YAML)
    assert_problem(bad_yaml, 422, "invalid-config")
    not_utf8 = await client.post(f"{API}/configs", content=b"name: \xff\xfe", headers=YAML)
    assert_problem(not_utf8, 422, "invalid-config")
    unprintable = await client.post(f"{API}/configs", content="name: \x9c".encode(), headers=YAML)
    assert_problem(unprintable, 422, "invalid-config")
    empty = await client.post(f"{API}/configs", content=b"  \n", headers=YAML)
    assert_problem(empty, 422, "invalid-input")


async def test_unsupported_media_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/configs", content=b"<xml/>", headers={"content-type": "application/xml"}
    )
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/yaml" in body["detail"]


async def test_bodies_over_the_limit_are_413_declared_or_streamed(
    settings: FactFlowSettings, service: ExecutionService
) -> None:
    limited = ServerSettings.from_base(settings).model_copy(update={"max_body_bytes": 1000})
    app = create_app(limited, service=service)
    big = b"# " + b"x" * 2000 + b"\n" + VALID_YAML.encode()
    async with asgi_client(app) as client:
        declared = await client.post(f"{API}/configs", content=big, headers=YAML)
        body = assert_problem(declared, 413, "payload-too-large")
        assert body["limit"] == 1000

        async def chunks():  # no Content-Length: the size is counted as it streams
            for start in range(0, len(big), 100):
                yield big[start : start + 100]

        streamed = await client.post(f"{API}/configs", content=chunks(), headers=YAML)
        assert_problem(streamed, 413, "payload-too-large")
        json_body = await client.post(
            f"{API}/configs/facts/run", json={"params": {"x": "y" * 2000}}
        )
        assert_problem(json_body, 413, "payload-too-large")
        small = await client.post(f"{API}/configs", content=VALID_YAML, headers=YAML)
        assert small.status_code == 201


async def test_list_show_versions_and_archive(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/configs", content=VALID_YAML, headers=YAML)
    await client.post(f"{API}/configs", json=inline_config("facts", items=[{"n": 9}]))
    await client.post(f"{API}/configs", json=inline_config("other"))

    listed = await client.get(f"{API}/configs")
    assert listed.status_code == 200
    assert [(c["name"], c["version"]) for c in listed.json()["items"]] == [
        ("facts", 2),
        ("other", 1),
    ]
    latest = await client.get(f"{API}/configs/facts")
    assert latest.status_code == 200 and latest.json()["version"] == 2
    first = await client.get(f"{API}/configs/facts", params={"version": 1})
    assert first.json()["version"] == 1
    assert first.json()["definition"]["routes"]["src"]["adapter"]["with"]["items"] == [{"n": 1}]
    versions = await client.get(f"{API}/configs/facts/versions")
    assert [c["version"] for c in versions.json()["items"]] == [1, 2]

    archived = await client.post(f"{API}/configs/other/archive")
    assert archived.status_code == 200
    assert all(c["archived_at"] is not None for c in archived.json()["items"])
    visible = await client.get(f"{API}/configs")
    assert [c["name"] for c in visible.json()["items"]] == ["facts"]
    everything = await client.get(f"{API}/configs", params={"include_archived": "true"})
    assert [c["name"] for c in everything.json()["items"]] == ["facts", "other"]


async def test_unknown_configs_and_versions_are_404(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/configs", content=VALID_YAML, headers=YAML)
    assert_problem(await client.get(f"{API}/configs/nope"), 404, "config-not-found")
    assert_problem(
        await client.get(f"{API}/configs/facts", params={"version": 7}), 404, "config-not-found"
    )
    assert_problem(await client.get(f"{API}/configs/nope/versions"), 404, "config-not-found")
    assert_problem(await client.post(f"{API}/configs/nope/archive"), 404, "config-not-found")
    assert_problem(await client.post(f"{API}/configs/nope/run"), 404, "config-not-found")
    bad_name = await client.get(f"{API}/configs/bad%20name")
    assert_problem(bad_name, 422, "invalid-request")
    bad_version = await client.get(f"{API}/configs/facts", params={"version": 0})
    assert_problem(bad_version, 422, "invalid-request")


async def test_run_is_202_with_location_and_records_source_params_and_labels(
    client: httpx.AsyncClient,
) -> None:
    config = inline_config("p")
    config["params"] = {"n": {"type": "integer", "default": 1}}
    config["routes"]["src"]["adapter"]["with"]["items"] = [{"n": "{n}"}]
    await client.post(f"{API}/configs", json=config)
    response = await client.post(
        f"{API}/configs/p/run",
        json={"params": {"n": 5}, "labels": {"team": "data"}, "source": "cli"},
    )
    assert response.status_code == 202, response.text
    execution = response.json()
    assert response.headers["location"] == f"/api/v1/executions/{execution['id']}"
    assert execution["status"] == "running"
    assert execution["source"] == "cli" and execution["labels"] == {"team": "data"}
    assert execution["config_snapshot"]["params"] == {"n": 5}
    default = await client.post(f"{API}/configs/p/run")
    assert default.status_code == 202 and default.json()["source"] == "api"
    for execution_id in (execution["id"], default.json()["id"]):
        waited = await client.get(f"{API}/executions/{execution_id}/wait")
        assert waited.json()["status"] == "completed"


async def test_run_errors_invalid_params_body_and_archived(client: httpx.AsyncClient) -> None:
    config = inline_config("p")
    config["params"] = {"n": {"type": "integer", "default": 1}}
    await client.post(f"{API}/configs", json=config)
    bad_param = await client.post(f"{API}/configs/p/run", json={"params": {"n": "many"}})
    body = assert_problem(bad_param, 422, "invalid-config")
    assert body["issues"] and any("n" in issue["path"] for issue in body["issues"])
    unknown_field = await client.post(f"{API}/configs/p/run", json={"param": {}})
    body = assert_problem(unknown_field, 422, "invalid-request")
    assert body["issues"][0]["path"] == "body.param"
    bad_source = await client.post(f"{API}/configs/p/run", json={"source": "replay"})
    assert_problem(bad_source, 422, "invalid-request")
    not_json = await client.post(
        f"{API}/configs/p/run", content=b"{", headers={"content-type": "application/json"}
    )
    assert_problem(not_json, 422, "invalid-request")
    await client.post(f"{API}/configs/p/archive")
    archived = await client.post(f"{API}/configs/p/run")
    assert_problem(archived, 409, "config-archived")


async def test_run_without_queueing_when_capacity_is_full_is_503_with_retry_after(
    settings: FactFlowSettings, make_service: ServiceFactory, gates: Gates
) -> None:
    service = await make_service(max_running_executions=1)
    app = create_app(settings, service=service)
    async with asgi_client(app) as client:
        await client.post(f"{API}/configs", json=gated_config())
        running = await client.post(f"{API}/configs/t/run")
        assert running.status_code == 202
        full = await client.post(f"{API}/configs/t/run", params={"queue": "false"})
        body = assert_problem(full, 503, "capacity-exceeded")
        assert full.headers["retry-after"] == "5"
        assert body["capacity"] == 1
        listed = await client.get(f"{API}/executions")
        assert len(listed.json()["items"]) == 1  # the refused run left no row behind
        gates.open()
        waited = await client.get(f"{API}/executions/{running.json()['id']}/wait")
        assert waited.json()["status"] == "completed"
