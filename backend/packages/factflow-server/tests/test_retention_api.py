"""``DELETE /executions/{id}`` and ``POST /executions/prune`` (both databases)."""

from __future__ import annotations

import httpx
from factflow_engine.testing import Gates

from .conftest import API, assert_problem, failing_config, gated_config, inline_config, run_to_end


async def test_delete_a_finished_run(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/configs", json=inline_config())
    gone = (await run_to_end(client))["execution_id"]
    kept = (await run_to_end(client))["execution_id"]
    kept_lineage = (await client.get(f"{API}/executions/{kept}/lineage")).json()

    response = await client.delete(f"{API}/executions/{gone}")
    assert response.status_code == 204 and response.content == b""

    assert_problem(await client.get(f"{API}/executions/{gone}"), 404, "execution-not-found")
    assert_problem(await client.delete(f"{API}/executions/{gone}"), 404, "execution-not-found")
    assert (await client.get(f"{API}/executions/{kept}/lineage")).json() == kept_lineage
    listed = (await client.get(f"{API}/executions")).json()["items"]
    assert [e["id"] for e in listed] == [kept]


async def test_delete_is_refused_while_the_run_runs(
    client: httpx.AsyncClient, gates: Gates
) -> None:
    await client.post(f"{API}/configs", json=gated_config())
    started = await client.post(f"{API}/configs/t/run", json={})
    execution_id = started.json()["id"]
    await gates.wait_entered("default")
    body = assert_problem(
        await client.delete(f"{API}/executions/{execution_id}"), 409, "illegal-transition"
    )
    assert "cannot delete" in body["detail"] and "running" in body["detail"]
    gates.open()
    waited = await client.get(f"{API}/executions/{execution_id}/wait", params={"timeout": 60})
    assert waited.json()["status"] == "completed"
    assert (await client.delete(f"{API}/executions/{execution_id}")).status_code == 204


async def test_prune_dry_run_then_for_real(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/configs", json=inline_config())
    await client.post(f"{API}/configs", json=failing_config())
    ok = (await run_to_end(client))["execution_id"]
    failed = (await run_to_end(client, "f", labels={}))["execution_id"]
    url = f"{API}/executions/prune"

    young = (await client.post(url, json={"older_than": "1d"})).json()
    assert young["execution_ids"] == [] and young["deleted"] == 0 and not young["more"]

    # Both ended more than 0.001 s ago; "failed" narrows (the 'f' run completed with a failure).
    dry = (await client.post(url, json={"older_than": "0.001s", "dry_run": True})).json()
    assert dry["execution_ids"] == [ok, failed] and dry["deleted"] == 0 and dry["dry_run"]
    assert len((await client.get(f"{API}/executions")).json()["items"]) == 2
    one = (await client.post(url, json={"older_than": "0.001s", "limit": 1})).json()
    assert one["execution_ids"] == [ok] and one["deleted"] == 1 and one["more"] is True
    assert (await client.post(url, json={"older_than": "0.001s", "status": ["failed"]})).json()[
        "execution_ids"
    ] == []
    rest = (await client.post(url, json={"older_than": "0.001s"})).json()
    assert rest["execution_ids"] == [failed] and not rest["more"]
    assert (await client.get(f"{API}/executions")).json()["items"] == []


async def test_prune_refuses_bad_requests(client: httpx.AsyncClient) -> None:
    url = f"{API}/executions/prune"
    for body in (
        {"older_than": "30"},
        {"older_than": "30 days"},
        {"older_than": "-1d"},
        {"older_than": "0s"},
        {"older_than": "999999999w"},
        {},
        {"older_than": "1d", "status": ["running"]},
        {"older_than": "1d", "limit": 0},
        {"older_than": "1d", "extra": 1},
    ):
        problem = assert_problem(await client.post(url, json=body), 422, "invalid-request")
        assert problem["issues"], problem
