"""``/api/v1/executions``: list (filters, cursor), show, cancel, replay, wait, stats, dag."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from .conftest import API, Gates, assert_problem, failing_config, gated_config, inline_config


async def _store(client: httpx.AsyncClient, config: dict) -> None:
    response = await client.post(f"{API}/configs", json=config)
    assert response.status_code in (200, 201), response.text


async def _run(client: httpx.AsyncClient, name: str, **body: object) -> dict:
    response = await client.post(f"{API}/configs/{name}/run", json=body)
    assert response.status_code == 202, response.text
    execution: dict = response.json()
    return execution


async def _wait(client: httpx.AsyncClient, execution_id: str) -> dict:
    response = await client.get(f"{API}/executions/{execution_id}/wait", params={"timeout": 60})
    assert response.status_code == 200, response.text
    result: dict = response.json()
    return result


async def test_list_filters_and_cursor_pagination(client: httpx.AsyncClient) -> None:
    await _store(client, inline_config("a"))
    await _store(client, failing_config("b"))
    runs = [
        await _run(client, "a", source="cli"),
        await _run(client, "a"),
        await _run(client, "b", source="cli"),
    ]
    for run in runs:
        await _wait(client, run["id"])

    everything = await client.get(f"{API}/executions")
    assert everything.status_code == 200
    items = everything.json()["items"]
    assert [e["id"] for e in items] == [r["id"] for r in reversed(runs)]  # newest first
    assert all(e["stats"] is not None for e in items)
    assert everything.json()["next_cursor"] is None

    by_config = await client.get(f"{API}/executions", params={"config": "a"})
    assert {e["id"] for e in by_config.json()["items"]} == {runs[0]["id"], runs[1]["id"]}
    by_source = await client.get(f"{API}/executions", params={"source": "cli"})
    assert {e["id"] for e in by_source.json()["items"]} == {runs[0]["id"], runs[2]["id"]}
    statuses = {e["status"] for e in items}
    both = await client.get(f"{API}/executions", params=[("status", s) for s in statuses])
    assert len(both.json()["items"]) == 3
    one_status = await client.get(f"{API}/executions", params={"status": "cancelled"})
    assert one_status.json()["items"] == []

    created = datetime.fromisoformat(items[1]["created_at"])
    since = await client.get(f"{API}/executions", params={"since": created.isoformat()})
    assert [e["id"] for e in since.json()["items"]] == [items[0]["id"], items[1]["id"]]
    until = await client.get(f"{API}/executions", params={"until": created.isoformat()})
    assert [e["id"] for e in until.json()["items"]] == [items[2]["id"]]
    naive = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert (
        len((await client.get(f"{API}/executions", params={"until": naive})).json()["items"]) == 3
    )

    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"{API}/executions", params=params)).json()
        pages.extend(e["id"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [e["id"] for e in items]


async def test_list_rejects_bad_filters_with_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"status": "finished"},
        {"source": "mail"},
        {"limit": 0},
        {"limit": 501},
        {"since": "yesterday"},
        {"since": "-86"},  # not read as a Unix timestamp
        {"since": "0001-01-01T00:00:00+05:00"},  # out of range once in UTC
        {"config": "bad name"},
        {"cursor": "!!"},
    ):
        assert_problem(await client.get(f"{API}/executions", params=params), 422, "invalid-request")
    garbage = await client.get(f"{API}/executions", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert_problem(garbage, 422, "invalid-input")


async def test_show_by_id_and_prefix_with_stats(client: httpx.AsyncClient, gates: Gates) -> None:
    await _store(client, gated_config())
    execution = await _run(client, "t")
    await gates.wait_entered("default", 1)
    running = await client.get(f"{API}/executions/{execution['id']}")
    assert running.status_code == 200
    assert running.json()["status"] == "running"
    assert running.json()["stats"]["live"] is True
    gates.open()
    await _wait(client, execution["id"])
    by_prefix = await client.get(f"{API}/executions/{execution['id'][:13]}")
    assert by_prefix.status_code == 200
    done = by_prefix.json()
    assert done["id"] == execution["id"] and done["status"] == "completed"
    assert done["stats"]["live"] is False and done["stats"]["totals"]["processed"] == 9


async def test_unknown_short_and_ambiguous_ids(client: httpx.AsyncClient) -> None:
    await _store(client, inline_config())
    first, second = await _run(client, "t"), await _run(client, "t")
    unknown = await client.get(f"{API}/executions/ffffffff-0000")
    body = assert_problem(unknown, 404, "execution-not-found")
    assert body["id"] == "ffffffff-0000"
    assert_problem(await client.get(f"{API}/executions/01"), 404, "execution-not-found")
    assert_problem(await client.get(f"{API}/executions/bad%20id"), 422, "invalid-request")
    shared = next(
        i for i, (a, b) in enumerate(zip(first["id"], second["id"], strict=True)) if a != b
    )
    prefix = first["id"][:shared]
    assert len(prefix) >= 4  # time-ordered ids made together share their first digits
    ambiguous = await client.get(f"{API}/executions/{prefix}")
    body = assert_problem(ambiguous, 422, "ambiguous-id")
    assert set(body["candidates"]) == {first["id"], second["id"]}
    for path in ("cancel", "replay"):
        assert_problem(
            await client.post(f"{API}/executions/ffffffff-0000/{path}"),
            404,
            "execution-not-found",
        )
    for path in ("wait", "stats", "dag", "lineage", "storage/objects", "events"):
        assert_problem(
            await client.get(f"{API}/executions/ffffffff-0000/{path}"), 404, "execution-not-found"
        )
    for execution in (first, second):
        await _wait(client, execution["id"])


async def test_cancel_running_then_cancel_again_is_409(
    client: httpx.AsyncClient, gates: Gates
) -> None:
    await _store(client, gated_config())
    execution = await _run(client, "t")
    await gates.wait_entered("default", 1)
    cancelled = await client.post(
        f"{API}/executions/{execution['id']}/cancel", json={"reason": "enough"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"] == "enough"
    again = await client.post(f"{API}/executions/{execution['id']}/cancel")
    body = assert_problem(again, 409, "illegal-transition")
    assert "cancelled" in body["detail"]
    bad_body = await client.post(f"{API}/executions/{execution['id']}/cancel", json={"why": 1})
    assert_problem(bad_body, 422, "invalid-request")


async def test_replay_failed_messages_and_the_409_and_422_cases(
    client: httpx.AsyncClient, gates: Gates
) -> None:
    await _store(client, failing_config("f"))
    parent = await _run(client, "f")
    assert (await _wait(client, parent["id"]))["status"] == "completed"

    replay = await client.post(f"{API}/executions/{parent['id']}/replay", json={})
    assert replay.status_code == 202, replay.text
    child = replay.json()
    assert replay.headers["location"] == f"/api/v1/executions/{child['id']}"
    assert child["source"] == "replay" and child["parent_execution_id"] == parent["id"]
    assert child["replay_source"]["mode"] == "failed"
    await _wait(client, child["id"])

    lineage = await client.get(f"{API}/executions/{parent['id']}/lineage", params={"route": "src"})
    ids = [r["message_id"] for r in lineage.json()["items"]][:1]
    by_ids = await client.post(
        f"{API}/executions/{parent['id']}/replay",
        json={"mode": "ids", "message_ids": ids, "labels": {"why": "test"}},
    )
    assert by_ids.status_code == 202 and by_ids.json()["labels"] == {"why": "test"}
    await _wait(client, by_ids.json()["id"])

    await _store(client, inline_config("ok"))
    clean = await _run(client, "ok")
    await _wait(client, clean["id"])
    nothing = await client.post(f"{API}/executions/{clean['id']}/replay")
    assert_problem(nothing, 409, "nothing-to-replay")
    ids_without_ids = await client.post(
        f"{API}/executions/{parent['id']}/replay", json={"mode": "ids"}
    )
    assert_problem(ids_without_ids, 422, "invalid-input")
    bad_route = await client.post(
        f"{API}/executions/{parent['id']}/replay", json={"mode": "all", "route": "nowhere"}
    )
    assert_problem(bad_route, 422, "invalid-input")
    bad_mode = await client.post(f"{API}/executions/{parent['id']}/replay", json={"mode": "x"})
    assert_problem(bad_mode, 422, "invalid-request")

    await _store(client, gated_config())
    running = await _run(client, "t")
    still_running = await client.post(f"{API}/executions/{running['id']}/replay")
    assert_problem(still_running, 409, "conflict")
    gates.open()
    await _wait(client, running["id"])


async def test_wait_times_out_then_resolves(client: httpx.AsyncClient, gates: Gates) -> None:
    await _store(client, gated_config())
    execution = await _run(client, "t")
    timed_out = await client.get(f"{API}/executions/{execution['id']}/wait", params={"timeout": 0})
    assert timed_out.status_code == 200
    assert timed_out.json() == {
        "execution_id": execution["id"],
        "status": "running",
        "timed_out": True,
        "stats": None,
        "error": None,
        "finished_at": None,
    }
    waiting = asyncio.create_task(
        client.get(f"{API}/executions/{execution['id']}/wait", params={"timeout": 60})
    )
    gates.open()
    done = (await waiting).json()
    assert done["status"] == "completed" and done["timed_out"] is False
    assert done["stats"]["totals"]["processed"] == 9 and done["finished_at"] is not None
    for bad in ("-1", "301", "nan", "soon"):
        response = await client.get(
            f"{API}/executions/{execution['id']}/wait", params={"timeout": bad}
        )
        assert_problem(response, 422, "invalid-request")


async def test_stats_and_dag(client: httpx.AsyncClient) -> None:
    await _store(client, inline_config(items=[{"n": 1}, {"n": 2}]))
    execution = await _run(client, "t")
    await _wait(client, execution["id"])
    stats = await client.get(f"{API}/executions/{execution['id']}/stats")
    assert stats.status_code == 200
    assert stats.json()["routes"]["src"]["processed"] == 2
    assert stats.json()["storage_objects"] == 2
    dag = await client.get(f"{API}/executions/{execution['id']}/dag")
    assert dag.status_code == 200
    body = dag.json()
    assert body["status"] == "completed"
    assert {(n["id"], n["kind"]) for n in body["nodes"]} == {("src", "source"), ("sink", "sink")}
    assert [(e["source"], e["target"], e["messages"]) for e in body["edges"]] == [
        ("src", "sink", 2)
    ]


async def test_resume_a_cancelled_execution_and_the_404_and_409_cases(
    client: httpx.AsyncClient, gates: Gates
) -> None:
    await _store(client, gated_config(items=4))
    parent = await _run(client, "t")
    await gates.wait_entered("default", 1)
    cancel = await client.post(f"{API}/executions/{parent['id']}/cancel")
    assert cancel.json()["status"] == "cancelled"
    cancelled = await client.post(
        f"{API}/executions/{parent['id']}/replay", json={"mode": "cancelled"}
    )
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["replay_source"]["mode"] == "cancelled"
    replayed = await client.post(
        f"{API}/executions/{cancelled.json()['id']}/cancel", json={"reason": "not this way"}
    )
    assert replayed.json()["status"] in ("cancelled", "completed")
    gates.open()

    resumed = await client.post(
        f"{API}/executions/{parent['id'][:13]}/resume", json={"labels": {"why": "finish"}}
    )
    assert resumed.status_code == 201, resumed.text
    child = resumed.json()
    assert resumed.headers["location"] == f"/api/v1/executions/{child['id']}"
    assert child["source"] == "resume" and child["parent_execution_id"] == parent["id"]
    assert child["labels"] == {"why": "finish"} and child["replay_source"] is None
    done = await _wait(client, child["id"])
    assert done["status"] == "completed"
    stats = (await client.get(f"{API}/executions/{parent['id']}/stats")).json()
    # Parent and resume together processed every message once at each route.
    for route in ("src", "hold", "sink"):
        assert (
            stats["routes"][route]["processed"] + done["stats"]["routes"][route]["processed"] == 4
        ), route

    again = await client.post(f"{API}/executions/{parent['id']}/resume")
    body = assert_problem(again, 409, "conflict")
    assert child["id"] in body["detail"] and body["resumed_by"] == child["id"]
    finished = await client.post(f"{API}/executions/{child['id']}/resume")
    body = assert_problem(finished, 409, "illegal-transition")
    assert "only cancelled or interrupted executions can be resumed" in body["detail"]
    assert_problem(
        await client.post(f"{API}/executions/ffffffff-0000/resume"), 404, "execution-not-found"
    )
    bad_body = await client.post(f"{API}/executions/{parent['id']}/resume", json={"x": 1})
    assert_problem(bad_body, 422, "invalid-request")
