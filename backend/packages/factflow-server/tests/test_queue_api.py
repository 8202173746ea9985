"""The run queue over HTTP: a run over capacity is accepted ``pending`` with its
``queue_position`` (202), shown in the execution views and ``GET /queue``,
cancellable before it starts, and started when a slot frees; per-config
limits (``/configs/{name}/limit``) hold runs back or, with ``?queue=false``,
refuse them with 503 ``config-limit-reached``."""

from __future__ import annotations

from factflow_foundation import FactFlowSettings
from factflow_server import create_app

from .conftest import (
    API,
    Gates,
    ServiceFactory,
    asgi_client,
    assert_problem,
    gated_config,
    inline_config,
)


async def test_a_run_over_capacity_waits_in_the_queue_and_starts_when_a_slot_frees(
    settings: FactFlowSettings, make_service: ServiceFactory, gates: Gates
) -> None:
    service = await make_service(max_running_executions=1)
    async with asgi_client(create_app(settings, service=service)) as client:
        await client.post(f"{API}/configs", json=gated_config(items=1))
        running = await client.post(f"{API}/configs/t/run")
        assert running.status_code == 202 and running.json()["status"] == "running"
        assert running.json()["queue_position"] is None
        second = await client.post(f"{API}/configs/t/run")
        third = await client.post(f"{API}/configs/t/run", json={"priority": 3})
        for answer in (second, third):
            assert answer.status_code == 202, answer.text
            assert answer.json()["status"] == "pending"
            assert answer.headers["location"] == f"{API}/executions/{answer.json()['id']}"
        assert second.json()["queue_position"] == 1
        assert third.json()["queue_position"] == 1  # higher priority: ahead of the second
        shown = await client.get(f"{API}/executions/{second.json()['id']}")
        assert shown.json()["queue_position"] == 2
        listed = await client.get(f"{API}/executions", params={"status": "pending"})
        positions = {e["id"]: e["queue_position"] for e in listed.json()["items"]}
        assert positions == {third.json()["id"]: 1, second.json()["id"]: 2}
        queue = (await client.get(f"{API}/queue")).json()
        assert [i["execution_id"] for i in queue["items"]] == [
            third.json()["id"],
            second.json()["id"],
        ]
        assert (queue["total"], queue["capacity"], queue["running_here"]) == (2, 1, 1)
        assert [i["priority"] for i in queue["items"]] == [3, 0]

        cancelled = await client.post(f"{API}/executions/{third.json()['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert cancelled.json()["started_at"] is None
        assert (await client.get(f"{API}/queue")).json()["total"] == 1

        waited = await client.get(
            f"{API}/executions/{second.json()['id']}/wait", params={"timeout": 0}
        )
        assert waited.json()["timed_out"] and waited.json()["status"] == "pending"
        gates.open()
        for answer in (running, second):
            end = await client.get(f"{API}/executions/{answer.json()['id']}/wait")
            assert end.json()["status"] == "completed", end.text
        assert (await client.get(f"{API}/queue")).json()["total"] == 0


async def test_config_limits_hold_runs_back_and_queue_false_refuses_with_503(
    settings: FactFlowSettings, make_service: ServiceFactory, gates: Gates
) -> None:
    service = await make_service(max_running_executions=10)
    async with asgi_client(create_app(settings, service=service)) as client:
        await client.post(f"{API}/configs", json=gated_config(items=1))
        await client.post(f"{API}/configs", json=inline_config("free"))
        unlimited = await client.get(f"{API}/configs/t/limit")
        assert unlimited.json() == {
            "config_name": "t",
            "max_running": None,
            "running": 0,
            "queued": 0,
            "updated_at": None,
        }
        assert_problem(await client.get(f"{API}/configs/nope/limit"), 404, "config-not-found")
        assert_problem(
            await client.put(f"{API}/configs/t/limit", json={"max_running": -1}),
            422,
            "invalid-request",
        )
        set_ = await client.put(f"{API}/configs/t/limit", json={"max_running": 1})
        assert set_.status_code == 200 and set_.json()["max_running"] == 1
        first = await client.post(f"{API}/configs/t/run")
        held = await client.post(f"{API}/configs/t/run")
        assert first.json()["status"] == "running"
        assert held.json()["status"] == "pending" and held.json()["queue_position"] == 1
        refused = await client.post(f"{API}/configs/t/run", params={"queue": "false"})
        body = assert_problem(refused, 503, "config-limit-reached")
        assert refused.headers["retry-after"] == "5"
        assert body["max_running"] == 1
        other = await client.post(f"{API}/configs/free/run")  # passes the held run
        assert other.json()["status"] == "running"
        shown = (await client.get(f"{API}/configs/t/limit")).json()
        assert (shown["running"], shown["queued"]) == (1, 1)
        assert [
            lim["config_name"] for lim in (await client.get(f"{API}/queue")).json()["limits"]
        ] == ["t"]

        raised = await client.put(f"{API}/configs/t/limit", json={"max_running": 2})
        assert raised.json()["max_running"] == 2
        await service.run_queue.pump()  # after the pass the raise woke, if it is under way
        started = await client.get(f"{API}/executions/{held.json()['id']}")
        assert started.json()["status"] == "running" and started.json()["queue_position"] is None
        gates.open()
        for answer in (first, held):
            end = await client.get(f"{API}/executions/{answer.json()['id']}/wait")
            assert end.json()["status"] == "completed", end.text
        removed = await client.delete(f"{API}/configs/t/limit")
        assert removed.status_code == 200 and removed.json()["max_running"] is None
        assert (await client.get(f"{API}/queue")).json()["limits"] == []
