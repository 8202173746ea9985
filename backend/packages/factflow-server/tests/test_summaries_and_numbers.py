"""List items are summaries (the snapshot on request); durations carry no float noise."""

from __future__ import annotations

from datetime import timedelta

import httpx
from factflow_execution import ExecutionService
from factflow_foundation import new_id, utcnow
from factflow_protocols import LineageEntry

from .conftest import API, inline_config, run_to_end


async def test_list_items_are_summaries_and_the_snapshot_is_opt_in(
    client: httpx.AsyncClient,
) -> None:
    await client.post(f"{API}/configs", json=inline_config())
    execution_id = (await run_to_end(client, labels={"team": "a"}))["execution_id"]

    listed = await client.get(f"{API}/executions")
    assert listed.status_code == 200
    (item,) = listed.json()["items"]
    assert "config_snapshot" not in item
    assert item["id"] == execution_id and item["labels"] == {"team": "a"}
    assert item["stats"]["totals"]["processed"] == 2 and item["config_name"] == "t"

    detail = (await client.get(f"{API}/executions/{execution_id}")).json()
    assert set(detail) - set(item) == {"config_snapshot"}
    assert {k: v for k, v in detail.items() if k != "config_snapshot"} == item

    full = await client.get(f"{API}/executions", params={"include": "snapshot"})
    (with_snapshot,) = full.json()["items"]
    assert with_snapshot == detail
    assert with_snapshot["config_snapshot"]["definition"]["name"] == "t"
    assert len(full.content) > len(listed.content)

    bad = await client.get(f"{API}/executions", params={"include": "everything"})
    assert bad.status_code == 422


async def test_durations_are_rounded_to_the_microsecond(
    client: httpx.AsyncClient, service: ExecutionService
) -> None:
    """Float sums of millisecond durations pick up noise (26.235000000000003); every
    duration the API shows is rounded to the clocks' resolution instead."""
    await client.post(f"{API}/configs", json=inline_config())
    execution = await service.create_execution("t")  # pending: stats are computed live
    start = utcnow()
    micros = [26235, 100, 200]
    raw = [timedelta(microseconds=m).total_seconds() * 1000 for m in micros]
    assert raw[0] != 26.235 and sum(raw) != 26.535  # the noise this test is about
    for index, duration in enumerate(micros):
        await service.lineage.record(
            LineageEntry(
                execution_id=execution.id,
                message_id=new_id(),
                parent_message_id=None,
                origin_message_id=new_id(),
                route="src",
                status="processed",
                attempt=1,
                started_at=start + timedelta(seconds=index),
                finished_at=start + timedelta(seconds=index, microseconds=duration),
                error=None,
                payload={"i": index},
            )
        )
    await service.lineage.flush()

    stats = (await client.get(f"{API}/executions/{execution.id}/stats")).json()
    route = stats["routes"]["src"]
    assert route["duration_ms_total"] == 26.535
    assert route["duration_ms_avg"] == 8.845
    assert route["duration_ms_max"] == 26.235
    records = (await client.get(f"{API}/executions/{execution.id}/lineage")).json()["items"]
    assert [r["duration_ms"] for r in records] == [26.235, 0.1, 0.2]
    listed = (await client.get(f"{API}/executions")).json()["items"][0]
    assert listed["stats"]["routes"]["src"]["duration_ms_total"] == 26.535
