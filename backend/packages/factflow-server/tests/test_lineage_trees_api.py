"""A message's records, ancestry and descendants over the API (both databases)."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import API, assert_problem, run_to_end


def chain_config(name: str = "chain") -> dict[str, Any]:
    """src (two items) → split (each item fans out to three) → sink."""
    return {
        "name": name,
        "routes": {
            "src": {
                "adapter": {
                    "type": "inline",
                    "with": {"items": [{"text": "A one. A two. A three."}, {"text": "B one."}]},
                },
                "to": ["split"],
            },
            "split": {"processors": [{"type": "split_sentences"}], "to": ["sink"]},
            "sink": {},
        },
    }


async def _run(client: httpx.AsyncClient) -> tuple[str, list[dict[str, Any]]]:
    response = await client.post(f"{API}/configs", json=chain_config())
    assert response.status_code in (200, 201), response.text
    result = await run_to_end(client, "chain")
    assert result["status"] == "completed", result
    execution_id: str = result["execution_id"]
    records = (await client.get(f"{API}/executions/{execution_id}/lineage")).json()["items"]
    return execution_id, records


async def test_message_id_filter_gives_one_messages_records(client: httpx.AsyncClient) -> None:
    execution_id, records = await _run(client)
    sink = next(r for r in records if r["route"] == "sink")
    url = f"{API}/executions/{execution_id}/lineage"
    found = (await client.get(url, params={"message_id": sink["message_id"]})).json()
    assert [r["id"] for r in found["items"]] == [sink["id"]] and found["next_after"] is None
    none = (await client.get(url, params={"message_id": "0" * 8, "route": "sink"})).json()
    assert none["items"] == []
    bad = await client.get(url, params={"message_id": "has space"})
    assert_problem(bad, 422, "invalid-request")
    typo = assert_problem(
        await client.get(url, params={"mesage_id": sink["message_id"]}), 422, "invalid-request"
    )
    assert "message_id" in str(typo)


async def test_ancestry_is_the_chain_from_the_root_with_payloads(
    client: httpx.AsyncClient,
) -> None:
    execution_id, records = await _run(client)
    by_id = {r["message_id"]: r for r in records}
    sink = next(r for r in records if r["route"] == "sink")
    url = f"{API}/executions/{execution_id}/lineage/{sink['message_id']}/ancestry"
    body = (await client.get(url)).json()
    assert [r["route"] for r in body["items"]] == ["src", "split", "sink"]
    assert body["items"][-1]["message_id"] == sink["message_id"]
    assert body["items"][0]["parent_message_id"] is None and body["continues"] is None
    for parent, child in zip(body["items"], body["items"][1:], strict=False):
        assert child["parent_message_id"] == parent["message_id"]
        assert by_id[child["message_id"]]["payload"] == child["payload"]
    assert "text" in body["items"][0]["payload"]  # the source item, as it entered


async def test_descendants_are_the_subtree_with_depths_and_truncation(
    client: httpx.AsyncClient,
) -> None:
    execution_id, records = await _run(client)
    roots = [r for r in records if r["route"] == "src"]
    big = next(r for r in roots if r["payload"]["text"].startswith("A"))
    url = f"{API}/executions/{execution_id}/lineage/{big['message_id']}/descendants"
    whole = (await client.get(url)).json()
    assert whole["message"]["message_id"] == big["message_id"]
    assert [(n["depth"], n["route"]) for n in whole["items"]] == [(1, "split")] + [(2, "sink")] * 3
    assert whole["truncated"] is False and whole["max_depth"] == 100
    assert {n["payload"]["sentence"] for n in whole["items"] if n["route"] == "sink"} == {
        "A one.",
        "A two.",
        "A three.",
    }
    shallow = (await client.get(url, params={"depth": 1})).json()
    assert [n["route"] for n in shallow["items"]] == ["split"] and shallow["truncated"] is True
    small = (await client.get(url, params={"limit": 2})).json()
    assert len(small["items"]) == 2 and small["truncated"] is True
    exact = (await client.get(url, params={"limit": 4})).json()
    assert len(exact["items"]) == 4 and exact["truncated"] is False
    assert_problem(await client.get(url, params={"depth": 0}), 422, "invalid-request")
    assert_problem(await client.get(url, params={"limit": 10_001}), 422, "invalid-request")


async def test_unknown_messages_and_executions_are_404(client: httpx.AsyncClient) -> None:
    execution_id, records = await _run(client)
    base = f"{API}/executions/{execution_id}/lineage"
    for tail in ("ancestry", "descendants"):
        missing = assert_problem(await client.get(f"{base}/nope-123/{tail}"), 404, "not-found")
        assert "nope-123" in missing["detail"]
        other = f"{API}/executions/00000000-0000-7000-8000-000000000000/lineage"
        assert_problem(
            await client.get(f"{other}/{records[0]['message_id']}/{tail}"),
            404,
            "execution-not-found",
        )


async def test_a_replays_ancestry_says_where_it_continues(client: httpx.AsyncClient) -> None:
    execution_id, records = await _run(client)
    sink = next(r for r in records if r["route"] == "sink")
    replay = await client.post(
        f"{API}/executions/{execution_id}/replay",
        json={"mode": "ids", "message_ids": [sink["message_id"]]},
    )
    assert replay.status_code == 202, replay.text
    replay_id = replay.json()["id"]
    waited = await client.get(f"{API}/executions/{replay_id}/wait", params={"timeout": 60})
    assert waited.json()["status"] == "completed"
    body = (
        await client.get(f"{API}/executions/{replay_id}/lineage/{sink['message_id']}/ancestry")
    ).json()
    assert [r["route"] for r in body["items"]] == ["sink"]
    assert body["continues"] == {
        "execution_id": execution_id,
        "message_id": sink["parent_message_id"],
    }


async def test_payload_of_a_message_inline_or_spilled(client: httpx.AsyncClient) -> None:
    big = "word " * 20_000  # ~100 KB: over the record's inline limit, kept in storage
    config = {
        "name": "big",
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": [{"text": big}, {"text": "s"}]}},
            }
        },
    }
    await client.post(f"{API}/configs", json=config)
    execution_id = (await run_to_end(client, "big"))["execution_id"]
    records = (await client.get(f"{API}/executions/{execution_id}/lineage")).json()["items"]
    spilled = next(r for r in records if r["payload"] is None)
    inline = next(r for r in records if r["payload"] is not None)
    assert spilled["payload_ref"] and inline["payload_ref"] is None
    base = f"{API}/executions/{execution_id}/lineage"
    response = await client.get(f"{base}/{spilled['message_id']}/payload")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"text": big}
    assert (await client.get(f"{base}/{inline['message_id']}/payload")).json() == {"text": "s"}
    assert_problem(await client.get(f"{base}/nope-1/payload"), 404, "not-found")
