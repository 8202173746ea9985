"""Unknown query parameters are a 422 naming them, on every endpoint (one mechanism)."""

from __future__ import annotations

import httpx

from .conftest import API, assert_problem, inline_config, run_to_end


async def test_an_unknown_query_parameter_is_a_422_naming_it(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/configs", json=inline_config())
    execution_id = (await run_to_end(client))["execution_id"]

    typo = await client.get(f"{API}/executions", params={"stauts": "failed", "limit": 5})
    body = assert_problem(typo, 422, "invalid-request")
    assert [issue["path"] for issue in body["issues"]] == ["query.stauts"]
    assert "did you mean 'status'?" in body["issues"][0]["message"]
    assert "stauts" in body["detail"]

    # The complaint of the issue: ?message_id=X was ignored and everything returned.
    lineage = await client.get(
        f"{API}/executions/{execution_id}/lineage", params={"bogus": "1", "other": "2"}
    )
    body = assert_problem(lineage, 422, "invalid-request")
    assert [issue["path"] for issue in body["issues"]] == ["query.bogus", "query.other"]
    assert "this endpoint takes" in body["issues"][0]["message"]

    no_params = await client.get(f"{API}/executions/{execution_id}/dag", params={"x": "1"})
    body = assert_problem(no_params, 422, "invalid-request")
    assert "takes no query parameters" in body["issues"][0]["message"]
    assert_problem(
        await client.get(f"{API}/executions/{execution_id}/events", params={"from": "3"}),
        422,
        "invalid-request",
    )
    assert_problem(
        await client.post(f"{API}/configs/t/run", params={"dry_run": "1"}),
        422,
        "invalid-request",
    )
    # Declared ones still work; probes answer whatever a balancer appends.
    assert (await client.get(f"{API}/executions", params={"limit": 1})).status_code == 200
    assert (await client.get("/healthz", params={"probe": "lb"})).status_code == 200
    assert (await client.get("/readyz", params={"probe": "lb"})).status_code == 200


async def test_every_operation_is_covered_by_the_one_mechanism(client: httpx.AsyncClient) -> None:
    """Each documented operation (outside the probes) refuses an unknown parameter;
    a new route cannot forget it, because nothing is per route."""
    await client.post(f"{API}/configs", json=inline_config())
    execution_id = (await run_to_end(client))["execution_id"]
    document = (await client.get("/openapi.json")).json()
    checked = 0
    for template, item in document["paths"].items():
        if template in ("/healthz", "/readyz"):
            continue
        path = template.replace("{execution_id}", execution_id).replace("{name}", "t")
        path = path.replace("{key}", "k").replace("{kind}", "processor")
        for method in item:
            response = await client.request(method, path, params={"zz_unknown": "1"})
            body = assert_problem(response, 422, "invalid-request")
            assert "query.zz_unknown" in [i["path"] for i in body["issues"]], (method, path)
            checked += 1
    probes = ("/healthz", "/readyz")
    assert checked == sum(len(i) for p, i in document["paths"].items() if p not in probes)
    assert checked >= 18
