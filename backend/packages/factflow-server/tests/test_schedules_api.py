"""``/api/v1/schedules`` on both databases: the whole life of a schedule through
HTTP, its runs listed by ``?schedule=``, and bad requests answered with problems
that name the field."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from factflow_execution import ExecutionService

from .conftest import API, assert_problem, inline_config


async def _store_config(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/configs", json=inline_config())
    assert response.status_code == 201, response.text


async def test_a_schedule_through_its_life(
    client: httpx.AsyncClient, service: ExecutionService
) -> None:
    await _store_config(client)
    created = await client.post(
        f"{API}/schedules",
        json={"name": "hourly", "config_name": "t", "interval_seconds": 3600, "labels": {"k": "v"}},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/schedules/{body['id']}"
    assert body["paused"] is False and body["catchup"] == "skip"
    first = datetime.fromisoformat(body["next_fire_at"])
    assert first.minute == 0 and first.second == 0  # interval fire times count from the epoch

    by_name = await client.get(f"{API}/schedules/hourly")
    assert by_name.json()["id"] == body["id"]
    listed = await client.get(f"{API}/schedules", params={"config": "t"})
    assert [s["name"] for s in listed.json()["items"]] == ["hourly"]

    upcoming = await client.get(f"{API}/schedules/hourly/next", params={"count": 3})
    times = [datetime.fromisoformat(t) for t in upcoming.json()["times"]]
    assert times == [first + timedelta(hours=h) for h in range(3)]

    # the fire time comes (driven here; the loop would sleep an hour)
    await service.schedules.tick(first + timedelta(milliseconds=1))
    fires = (await client.get(f"{API}/schedules/{body['id']}/fires")).json()
    (fire,) = fires["items"]
    assert fire["outcome"] == "started" and fire["claimed_by"] == service.manager.owner_id
    waited = await client.get(f"{API}/executions/{fire['execution_id']}/wait")
    assert waited.json()["status"] == "completed"
    runs = (await client.get(f"{API}/executions", params={"schedule": body["id"]})).json()
    (run,) = runs["items"]
    assert run["source"] == "schedule" and run["schedule_id"] == body["id"]
    assert run["labels"] == {"k": "v"}
    by_source = (await client.get(f"{API}/executions", params={"source": "schedule"})).json()
    assert [e["id"] for e in by_source["items"]] == [run["id"]]

    paused = (await client.post(f"{API}/schedules/hourly/pause")).json()
    assert paused["paused"] is True and paused["next_fire_at"] is None
    assert (await client.get(f"{API}/schedules", params={"paused": True})).json()["items"]
    still = await client.get(f"{API}/schedules/hourly/next")
    assert still.json()["paused"] is True and len(still.json()["times"]) == 5
    resumed = (await client.post(f"{API}/schedules/hourly/resume")).json()
    assert resumed["paused"] is False and resumed["next_fire_at"] is not None

    deleted = await client.delete(f"{API}/schedules/hourly")
    assert deleted.status_code == 200 and deleted.json()["id"] == body["id"]
    assert_problem(await client.get(f"{API}/schedules/hourly"), 404, "schedule-not-found")
    runs_after = (await client.get(f"{API}/executions", params={"schedule": body["id"]})).json()
    assert [e["id"] for e in runs_after["items"]] == [run["id"]]


async def test_bad_schedules_are_problems_naming_the_field(client: httpx.AsyncClient) -> None:
    await _store_config(client)
    base = {"name": "s", "config_name": "t"}
    cases = [
        ({**base, "cron": "0 25 * * *"}, 422, "invalid-schedule", "cron"),
        ({**base, "cron": "0 2 * * *", "timezone": "Nowhere/Land"}, 422, "invalid-schedule", ""),
        ({**base}, 422, "invalid-schedule", "exactly one of cron and interval_seconds"),
        ({**base, "interval_seconds": 0}, 422, "invalid-request", "interval_seconds"),
        ({**base, "interval_seconds": 5, "catchup": "never"}, 422, "invalid-request", "catchup"),
        ({**base, "interval_seconds": 5, "surprise": 1}, 422, "invalid-request", "surprise"),
        ({**base, "config_name": "nope", "interval_seconds": 5}, 404, "config-not-found", ""),
    ]
    for body, status, code, mention in cases:
        response = await client.post(f"{API}/schedules", json=body)
        problem = assert_problem(response, status, code)
        assert mention in problem["detail"] + str(problem.get("issues")), (body, problem)
    ok = await client.post(f"{API}/schedules", json={**base, "interval_seconds": 5})
    assert ok.status_code == 201
    again = await client.post(f"{API}/schedules", json={**base, "interval_seconds": 5})
    assert_problem(again, 409, "schedule-exists")
    assert (await client.get(f"{API}/schedules")).json()["items"][0]["name"] == "s"
    assert_problem(await client.post(f"{API}/schedules/nope/pause"), 404, "schedule-not-found")
    assert_problem(await client.delete(f"{API}/schedules/nope"), 404, "schedule-not-found")
