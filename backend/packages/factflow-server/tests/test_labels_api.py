"""``label=key:value`` filters on the execution list (both databases)."""

from __future__ import annotations

import httpx

from .conftest import API, assert_problem, inline_config, run_to_end

LABELS = [
    {"team": "search", "env": "prod"},
    {"team": "search", "env": "dev"},
    {"team": "ads", "env": "prod", "url": "http://x:1/y", "ünï code": 'q"uote'},
    {},
]


async def _runs(client: httpx.AsyncClient) -> list[str]:
    await client.post(f"{API}/configs", json=inline_config())
    ids = []
    for labels in LABELS:
        result = await run_to_end(client, labels=labels)
        ids.append(result["execution_id"])
    return ids


async def _listed(client: httpx.AsyncClient, *labels: str) -> set[str]:
    response = await client.get(f"{API}/executions", params=[("label", v) for v in labels])
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_label_filters_combine_with_and(client: httpx.AsyncClient) -> None:
    ids = await _runs(client)
    assert await _listed(client, "team:search") == {ids[0], ids[1]}
    assert await _listed(client, "env:prod") == {ids[0], ids[2]}
    assert await _listed(client, "team:search", "env:prod") == {ids[0]}
    assert await _listed(client, "team:search", "team:ads") == set()
    assert await _listed(client, "team:nobody") == set()
    assert await _listed(client, "env:pro") == set()  # whole values, not prefixes
    # The first colon splits: values may hold colons; keys may be any text.
    assert await _listed(client, "url:http://x:1/y") == {ids[2]}
    assert await _listed(client, 'ünï code:q"uote') == {ids[2]}
    assert await _listed(client) == set(ids)


async def test_labels_are_in_list_and_detail(client: httpx.AsyncClient) -> None:
    ids = await _runs(client)
    items = (await client.get(f"{API}/executions", params={"label": "team:ads"})).json()["items"]
    assert items[0]["labels"] == LABELS[2]
    detail = (await client.get(f"{API}/executions/{ids[0]}")).json()
    assert detail["labels"] == LABELS[0]


async def test_label_filters_page_with_the_cursor(client: httpx.AsyncClient) -> None:
    ids = await _runs(client)
    first = (await client.get(f"{API}/executions", params={"label": "env:prod", "limit": 1})).json()
    assert [i["id"] for i in first["items"]] == [ids[2]] and first["next_cursor"]
    rest = (
        await client.get(
            f"{API}/executions",
            params={"label": "env:prod", "limit": 1, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [i["id"] for i in rest["items"]] == [ids[0]]


async def test_malformed_label_filters_are_422_naming_them(client: httpx.AsyncClient) -> None:
    for bad in ("teamsearch", ":search", ""):
        body = assert_problem(
            await client.get(f"{API}/executions", params={"label": bad}), 422, "invalid-request"
        )
        text = str(body)
        assert "label" in text and "key:value" in text, body
    too_many = [("label", f"k{i}:v") for i in range(21)]
    assert_problem(await client.get(f"{API}/executions", params=too_many), 422, "invalid-request")
